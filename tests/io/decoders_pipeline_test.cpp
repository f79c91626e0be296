// Decoders, the bad-record policy and the file/console sinks through the
// `weir` binary (weir run -e ...), on the real data sets of ../shared/data.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "support/test_data.hpp"
#include "support/weir_process.hpp"
#include "weir/io/json.hpp"

using namespace weir;
using namespace weir::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// Sums a collect() output of (key, count) pairs over all batches.
std::map<std::string, std::int64_t> collected_counts(const fs::path& p) {
  std::map<std::string, std::int64_t> m;
  for (auto& l : lines_of(slurp(p))) {
    const value batch = io::parse_json(l);
    for (auto& r : batch.find("records")->as_array()) {
      auto kv = r.as_array();
      m[kv[0].is_string() ? std::string(kv[0].as_string()) : kv[0].to_json()] += kv[1].as_int();
    }
  }
  return m;
}

/// Sums a collect() output of count() records.
std::int64_t collected_total(const fs::path& p) {
  std::int64_t n = 0;
  for (auto& l : lines_of(slurp(p))) {
    const value batch = io::parse_json(l);
    for (auto& r : batch.find("records")->as_array()) n += r.as_int();
  }
  return n;
}

std::string q(const fs::path& p) { return "\"" + p.string() + "\""; }

}  // namespace

