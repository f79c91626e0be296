// Acceptance of the expression language on the real data sets, each against
// a computation written here independently (string scanning, strptime,
// plain loops): regex counts on the Apache log, 1-minute OHLC bars with
// `aggs` on trade ticks, word counts per key through a `transform` closure
// on tweets, requests per minute through `format_time`, and one CSV header
// per file of a glob.
#include <catch2/catch.hpp>

#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <simdjson.h>

#include "support/test_data.hpp"
#include "support/weir_process.hpp"
#include "weir/io/json.hpp"

using namespace weir::test;
namespace fs = std::filesystem;

namespace {

std::string q(const fs::path& p) { return "\"" + p.string() + "\""; }

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p, std::ios::binary);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

/// The records of a write_jsonl file (each line is {"time": batch time, "record": r}).
std::vector<weir::value> records_of(const fs::path& p) {
  std::vector<weir::value> out;
  for (auto& line : weir::io::read_jsonl(p.string())) out.push_back(*line.find("record"));
  return out;
}

bool ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

TEST_CASE("regex functions on the Apache log equal a string scan", "[pipelines][functions][data]") {
  auto file = data_file("apache_access_elastic/apache_logs");
  if (!file) {
    WARN("skipped: ../shared/data/apache_access_elastic/apache_logs not found (set WEIR_DATA)");
    return;
  }
  // independent: the method is the word after the first '"'; the status the
  // 3 digits after the request's closing '"'; lines without them are skipped
  std::map<std::string, std::int64_t> want;  // "METHOD STATUS" -> lines; "images" -> lines requesting a .png
  for (auto& l : lines_of(*file)) {
    auto q1 = l.find('"');
    if (q1 == std::string::npos) continue;
    auto q2 = l.find('"', q1 + 1);
    if (q2 == std::string::npos || q2 + 5 > l.size()) continue;
    const std::string req = l.substr(q1 + 1, q2 - q1 - 1);
    const std::string method = req.substr(0, req.find(' '));
    const std::string status = l.substr(q2 + 2, 3);
    bool upper = !method.empty(), digits = l[q2 + 1] == ' ';
    for (char c : method) upper = upper && c >= 'A' && c <= 'Z';
    for (char c : status) digits = digits && c >= '0' && c <= '9';
    if (!upper || !digits || l[q2 + 5] != ' ' || req.find(' ') == std::string::npos) continue;
    ++want[method + " " + status];
    const std::size_t p0 = req.find(' ') + 1;
    std::size_t p1 = p0;
    while (p1 < req.size() && !ascii_space(req[p1])) ++p1;
    const std::string path = req.substr(p0, p1 - p0);
    if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".png") == 0) ++want["images"];
  }
  REQUIRE(want.size() > 5);
  temp_dir tmp;
  auto out = tmp.path / "out.jsonl", script = tmp.path / "regex.weir";
  write_file(script, R"(let RE = "\"([A-Z]+) [^\"]*\" (\\d{3}) "
file(IN)
  | filter(matches(_, RE))
  | map({m: regexp_extract(_, RE), s: regexp_extract(_, RE, group = 2),
         png: matches(regexp_replace(_, "^[^\"]*\"[A-Z]+ (\\S+).*$", "\\1"), "\\.png$")})
  | write_jsonl(OUT)
)");
  std::string text = slurp(script);
  text.replace(text.find("IN"), 2, q(*file));
  text.replace(text.find("OUT"), 3, q(out));
  write_file(script, text);
  auto r = run_weir({"run", script.string()}, tmp.path);
  INFO(text << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::int64_t> got;
  for (auto& v : records_of(out)) {
    ++got[std::string(v.find("m")->as_string()) + " " + std::string(v.find("s")->as_string())];
    if (v.find("png")->as_bool()) ++got["images"];
  }
  CHECK(got == want);
}

