// file(path) receiver and the line splitter it shares with stdin.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/test_data.hpp"
#include "weir/io/detail/line_reader.hpp"
#include "weir/io/sources.hpp"

using weir::records;
using weir::value;
using weir::io::read_result;

namespace {

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

// Reads an opened source until `end`; at most `limit` calls.
records read_all(weir::io::source_reader& src, std::size_t max = 1000) {
  records out;
  for (int calls = 0; calls < 10'000'000; ++calls) {
    auto r = src.read(out, max);
    if (r.st == read_result::status::end) return out;
    REQUIRE(r.st == read_result::status::more);  // a file is never idle
  }
  FAIL("file source did not end");
  return out;
}

std::vector<std::string> strings(const records& rs) {
  std::vector<std::string> v;
  for (auto& r : rs) {
    REQUIRE(r.is_string());
    v.emplace_back(r.as_string());
  }
  return v;
}

// Reference splitter: "\n" ends a line, one '\r' before it is dropped, a
// non-empty tail is a last line.
std::vector<std::string> naive_split(const std::string& s) {
  std::vector<std::string> v;
  std::string cur;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') {
      if (!cur.empty() && cur.back() == '\r') cur.pop_back();
      v.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(s[i]);
    }
  }
  if (!cur.empty()) v.push_back(cur);
  return v;
}

}  // namespace

TEST_CASE("file source keeps every byte of every line", "[io][file]") {
  weir::test::temp_dir dir;
  auto path = dir.path / "mixed.txt";
  std::string big(1u << 20, ' ');  // a 1 MiB line, varied content
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  const std::vector<std::string> expected = {
      "alpha",                  // CRLF
      "",                       // empty line (LF)
      "",                       // empty line (CRLF)
      "bad \xff\xfe utf8 \xc3",  // invalid UTF-8, kept as is
      "tab\there",
      "lone\rcarriage return",  // a '\r' not before '\n' is data
      "trailing cr\r",          // "\r\r\n": only one '\r' belongs to the terminator
      big,
      "caf\xc3\xa9",
      "last line without newline",
  };
  write_file(path, "alpha\r\n\n\r\nbad \xff\xfe utf8 \xc3\ntab\there\nlone\rcarriage return\n"
                   "trailing cr\r\r\n" + big + "\ncaf\xc3\xa9\r\nlast line without newline");

  auto src = weir::io::make_file_source(path.string());
  CHECK(src->describe() == "file(\"" + path.string() + "\")");
  src->open();

  SECTION("a few lines per call") {
    records out;
    auto r = src->read(out, 3);
    CHECK(r.st == read_result::status::more);
    CHECK(out.size() == 3);
    auto rest = read_all(*src, 3);
    for (auto& v : rest) out.push_back(v);
    CHECK(strings(out) == expected);
  }
  SECTION("all lines in one call, then end") {
    auto out = read_all(*src, 100);
    CHECK(strings(out) == expected);
    records more;
    CHECK(src->read(more, 100).st == read_result::status::end);
    CHECK(more.empty());
  }
  src->close();
}

TEST_CASE("file source: empty files and lone or final newlines", "[io][file]") {
  weir::test::temp_dir dir;
  auto check = [&](const std::string& content, const std::vector<std::string>& expected) {
    auto path = dir.path / "f.txt";
    write_file(path, content);
    auto src = weir::io::make_file_source(path.string());
    src->open();
    CHECK(strings(read_all(*src)) == expected);
    src->close();
  };
  check("", {});
  check("\n", {""});
  check("\r\n", {""});
  check("\n\n", {"", ""});
  check("a\nb\n", {"a", "b"});
  check("a\nb", {"a", "b"});
  check("x", {"x"});
}

TEST_CASE("file source: missing or unreadable file is a one-line pipeline_error", "[io][file]") {
  weir::test::temp_dir dir;
  auto missing = (dir.path / "no-such-file.txt").string();
  auto src = weir::io::make_file_source(missing);
  REQUIRE_THROWS_AS(src->open(), weir::pipeline_error);
  REQUIRE_THROWS_WITH(src->open(),
                      "file(\"" + missing + "\"): cannot open: No such file or directory");
  src->close();  // allowed after a failed open

  auto as_dir = weir::io::make_file_source(dir.path.string());
  REQUIRE_THROWS_WITH(as_dir->open(),
                      "file(\"" + dir.path.string() + "\"): cannot open: Is a directory");

  records out;
  REQUIRE_THROWS_AS(weir::io::make_file_source(missing)->read(out, 10), weir::pipeline_error);
}

TEST_CASE("file source: a line longer than max_line_bytes names path:line", "[io][file]") {
  weir::test::temp_dir dir;
  auto path = (dir.path / "long.txt").string();
  write_file(path, "0123456789\r\nshort\n0123456789A\nafter\n");

  SECTION("limit 10: the third line is too long") {
    auto src = weir::io::make_file_source(path, 10);
    src->open();
    records out;
    try {
      for (int i = 0; i < 10; ++i) src->read(out, 1);
      FAIL("no error");
    } catch (const weir::record_error& e) {
      CHECK(std::string(e.what()) == path + ":3: line longer than 10 bytes");
    }
    CHECK(strings(out) == std::vector<std::string>{"0123456789", "short"});
  }
  SECTION("limit 11: every line fits") {
    auto src = weir::io::make_file_source(path, 11);
    src->open();
    CHECK(read_all(*src).size() == 4);
  }
  SECTION("a last line without newline is checked too") {
    write_file(path, "ok\n0123456789A");
    auto src = weir::io::make_file_source(path, 10);
    src->open();
    REQUIRE_THROWS_WITH(read_all(*src), path + ":2: line longer than 10 bytes");
  }
  SECTION("a huge line fails before it is buffered whole") {
    write_file(path, std::string(3u << 20, 'x') + "\n");
    auto src = weir::io::make_file_source(path, 1000);
    src->open();
    REQUIRE_THROWS_WITH(read_all(*src), path + ":1: line longer than 1000 bytes");
  }
}

