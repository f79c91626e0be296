// file(path) read by several instances: byte-range splits aligned to line
// starts, their assignment, provenance, lent lines, checkpoints, and the byte
// bound of one read.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "support/test_data.hpp"
#include "weir/io/detail/line_reader.hpp"
#include "weir/io/sources.hpp"
#include "weir/operators/snapshot.hpp"

using weir::records;
using weir::io::read_result;
namespace fs = std::filesystem;

namespace {

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

// "\n" ends a line, one '\r' before it is dropped, a non-empty tail is a line.
std::vector<std::string> naive_split(const std::string& s) {
  std::vector<std::string> v;
  std::string cur;
  for (char c : s) {
    if (c == '\n') {
      if (!cur.empty() && cur.back() == '\r') cur.pop_back();
      v.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) v.push_back(cur);
  return v;
}

/// Unique lines "L<k>" plus 0..max_pad 'x's, some ending in "\r\n", the
/// last one maybe without a terminator.
std::string numbered_text(std::mt19937_64& rng, int lines, int max_pad) {
  std::string s;
  for (int k = 0; k < lines; ++k) {
    s += "L" + std::to_string(k) + std::string(rng() % static_cast<unsigned>(max_pad + 1), 'x');
    if (k + 1 < lines || rng() % 2) s += rng() % 4 == 0 ? "\r\n" : "\n";
  }
  return s;
}

struct read_line {
  std::string text;
  std::string origin;  // "PATH:LINE"
};

/// Reads an opened instance to its end, `max` records per call, taking each
/// record's provenance right after its read (as a decoder does).
std::vector<read_line> drain(weir::io::source_reader& src, std::size_t max, int stop_after_calls = -1) {
  std::vector<read_line> out;
  for (int calls = 0; calls != stop_after_calls; ++calls) {
    records rs;
    auto r = src.read(rs, max);
    REQUIRE(rs.size() <= max);
    for (std::size_t i = 0; i < rs.size(); ++i) {
      REQUIRE(rs[i].is_string());
      out.push_back({std::string(rs[i].as_string()), src.origin()->describe(i)});
    }
    if (r.st == read_result::status::end) break;
    REQUIRE(r.st == read_result::status::more);
  }
  return out;
}

/// Every line's provenance is its true line number ("L<k>" is line k + 1).
void check_origins(const std::vector<read_line>& got, const std::string& path) {
  for (auto& l : got) {
    REQUIRE(l.text.rfind('L', 0) == 0);
    const std::string k = l.text.substr(1, l.text.find_first_not_of("0123456789", 1) - 1);
    CHECK(l.origin == path + ":" + std::to_string(std::stoll(k) + 1));
  }
}

}  // namespace

TEST_CASE("file splits: every file cut into contiguous splits, the instances get about the same bytes",
          "[io][file][splits]") {
  auto p = weir::io::plan_file_splits({"a", "b", "c"}, {1000, 10, 0}, 3, 100);
  CHECK(p.split_bytes == 337);  // ceil(1010 / 3) > 100
  std::map<std::size_t, std::vector<weir::io::file_split>> by_file;
  std::vector<std::uint64_t> load;
  for (auto& inst : p.instances) {
    std::uint64_t b = 0;
    for (std::size_t i = 0; i < inst.size(); ++i) {
      b += inst[i].bytes;
      by_file[inst[i].file].push_back(inst[i]);
      if (i > 0) CHECK((inst[i - 1].file < inst[i].file || inst[i - 1].start < inst[i].start));  // in order
    }
    load.push_back(b);
  }
  CHECK(p.splits == 5);  // 3 of a, 1 of b, 1 (empty) of c
  std::size_t counted = 0;
  for (auto& [f, splits] : by_file) {
    std::sort(splits.begin(), splits.end(), [](auto& x, auto& y) { return x.start < y.start; });
    CHECK(splits.front().start == 0);
    for (std::size_t i = 1; i < splits.size(); ++i) CHECK(splits[i].start == splits[i - 1].end);
    CHECK(splits.back().end == ~std::uint64_t{0});  // the last split reads to the file's end
    counted += splits.size();
  }
  CHECK(counted == p.splits);
  CHECK(*std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end()) <= p.split_bytes);
  CHECK_THROWS_WITH(weir::io::plan_file_splits({"a"}, {1}, 0), Catch::Contains("parallelism must be >= 1"));
}