TEST_CASE("weir run: parse_log on the Elastic Apache log with fail - skip and dead_letter", "[io][decoders][data]") {
  auto log = data_file("apache_access_elastic/apache_logs");
  if (!log) {
    WARN("SKIPPED: ../shared/data/apache_access_elastic/apache_logs not found (set WEIR_DATA)");
    return;
  }
  // independent count: well-formed lines have exactly 6 double quotes; the
  // status is the first token after the request's closing quote
  std::map<std::string, std::int64_t> expected;
  std::vector<std::size_t> bad;
  std::string bad_line;
  {
    std::ifstream in(*log, std::ios::binary);
    std::size_t n = 0;
    for (std::string l; std::getline(in, l);) {
      ++n;
      if (std::count(l.begin(), l.end(), '"') != 6) {
        bad.push_back(n);
        bad_line = l;
        continue;
      }
      std::istringstream rest(l.substr(l.find('"', l.find('"') + 1) + 1));
      std::string st;
      rest >> st;
      ++expected[st];
    }
  }
  REQUIRE(bad == std::vector<std::size_t>{8899});
  temp_dir tmp;
  auto out = tmp.path / "out.jsonl";

  SECTION("fail: exit 1, the error names apache_logs:8899") {
    auto r = run_weir({"run", "-e", "file(" + q(*log) + ") | parse_log(\"apache\") | count() | collect(" + q(out) + ")"},
                      tmp.path);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("apache_logs:8899: column 183: expected '\"' closing the user agent"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  SECTION("skip: 9,999 records, malformed_records = 1, status counts equal") {
    for (const char* par : {"1", "2"}) {
      auto r = run_weir({"run", "--stats", "--parallelism", par, "-e",
                         "file(" + q(*log) + ") | parse_log(\"apache\", on_error = skip) | map((str(.status), 1))"
                         " | reduce_by_key(sum) | collect(" + q(out) + ")"},
                        tmp.path);
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      CHECK_THAT(r.err, Catch::Contains("malformed_records = 1,"));
      auto got = collected_counts(out);
      CHECK(got == expected);
      std::int64_t total = 0;
      for (auto& [k, n] : got) total += n;
      CHECK(total == 9999);
    }
  }
  SECTION("dead_letter: exactly line 8899, with its line number") {
    auto dl = tmp.path / "bad.jsonl";
    auto r = run_weir({"run", "--stats", "-e",
                       "file(" + q(*log) + ") | parse_log(\"apache\", on_error = dead_letter(" + q(dl) +
                           ")) | count() | collect(" + q(out) + ")"},
                      tmp.path);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(collected_total(out) == 9999);
    CHECK_THAT(r.err, Catch::Contains("malformed_records = 1,"));
    auto lines = lines_of(slurp(dl));
    REQUIRE(lines.size() == 1);
    value rec = io::parse_json(lines[0]);
    CHECK(rec.find("raw")->as_string() == bad_line);
    CHECK(rec.find("provenance")->as_string() == log->string() + ":8899");
    CHECK_THAT(std::string(rec.find("reason")->as_string()), Catch::Contains("closing the user agent"));
  }
}

TEST_CASE("weir run: parse_csv on the tweets CSV gives 12118 records", "[io][decoders][csv][data]") {
  auto csv = data_file("tweets_mayweather_mcgregor/tweets.csv");
  if (!csv) {
    WARN("SKIPPED: ../shared/data/tweets_mayweather_mcgregor/tweets.csv not found (set WEIR_DATA)");
    return;
  }
  // independent count: records end where the quotes seen so far balance
  std::int64_t records_seen = 0;
  {
    std::ifstream in(*csv, std::ios::binary);
    std::uint64_t quotes = 0;
    for (std::string l; std::getline(in, l);) {
      quotes += static_cast<std::uint64_t>(std::count(l.begin(), l.end(), '"'));
      if (quotes % 2 == 0) ++records_seen;
    }
  }
  REQUIRE(records_seen - 1 == 12118);
  temp_dir tmp;
  auto out = tmp.path / "out.jsonl";
  auto r = run_weir({"run", "--stats", "-e",
                     "file(" + q(*csv) + ") | parse_csv(header = true) | count() | collect(" + q(out) + ")"},
                    tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(collected_total(out) == 12118);
  CHECK_THAT(r.err, Catch::Contains("malformed_records = 0,"));
}

TEST_CASE("weir run: parse_json on GitHub events - counts per .type", "[io][decoders][json][data]") {
  auto nd = data_file("github_events_2015/2015-01-01-15.first1024.ndjson");
  if (!nd) {
    WARN("SKIPPED: ../shared/data/github_events_2015 not found (set WEIR_DATA)");
    return;
  }
  std::map<std::string, std::int64_t> expected;  // independent: first "type":"..." per line
  {
    std::ifstream in(*nd, std::ios::binary);
    for (std::string l; std::getline(in, l);) {
      auto at = l.find("\"type\":\"") + 8;
      ++expected[l.substr(at, l.find('"', at) - at)];
    }
  }
  temp_dir tmp;
  auto out = tmp.path / "out.jsonl";
  for (std::string decoder : {"parse_json()", "parse_json(fields = [\".type\"])"}) {
    auto r = run_weir({"run", "--parallelism", "2", "-e",
                       "file(" + q(*nd) + ") | " + decoder + " | map((.type, 1)) | reduce_by_key(sum) | collect(" +
                           q(out) + ")"},
                      tmp.path);
    INFO(decoder << "\n" << r.err);
    REQUIRE(r.exit_code == 0);
    auto got = collected_counts(out);
    CHECK(got == expected);
    std::int64_t total = 0;
    for (auto& [k, n] : got) total += n;
    CHECK(total == 1024);
  }
}

TEST_CASE("weir run: on_error on map - malformed JSON names its line and byte offset", "[io][decoders]") {
  temp_dir tmp;
  auto in = tmp.path / "in.txt";
  write_file(in, "1\n2\nx\n4\n{\"a\": tru}\n");
  auto out = tmp.path / "out.jsonl";
  auto dl = tmp.path / "dl.jsonl";
  SECTION("map fail") {
    auto r = run_weir({"run", "-e", "file(" + q(in) + ") | map(int(_) * 2) | collect(" + q(out) + ")"}, tmp.path);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("-e:1:"));
  }
  SECTION("map skip and dead_letter") {
    auto r = run_weir({"run", "--stats", "-e",
                       "file(" + q(in) + ") | map(_ + 1, on_error = dead_letter(" + q(dl) + ")) | count() | collect(" +
                           q(out) + ")"},
                      tmp.path);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(collected_total(out) == 0);  // "1" + 1: string + int fails for every line
    CHECK_THAT(r.err, Catch::Contains("malformed_records = 5,"));
    auto lines = lines_of(slurp(dl));
    REQUIRE(lines.size() == 5);
    CHECK(io::parse_json(lines[2]).find("provenance")->as_string() == in.string() + ":3");
    CHECK(io::parse_json(lines[2]).find("raw")->as_string() == "\"x\"");
  }
  SECTION("parse_json fail: line and byte offset") {
    auto r = run_weir({"run", "-e", "file(" + q(in) + ") | parse_json() | collect(" + q(out) + ")"}, tmp.path);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(in.string() + ":3: byte offset 0: "));
    auto r2 = run_weir({"run", "--stats", "-e", "file(" + q(in) + ") | parse_json(on_error = skip) | count() | collect(" + q(out) + ")"},
                       tmp.path);
    CHECK(r2.exit_code == 0);
    CHECK(collected_total(out) == 3);
    CHECK_THAT(r2.err, Catch::Contains("malformed_records = 2,"));
  }
  SECTION("DSL errors") {
    auto r = run_weir({"run", "-e", "file(\"x\") | parse_log(\"apach\") | print()"}, tmp.path);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("-e:1:23: unknown log format \"apach\" (did you mean 'apache'?)"));
    r = run_weir({"run", "-e", "file(\"x\") | parse_log(\"apache\", on_error = skp) | print()"}, tmp.path);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("on_error must be fail, skip or dead_letter(\"path\"), got 'skp' (did you mean 'skip'?)"));
    r = run_weir({"run", "-e", "file(\"x\") | parse_regex(\"(\\\\d+)\") | print()"}, tmp.path);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("no named groups"));
  }
}