TEST_CASE("OHLC bars with aggs on trade ticks equal a plain loop", "[pipelines][aggs][data]") {
  auto file = data_file("equity_ticks_lean_20131007/20131007_ibm_Trade_Tick.csv");
  if (!file) {
    WARN("skipped: ../shared/data/equity_ticks_lean_20131007 not found (set WEIR_DATA)");
    return;
  }
  struct bar {
    std::int64_t open = 0, high = 0, low = 0, close = 0, volume = 0, trades = 0;
    std::set<std::string> venues;
  };
  std::map<std::int64_t, bar> want;  // minute start (ms since midnight) -> bar
  for (auto& l : lines_of(*file)) {
    std::vector<std::string> f;
    std::stringstream ss(l);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    REQUIRE(f.size() == 6);
    const std::int64_t t = std::stoll(f[0]), price = std::stoll(f[1]), qty = std::stoll(f[2]);
    bar& b = want[t / 60000 * 60000];
    if (b.trades == 0) b.open = b.high = b.low = price;
    b.high = std::max(b.high, price);
    b.low = std::min(b.low, price);
    b.close = price;
    b.volume += qty;
    ++b.trades;
    b.venues.insert(f[3]);
  }
  REQUIRE(want.size() > 400);
  temp_dir tmp;
  auto out = tmp.path / "bars.jsonl";
  for (const char* par : {"1", "2"}) {
    INFO("parallelism " << par);
    std::string pipeline =
        "file(" + q(*file) + ")\n"
        "  | parse_csv(header = false, time = int(_[0]))\n"
        "  | aggregate(tumbling(1m), aggs = {open: first(int(_[1])), high: max(int(_[1])), low: min(int(_[1])),\n"
        "                                    close: last(int(_[1])), volume: sum(int(_[2])), trades: count,\n"
        "                                    venues: count_distinct(_[3])})\n"
        "  | write_jsonl(" + q(out) + ")";
    auto r = run_weir({"run", "-e", pipeline, "--parallelism", par}, tmp.path);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::map<std::int64_t, bar> got;
    for (auto& v : records_of(out)) {
      CHECK(v.find("end")->as_int() - v.find("start")->as_int() == 60000);
      CHECK(v.find("key") == nullptr);
      bar& b = got[v.find("start")->as_int()];
      b.open = v.find("open")->as_int();
      b.high = v.find("high")->as_int();
      b.low = v.find("low")->as_int();
      b.close = v.find("close")->as_int();
      b.volume = v.find("volume")->as_int();
      b.trades = v.find("trades")->as_int();
      b.venues.insert(std::to_string(v.find("venues")->as_int()));  // the count, compared below
    }
    REQUIRE(got.size() == want.size());
    for (auto& [start, w] : want) {
      INFO("bar at " << start);
      const bar& g = got[start];
      CHECK(std::tie(g.open, g.high, g.low, g.close, g.volume, g.trades) ==
            std::tie(w.open, w.high, w.low, w.close, w.volume, w.trades));
      CHECK(g.venues == std::set<std::string>{std::to_string(w.venues.size())});
    }
  }
}

TEST_CASE("word counts per key through a transform closure equal a plain count", "[pipelines][functions][data]") {
  auto file = data_file("tweets_mayweather_mcgregor/tweets.ndjson");
  if (!file) {
    WARN("skipped: ../shared/data/tweets_mayweather_mcgregor not found (set WEIR_DATA)");
    return;
  }
  // independent: simdjson reads each tweet; words are runs of non-whitespace
  // of the ASCII-lowercased text, paired with the tweet's `emojis` flag
  std::map<std::pair<bool, std::string>, std::int64_t> want;
  simdjson::dom::parser parser;
  for (auto& l : lines_of(*file)) {
    simdjson::dom::element doc = parser.parse(l);
    const bool emojis = doc["emojis"].get_bool();
    const std::string text = ascii_lower(std::string(std::string_view(doc["text"].get_string())));
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && ascii_space(text[i])) ++i;
      std::size_t j = i;
      while (j < text.size() && !ascii_space(text[j])) ++j;
      if (j > i) ++want[{emojis, text.substr(i, j - i)}];
      i = j;
    }
  }
  REQUIRE(want.size() > 1000);
  temp_dir tmp;
  auto out = tmp.path / "words.jsonl";
  std::string pipeline = "file(" + q(*file) + ") | parse_json()\n"
                         "  | flat_map(transform(split(lower(.text)), w => ((.emojis, w), 1)))\n"
                         "  | reduce_by_key(sum)\n"
                         "  | write_jsonl(" + q(out) + ")";
  auto r = run_weir({"run", "-e", pipeline, "--parallelism", "2"}, tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::map<std::pair<bool, std::string>, std::int64_t> got;  // summed over the batches
  for (auto& v : records_of(out)) {
    auto kv = v.as_array();
    auto key = kv[0].as_array();
    got[{key[0].as_bool(), std::string(key[1].as_string())}] += kv[1].as_int();
  }
  CHECK(got.size() == want.size());
  CHECK(got == want);
}