TEST_CASE("file splits: P instances read every line exactly once, in file order each, with the true file:line",
          "[io][file][splits]") {
  weir::test::temp_dir tmp;
  const auto path = (tmp.path / "in.txt").string();
  std::mt19937_64 rng(7);
  for (int round = 0; round < 40; ++round) {
    const int n = 1 + static_cast<int>(rng() % 300);
    const std::string text = numbered_text(rng, n, round % 3 == 0 ? 40 : 3);
    write_bytes(path, text);
    const auto want = naive_split(text);
    for (int par : {2, 3, 5}) {
      for (std::uint64_t min_split : {1, 7, 64}) {
        INFO("round " << round << ", " << n << " lines, parallelism " << par << ", min split " << min_split);
        auto make = weir::io::make_file_source_parts(path, 64u << 20, min_split);
        std::vector<std::string> all;
        for (int i = 0; i < par; ++i) {
          auto src = make(i, par);
          src->open();
          auto got = drain(*src, 1 + rng() % 9);
          check_origins(got, path);
          std::vector<std::size_t> idx;
          for (auto& l : got) {
            all.push_back(l.text);
            idx.push_back(static_cast<std::size_t>(std::stoll(l.text.substr(1))));
          }
          CHECK(std::is_sorted(idx.begin(), idx.end()));
          CHECK(src->progress().done == src->progress().total);
        }
        std::sort(all.begin(), all.end());
        auto sorted = want;
        std::sort(sorted.begin(), sorted.end());
        REQUIRE(all == sorted);
      }
    }
  }
}

TEST_CASE("file splits: empty lines, CRLF, a line over a split boundary and an empty file", "[io][file][splits]") {
  weir::test::temp_dir tmp;
  const auto path = (tmp.path / "in.txt").string();
  for (const std::string& text :
       {std::string(), std::string("\n"), std::string("\n\n\n\n"), std::string("a\r\n\r\nb\n\nc"),
        std::string(100, 'y') + "\nz\n", std::string("only line no newline")}) {
    write_bytes(path, text);
    for (int par : {2, 4}) {
      INFO("text \"" << text << "\", parallelism " << par);
      auto make = weir::io::make_file_source_parts(path, 64u << 20, 3);
      std::vector<std::string> all;
      for (int i = 0; i < par; ++i) {
        auto src = make(i, par);
        src->open();
        for (auto& l : drain(*src, 2)) all.push_back(l.text);
      }
      std::sort(all.begin(), all.end());
      auto want = naive_split(text);
      std::sort(want.begin(), want.end());
      CHECK(all == want);
    }
  }
}

