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

TEST_CASE("weir run: parse_log on the Elastic Apache log with fail, skip and dead_letter", "[io][decoders][data]") {
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