TEST_CASE("requests per minute through format_time equal strptime and strftime", "[pipelines][functions][data]") {
  auto file = data_file("apache_access_elastic/apache_logs");
  if (!file) {
    WARN("skipped: ../shared/data/apache_access_elastic/apache_logs not found (set WEIR_DATA)");
    return;
  }
  std::map<std::string, std::int64_t> want;
  for (auto& l : lines_of(*file)) {
    if (std::count(l.begin(), l.end(), '"') % 2 != 0) continue;  // the one truncated line parse_log skips
    auto a = l.find('['), b = l.find(']');
    std::tm tm{};
    REQUIRE(strptime(l.substr(a + 1, b - a - 1).c_str(), "%d/%b/%Y:%H:%M:%S", &tm) != nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%d %b %Y, %H:%M", &tm);
    ++want[buf];
  }
  REQUIRE(want.size() > 50);
  temp_dir tmp;
  auto out = tmp.path / "minutes.jsonl";
  std::string pipeline = "let FORMAT = \"%d %b %Y, %H:%M\"\n"
                         "file(" + q(*file) + ") | parse_log(\"apache\", on_error = skip)\n"
                         "  | map(format_time(.time, FORMAT)) | count_by_value()\n"
                         "  | write_jsonl(" + q(out) + ")";
  auto r = run_weir({"run", "-e", pipeline}, tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::int64_t> got;
  for (auto& v : records_of(out)) {
    auto kv = v.as_array();
    got[std::string(kv[0].as_string())] += kv[1].as_int();
  }
  CHECK(got == want);
}

TEST_CASE("a CSV glob of two files reads one header per file", "[pipelines][io][data]") {
  auto a = data_file("nab_timeseries/realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv");
  auto b = data_file("nab_timeseries/realAWSCloudwatch/ec2_cpu_utilization_53ea38.csv");
  if (!a || !b) {
    WARN("skipped: ../shared/data/nab_timeseries not found (set WEIR_DATA)");
    return;
  }
  temp_dir tmp;
  fs::create_directory(tmp.path / "in");
  fs::copy_file(*a, tmp.path / "in" / "a.csv");
  fs::copy_file(*b, tmp.path / "in" / "b.csv");
  std::multiset<std::string> want;
  for (auto& p : {*a, *b}) {
    auto ls = lines_of(p);
    REQUIRE(ls.front() == "timestamp,value");
    for (std::size_t i = 1; i < ls.size(); ++i) want.insert(ls[i]);
  }
  auto out = tmp.path / "rows.jsonl";
  std::string pipeline = "file(" + q(tmp.path / "in" / "*.csv") + ") | parse_csv(header = true) | map(concat(.timestamp, \",\", .value))"
                         " | write_jsonl(" + q(out) + ")";
  auto r = run_weir({"run", "-e", pipeline, "--stats"}, tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::multiset<std::string> got;
  for (auto& v : records_of(out)) got.insert(std::string(v.as_string()));
  CHECK(got.size() == want.size());
  CHECK(got == want);
  CHECK(got.count("timestamp,value") == 0);
}

TEST_CASE("a CSV glob: one header per file, and a record open at a file's end fails there", "[pipelines][io]") {
  temp_dir tmp;
  fs::create_directory(tmp.path / "in");
  write_file(tmp.path / "in" / "x.csv", "a,b\n1,2\n3,\"open\n");
  write_file(tmp.path / "in" / "y.csv", "a,b\n5,6\n");
  auto out = tmp.path / "rows.jsonl";
  auto r = run_weir({"run", "-e",
                     "file(" + q(tmp.path / "in" / "*.csv") + ") | parse_csv(header = true, on_error = skip) | write_jsonl(" + q(out) + ")",
                     "--stats"},
                    tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> got;
  for (auto& v : records_of(out)) got.push_back(v.to_json());
  CHECK(got == std::vector<std::string>{R"({"a":"1","b":"2"})", R"({"a":"5","b":"6"})"});
  CHECK(r.err.find("malformed_records = 1") != std::string::npos);
}