TEST_CASE("file splits: a glob is split over its files, provenance names each file", "[io][file][splits]") {
  weir::test::temp_dir tmp;
  std::mt19937_64 rng(11);
  std::map<std::string, std::vector<std::string>> want;
  for (int f = 0; f < 4; ++f) {
    const auto p = (tmp.path / ("part-" + std::to_string(f) + ".log")).string();
    const std::string text = numbered_text(rng, 20 + 30 * f, 10);
    write_bytes(p, text);
    want[p] = naive_split(text);
  }
  auto make = weir::io::make_file_source_parts((tmp.path / "*.log").string(), 64u << 20, 50);
  std::map<std::string, std::vector<std::string>> got;
  for (int i = 0; i < 3; ++i) {
    auto src = make(i, 3);
    src->open();
    for (auto& l : drain(*src, 5)) {
      const std::string file = l.origin.substr(0, l.origin.rfind(':'));
      got[file].push_back(l.text);
      check_origins({l}, file);
    }
  }
  for (auto& [f, lines] : want) {
    auto g = got[f];
    std::sort(g.begin(), g.end());
    std::sort(lines.begin(), lines.end());
    CHECK(g == lines);
  }
  CHECK_THROWS_WITH(weir::io::make_file_source_parts((tmp.path / "*.none").string())(0, 2),
                    Catch::Contains("no file matches the pattern"));
  CHECK_THROWS_WITH(weir::io::make_file_source_parts((tmp.path / "missing.txt").string())(0, 2),
                    Catch::Contains("cannot open"));
  CHECK(weir::io::describe_file_splits((tmp.path / "*.log").string(), 3, 50).find("over 4 files") !=
        std::string::npos);
}

TEST_CASE("file splits: lines lent in place for the JSON decoder, as file(path)'s", "[io][file][splits]") {
  weir::test::temp_dir tmp;
  const auto path = (tmp.path / "in.jsonl").string();
  std::string text;
  for (int k = 0; k < 500; ++k) text += "{\"k\":" + std::to_string(k) + "}\n";
  write_bytes(path, text);
  auto make = weir::io::make_file_source_parts(path, 64u << 20, 100);
  std::vector<std::string> all;
  for (int i = 0; i < 2; ++i) {
    auto src = make(i, 2);
    src->open();
    auto* lo = dynamic_cast<const weir::io::detail::lines_origin*>(src->origin());
    REQUIRE(lo != nullptr);
    lo->lend_lines();
    for (;;) {
      records rs;
      auto r = src->read(rs, 64);
      auto lent = lo->lent();
      REQUIRE(lent.size() == rs.size());
      for (std::size_t j = 0; j < lent.size(); ++j) {
        CHECK(rs[j].is_null());  // placeholders
        all.emplace_back(lent[j]);
      }
      if (r.st == read_result::status::end) break;
    }
  }
  std::sort(all.begin(), all.end());
  auto want = naive_split(text);
  std::sort(want.begin(), want.end());
  CHECK(all == want);
}

TEST_CASE("file splits: a restore resumes each instance exactly (no loss, no duplicate, the same file:line)",
          "[io][file][splits][checkpoint]") {
  weir::test::temp_dir tmp;
  const auto path = (tmp.path / "in.txt").string();
  std::mt19937_64 rng(3);
  const std::string text = numbered_text(rng, 2000, 20);
  write_bytes(path, text);
  for (int round = 0; round < 20; ++round) {
    const int par = 2 + round % 3;
    INFO("round " << round << ", parallelism " << par);
    auto make = weir::io::make_file_source_parts(path, 64u << 20, 500);
    std::vector<std::unique_ptr<weir::io::source_reader>> first;
    for (int i = 0; i < par; ++i) first.push_back(make(i, par));
    std::vector<std::string> all;
    std::vector<std::string> positions;
    for (int i = 0; i < par; ++i) {
      first[i]->open();
      auto got = drain(*first[i], 1 + rng() % 50, static_cast<int>(rng() % 30));
      check_origins(got, path);
      for (auto& l : got) all.push_back(l.text);
      weir::state_writer w;
      first[i]->snapshot_position(w);
      positions.push_back(w.bytes());
      CHECK(first[i]->describe_position().find("instance " + std::to_string(i) + " of " + std::to_string(par)) == 0);
    }
    // a new run: the same parallelism, each instance restored
    auto again = weir::io::make_file_source_parts(path, 64u << 20, 500);
    for (int i = 0; i < par; ++i) {
      auto src = again(i, par);
      src->open();
      weir::state_reader r(positions[static_cast<std::size_t>(i)], "position");
      src->restore_position(r);
      auto got = drain(*src, 1 + rng() % 50);
      check_origins(got, path);
      for (auto& l : got) all.push_back(l.text);
    }
    std::sort(all.begin(), all.end());
    auto want = naive_split(text);
    std::sort(want.begin(), want.end());
    REQUIRE(all == want);
    // another parallelism: refused, naming both
    auto other = weir::io::make_file_source_parts(path, 64u << 20, 500);
    auto src = other(0, par + 1);
    src->open();
    weir::state_reader r(positions[0], "position");
    CHECK_THROWS_WITH(src->restore_position(r), Catch::Contains("parallelism " + std::to_string(par)) &&
                                                    Catch::Contains("parallelism " + std::to_string(par + 1)));
  }
}