TEST_CASE("line_reader matches a reference splitter for any chunk size", "[io][file]") {
  // Small chunks put "\r\n" and lines across read(2) boundaries.
  weir::test::temp_dir dir;
  auto path = dir.path / "random.txt";
  std::string content;
  std::uint64_t x = 12345;
  const char alphabet[] = {'a', 'b', '\r', '\n', '\n', '\xff', ' ', 'z'};
  for (int i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    content.push_back(alphabet[(x >> 33) % sizeof(alphabet)]);
  }
  content += std::string(5000, 'q');  // a line longer than the chunks, no newline
  write_file(path, content);
  auto expected = naive_split(content);

  for (std::size_t chunk : {16, 17, 64, 1000, 4096, 1 << 18}) {
    for (std::size_t max : {1, 7, 100000}) {
      INFO("chunk " << chunk << ", max " << max);
      int fd = ::open(path.c_str(), O_RDONLY);
      REQUIRE(fd >= 0);
      weir::io::detail::line_reader lr("test", "random.txt", 1u << 20, chunk);
      lr.attach(fd);
      records out;
      for (;;) {
        std::size_t before = out.size();
        auto r = lr.read(out, max, false);
        CHECK(out.size() - before <= max);
        if (r.st == read_result::status::end) break;
      }
      ::close(fd);
      CHECK(strings(out) == expected);
      CHECK(lr.lines() == expected.size());
    }
  }
}

TEST_CASE("line_reader lends lines in place: the same lines, padded, valid until the next read", "[io][file]") {
  weir::test::temp_dir dir;
  auto path = dir.path / "lent.txt";
  std::string content;
  std::uint64_t x = 777;
  const char alphabet[] = {'a', 'b', '\r', '\n', '\n', '\xff', ' ', 'z', 'y', 'x'};
  for (int i = 0; i < 30000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    content.push_back(alphabet[(x >> 33) % sizeof(alphabet)]);
  }
  content += std::string(3000, 'q');  // a last line longer than the small chunks, no newline
  write_file(path, content);
  const auto expected = naive_split(content);
  using weir::io::detail::line_reader;

  for (std::size_t chunk : {16, 17, 64, 1000, 1 << 18}) {
    for (std::size_t max : {1, 7, 300, 100000}) {
      INFO("chunk " << chunk << ", max " << max);
      int fd = ::open(path.c_str(), O_RDONLY);
      REQUIRE(fd >= 0);
      line_reader lr("test", "lent.txt", 1u << 20, chunk);
      lr.attach(fd);
      records first;
      lr.read(first, 3, false);  // strings until lending is asked for
      REQUIRE(first.size() == 3);
      CHECK(lr.lent().empty());
      std::vector<std::string> got = strings(first);
      lr.lend_lines();
      std::size_t reads = 0;
      for (;;) {
        records out;
        auto r = lr.read(out, max, false);
        ++reads;
        CHECK(out.size() <= max);
        REQUIRE(lr.lent().size() == out.size());
        for (std::size_t i = 0; i < out.size(); ++i) {
          CHECK(out[i].is_null());  // placeholders: the text is lent
          std::string_view t = lr.lent()[i];
          // the padding after each line is readable (ASan checks the reads)
          volatile char last = t.data()[t.size() + line_reader::padding - 1];
          (void)last;
          got.emplace_back(t);  // still intact after the whole read
        }
        if (r.st == read_result::status::end) break;
      }
      ::close(fd);
      CHECK(got == expected);
      CHECK(lr.lines() == expected.size());
      // a read ends early only when lent text fills both buffers
      CHECK(reads <= expected.size() / max + content.size() / chunk + 3);
    }
  }
}

TEST_CASE("file source reads the real Apache access log", "[io][file][data]") {
  auto p = weir::test::data_file("apache_access_elastic/apache_logs");
  if (!p) {
    WARN("SKIPPED: shared data apache_access_elastic/apache_logs not found (set WEIR_DATA)");
    return;
  }
  auto src = weir::io::make_file_source(p->string());
  src->open();
  auto lines = read_all(*src, 4096);
  REQUIRE(lines.size() == 10000);
  CHECK(lines.front().as_string().substr(0, 46) ==
        "83.149.9.216 - - [17/May/2015:10:05:03 +0000] ");
  std::size_t bytes = 0, with_newline = 0;
  for (auto& l : lines) {
    auto s = l.as_string();
    with_newline += s.find('\n') != std::string_view::npos;
    bytes += s.size() + 1;
  }
  CHECK(with_newline == 0);
  CHECK(bytes == std::filesystem::file_size(*p));  // every byte but the "\n"s is kept
}

TEST_CASE("file source: progress is the bytes of the lines returned of the file's size at open", "[io][file]") {
  weir::test::temp_dir dir;
  auto path = dir.path / "three.txt";
  write_file(path, "aaa\nbb\r\nc");  // 9 bytes, the last line without newline
  auto src = weir::io::make_file_source(path.string());
  CHECK(src->progress().total == 0);  // unknown before open
  src->open();
  CHECK(src->progress().done == 0);
  CHECK(src->progress().total == 9);
  records out;
  src->read(out, 1);
  REQUIRE(out.size() == 1);
  CHECK(src->progress().done == 4);
  src->read(out, 1);
  CHECK(src->progress().done == 8);
  read_all(*src);
  CHECK(src->progress().done == 9);
  CHECK(src->progress().total == 9);
}