TEST_CASE("weir run: write_text writes Spark's saveAsTextFiles layout - one part per instance", "[io][sinks]") {
  temp_dir tmp;
  auto in = tmp.path / "in.jsonl";
  write_file(in, "[[\"a\",1],[\"b\",2],[\"a\",3],[\"c\",1]]\n[]\n[[\"z\",5]]\n");
  auto dir = tmp.path / "out";
  auto r = run_weir({"run", "--parallelism", "2", "-e",
                     "batches(" + q(in) + ") | reduce_by_key(sum) | write_text(" + q(dir) + ", prefix = \"counts\")"},
                    tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::vector<std::string>> per_batch;  // folder -> sorted lines of all parts
  std::size_t parts = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    REQUIRE(e.is_directory());  // no .inflight file left behind
    auto& lines = per_batch[e.path().filename().string()];
    for (auto& part : fs::directory_iterator(e.path())) {
      ++parts;
      for (auto& l : lines_of(slurp(part.path()))) lines.push_back(l);
    }
    std::sort(lines.begin(), lines.end());
  }
  CHECK(parts == 6);  // 3 batches x 2 instances
  CHECK(per_batch["counts-1000.txt"] == std::vector<std::string>{"(a,4)", "(b,2)", "(c,1)"});
  CHECK(per_batch["counts-2000.txt"].empty());
  CHECK(per_batch["counts-3000.txt"] == std::vector<std::string>{"(z,5)"});
  CHECK(fs::exists(dir / "counts-2000.txt" / "part-00001"));
}

TEST_CASE("weir run: stdout and write_csv sinks", "[io][sinks]") {
  temp_dir tmp;
  auto in = tmp.path / "in.jsonl";
  write_file(in, "[{\"a\":1,\"b\":\"x,y\"}]\n[{\"a\":2,\"b\":\"z\"}]\n");
  auto r = run_weir({"run", "-e", "batches(" + q(in) + ") | stdout()"}, tmp.path);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "{\"a\":1,\"b\":\"x,y\"}\n{\"a\":2,\"b\":\"z\"}\n");
  r = run_weir({"run", "-e", "batches(" + q(in) + ") | map((.a, .b)) | stdout(format = \"text\")"}, tmp.path);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "(1,x,y)\n(2,z)\n");
  auto csv = tmp.path / "out.csv";
  r = run_weir({"run", "-e", "batches(" + q(in) + ") | write_csv(" + q(csv) + ")"}, tmp.path);
  REQUIRE(r.exit_code == 0);
  CHECK(slurp(csv) == "a,b\n1,\"x,y\"\n2,z\n");
}