TEST_CASE("line reader: one read holds at most about 1 MiB of lines (long lines), then says bytes_full",
          "[io][file]") {
  weir::test::temp_dir tmp;
  const auto path = (tmp.path / "long.txt").string();
  const std::string line(200'000, 'w');
  std::string text;
  for (int i = 0; i < 40; ++i) text += line + "\n";
  write_bytes(path, text);
  auto src = weir::io::make_file_source(path);
  src->open();
  std::size_t total = 0, reads = 0;
  for (;;) {
    records rs;
    auto r = src->read(rs, 1024);
    total += rs.size();
    if (r.st == read_result::status::end) break;
    ++reads;
    CHECK(rs.size() <= weir::io::read_bytes_bound / line.size() + 1);  // 6 lines of 200 KB, not 40
    CHECK(r.bytes_full == (rs.size() * line.size() >= weir::io::read_bytes_bound));
  }
  CHECK(total == 40);
  CHECK(reads >= 40 / (weir::io::read_bytes_bound / line.size() + 1));
  // short lines: the record bound comes first
  const auto short_path = (tmp.path / "short.txt").string();
  write_bytes(short_path, std::string(5000, 'a') + "\n" + "b\nc\nd\n");
  auto s = weir::io::make_file_source(short_path);
  s->open();
  records rs;
  auto r = s->read(rs, 3);
  CHECK(rs.size() == 3);
  CHECK_FALSE(r.bytes_full);
}

TEST_CASE("dir(...) instances: each file is read whole by the one instance its name hashes to",
          "[io][dir][splits]") {
  weir::test::temp_dir tmp;
  std::vector<std::string> want;
  for (int f = 0; f < 12; ++f) {
    std::string text;
    for (int k = 0; k < 5; ++k) {
      text += "f" + std::to_string(f) + "-" + std::to_string(k) + "\n";
      want.push_back("f" + std::to_string(f) + "-" + std::to_string(k));
    }
    write_bytes(tmp.path / ("file-" + std::to_string(f) + ".txt"), text);
  }
  std::vector<std::string> all;
  std::vector<std::size_t> per_instance;
  for (int i = 0; i < 3; ++i) {
    weir::io::dir_options o;
    o.include_existing = true;
    o.instance = i;
    o.instances = 3;
    auto src = weir::io::make_dir_source(tmp.path.string(), o);
    src->open();
    std::size_t got = 0;
    for (int calls = 0; calls < 100; ++calls) {
      records rs;
      auto r = src->read(rs, 7);
      for (auto& v : rs) all.emplace_back(v.as_string());
      got += rs.size();
      if (r.st == read_result::status::idle) break;  // everything queued at start was read
    }
    per_instance.push_back(got);
  }
  std::sort(all.begin(), all.end());
  std::sort(want.begin(), want.end());
  CHECK(all == want);
  CHECK(std::count(per_instance.begin(), per_instance.end(), 0u) < 3);
  weir::io::dir_options bad;
  bad.instance = 3;
  bad.instances = 3;
  CHECK_THROWS_WITH(weir::io::make_dir_source(tmp.path.string(), bad), Catch::Contains("instance 3 of 3"));
}
