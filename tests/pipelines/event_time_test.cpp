// Acceptance: event-time windows on the real Apache log
// (../shared/data/apache_access_elastic, 10,000 lines, up to 59 s out of
// order) equal an independent computation — per status per tumbling window,
// late records (count and side output), sessions per client IP — in
// micro-batch and record mode, at parallelism 1 and 2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "support/test_data.hpp"
#include "support/weir_process.hpp"
#include "weir/io/json.hpp"
#include "weir/io/regex.hpp"

using namespace weir::test;

namespace {

struct line_rec {
  std::int64_t ms;
  int status;
  std::string ip;
};

/// The independent parse: lines with an odd number of '"' are malformed (the
/// truncated user agent); the time between [ ], via strptime + timegm; the
/// status after the request's closing quote.
std::vector<line_rec> read_log(const std::filesystem::path& p) {
  std::vector<line_rec> out;
  std::ifstream in(p, std::ios::binary);
  std::string l;
  while (std::getline(in, l)) {
    if (std::count(l.begin(), l.end(), '"') % 2 != 0) continue;
    auto a = l.find('['), b = l.find(']');
    std::string t = l.substr(a + 1, b - a - 1);  // 17/May/2015:10:05:03 +0000
    std::tm tm{};
    REQUIRE(strptime(t.c_str(), "%d/%b/%Y:%H:%M:%S", &tm) != nullptr);
    REQUIRE(t.substr(t.size() - 5) == "+0000");
    auto q1 = l.find('"'), q2 = l.find('"', q1 + 1);
    out.push_back({static_cast<std::int64_t>(timegm(&tm)) * 1000, std::stoi(l.substr(q2 + 2)),
                   l.substr(0, l.find(' '))});
  }
  return out;
}

using window_key = std::tuple<std::int64_t, int>;  // (window start, status)

struct expected_windows {
  std::map<window_key, std::int64_t> counts;  // of the records that were not late
  std::vector<line_rec> late;
};

/// Tumbling windows of `size` ms with watermark = max event time seen before
/// the record − delay; a record is late when its window's end <= watermark.
expected_windows tumbling(const std::vector<line_rec>& recs, std::int64_t size, std::int64_t delay) {
  expected_windows e;
  bool any = false;
  std::int64_t max = 0;
  for (auto& r : recs) {
    std::int64_t start = r.ms / size * size;
    if (any && start + size <= max - delay)
      e.late.push_back(r);
    else
      ++e.counts[{start, r.status}];
    max = any ? std::max(max, r.ms) : r.ms;
    any = true;
  }
  return e;
}

std::map<window_key, std::int64_t> read_windows(const std::filesystem::path& p, std::int64_t size) {
  std::map<window_key, std::int64_t> m;
  for (auto& line : weir::io::read_jsonl(p.string())) {
    const auto& r = *line.find("record");
    auto k = window_key{r.find("start")->as_int(), static_cast<int>(r.find("key")->as_int())};
    INFO(r.to_json());
    CHECK(r.find("end")->as_int() == std::get<0>(k) + size);
    m[k] += r.find("value")->as_int();
  }
  return m;
}

std::int64_t run_stat(const std::string& err, const std::string& name) {
  weir::io::regex re(name + " = ([0-9]+)", "run_stat");
  std::string_view m[2];
  if (!re.search(err, m)) return -1;
  return std::stoll(std::string(m[1]));
}

std::string q(const std::filesystem::path& p) { return "\"" + p.string() + "\""; }

}  // namespace

TEST_CASE("event-time tumbling windows on the Apache log equal an independent computation",
          "[pipelines][event_time][data]") {
  auto file = data_file("apache_access_elastic/apache_logs");
  if (!file) {
    WARN("skipped: ../shared/data/apache_access_elastic/apache_logs not found (set WEIR_DATA)");
    return;
  }
  auto recs = read_log(*file);
  REQUIRE(recs.size() == 9999);
  temp_dir tmp;

  struct scenario {
    std::int64_t size, delay;
    const char* window;
    const char* watermark;
  };
  // the case: 1-minute windows, watermark 60 s and 5 s (the log is
  // shuffled only inside each minute, so even 5 s makes no record late);
  // and 10-second windows with a 5 s watermark, where most records are late
  for (scenario sc : {scenario{60000, 60000, "1m", "60s"}, scenario{60000, 5000, "1m", "5s"},
                      scenario{10000, 5000, "10s", "5s"}}) {
    auto expect = tumbling(recs, sc.size, sc.delay);
    if (sc.size == 60000) CHECK(expect.late.empty());
    if (sc.size == 10000) CHECK(expect.late.size() > 5000);
    for (const char* mode : {"micro-batch", "record"})
      for (const char* par : {"1", "2"}) {
        INFO("tumbling(" << sc.window << "), watermark " << sc.watermark << ", " << mode
                         << " mode, parallelism " << par);
        auto out = tmp.path / "windows.jsonl", late = tmp.path / "late.jsonl";
        std::string pipeline = "file(" + q(*file) + ")\n" +
                               "  | parse_log(\"apache\", on_error = skip, time = _.time, watermark = " +
                               sc.watermark + ")\n" + "  | aggregate(tumbling(" + sc.window +
                               "), count, key = _.status, late = write_jsonl(" + q(late) + "))\n" +
                               "  | write_jsonl(" + q(out) + ")";
        auto r = run_weir({"run", "-e", pipeline, "--stats", "--mode", mode, "--parallelism", par}, tmp.path);
        REQUIRE(r.exit_code == 0);
        CHECK(run_stat(r.err, "malformed_records") == 1);
        CHECK(run_stat(r.err, "late_records") == static_cast<std::int64_t>(expect.late.size()));
        CHECK(read_windows(out, sc.size) == expect.counts);
        // exactly the late records, in the side output
        std::multiset<std::tuple<std::int64_t, int, std::string>> want, got;
        for (auto& l : expect.late) want.insert({l.ms, l.status, l.ip});
        for (auto& v : weir::io::read_jsonl(late.string()))
          got.insert({v.find("time")->as_int(), static_cast<int>(v.find("status")->as_int()),
                      std::string(v.find("ip")->as_string())});
        CHECK(got == want);
      }
  }
}

TEST_CASE("session windows per client IP on the Apache log equal an independent computation",
          "[pipelines][event_time][data]") {
  auto file = data_file("apache_access_elastic/apache_logs");
  if (!file) {
    WARN("skipped: ../shared/data/apache_access_elastic/apache_logs not found (set WEIR_DATA)");
    return;
  }
  auto recs = read_log(*file);
  // independent: per IP, sorted times; a gap >= 30 min starts a new session
  const std::int64_t gap = 30 * 60 * 1000;
  std::map<std::string, std::vector<std::int64_t>> by_ip;
  for (auto& r : recs) by_ip[r.ip].push_back(r.ms);
  std::multiset<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> want;
  for (auto& [ip, ts] : by_ip) {
    std::sort(ts.begin(), ts.end());
    std::size_t first = 0;
    for (std::size_t i = 1; i <= ts.size(); ++i)
      if (i == ts.size() || ts[i] - ts[i - 1] >= gap) {
        want.insert({ip, ts[first], ts[i - 1] + gap, static_cast<std::int64_t>(i - first)});
        first = i;
      }
  }
  CHECK(want.size() == 3052);

  temp_dir tmp;
  for (const char* mode : {"micro-batch", "record"})
    for (const char* par : {"1", "2"}) {
      INFO(mode << " mode, parallelism " << par);
      auto out = tmp.path / "sessions.jsonl";
      std::string pipeline = "file(" + q(*file) + ")" +
                             " | parse_log(\"apache\", on_error = skip, time = _.time, watermark = 60s)" +
                             " | aggregate(session(30m), count, key = _.ip) | write_jsonl(" + q(out) + ")";
      auto r = run_weir({"run", "-e", pipeline, "--stats", "--mode", mode, "--parallelism", par}, tmp.path);
      REQUIRE(r.exit_code == 0);
      CHECK(run_stat(r.err, "late_records") == 0);
      std::multiset<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> got;
      for (auto& line : weir::io::read_jsonl(out.string())) {
        const auto& s = *line.find("record");
        got.insert({std::string(s.find("key")->as_string()), s.find("start")->as_int(), s.find("end")->as_int(),
                    s.find("value")->as_int()});
      }
      CHECK(got.size() == want.size());
      CHECK(got == want);
    }
}

TEST_CASE("a missing event time fails with the record number and a negative watermark is an error",
          "[pipelines][event_time]") {
  temp_dir tmp;
  auto in = tmp.path / "events.jsonl";
  write_file(in, "{\"t\": 1000, \"k\": \"a\"}\n{\"t\": 2000, \"k\": \"b\"}\n{\"k\": \"c\"}\n{\"t\": 3000, \"k\": \"a\"}\n");
  auto out = tmp.path / "out.jsonl";
  auto pipeline = [&](const std::string& extra) {
    return "file(" + q(in) + ") | parse_json(" + extra + "time = _.t, watermark = 1s)" +
           " | aggregate(tumbling(1s), count, key = _.k) | write_jsonl(" + q(out) + ")";
  };
  SECTION("fail (the default) names the record and the time expression") {
    auto r = run_weir({"run", "-e", pipeline("")}, tmp.path);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("record 3") && Catch::Contains("expected the event time in ms (an int), got null"));
  }
  SECTION("skip counts the record and goes on") {
    auto r = run_weir({"run", "-e", pipeline("on_error = skip, "), "--stats"}, tmp.path);
    CHECK(r.exit_code == 0);
    CHECK(run_stat(r.err, "malformed_records") == 1);
    CHECK(weir::io::read_jsonl(out.string()).size() == 3);  // a@[1s,2s), b@[2s,3s), a@[3s,4s)
  }
  SECTION("a negative watermark delay") {
    auto r = run_weir({"run", "-e", "file(" + q(in) + ") | parse_json(time = _.t, watermark = -5s) | print()"},
                      tmp.path);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("-e:1:") && Catch::Contains("watermark delay must not be negative, got -5s"));
  }
}

// --- windows closed by the end of a bounded input ---------------------------------

namespace {

/// The records of every batch of a collect("...") file, in order.
std::vector<weir::value> collected(const std::filesystem::path& p) {
  std::vector<weir::value> out;
  for (auto& line : weir::io::read_jsonl(p.string()))
    for (auto& r : line.find("records")->as_array()) out.push_back(r);
  return out;
}

}  // namespace

TEST_CASE("windows closed at the end of a bounded input reach the batch operators after aggregate",
          "[pipelines][event_time]") {
  temp_dir tmp;
  auto in = tmp.path / "ev.jsonl";
  // two windows: [0s, 10s) holds 1000 and 2000 and closes when 15000 arrives;
  // [10s, 20s) closes only at the end of the input (the final watermark)
  write_file(in, "{\"t\":1000}\n{\"t\":2000}\n{\"t\":15000}\n");
  const std::string agg = "file(" + q(in) + ") | parse_json(time = _.t) | aggregate(tumbling(10s), count)";
  for (const char* par : {"1", "2"}) {
    INFO("parallelism " << par);
    auto counted = tmp.path / "count.jsonl", windows = tmp.path / "windows.jsonl", top = tmp.path / "top.jsonl",
         reduced = tmp.path / "reduced.jsonl";
    auto r = run_weir({"run", "-e",
                       "let w = " + agg + "\n" +                                      //
                           "w | count() | collect(" + q(counted) + ")\n" +            //
                           "w | collect(" + q(windows) + ")\n" +                      //
                           "w | top(5, by = _.start) | collect(" + q(top) + ")\n" +  //
                           "w | map((_.value, 1)) | reduce_by_key(sum) | collect(" + q(reduced) + ")",
                       "--parallelism", par},
                      tmp.path);
    REQUIRE(r.exit_code == 0);
    std::int64_t total = 0;
    for (auto& c : collected(counted)) total += c.as_int();
    CHECK(total == 2);
    std::multiset<std::tuple<std::int64_t, std::int64_t>> got;
    for (auto& w : collected(windows)) got.insert({w.find("start")->as_int(), w.find("value")->as_int()});
    CHECK(got == std::multiset<std::tuple<std::int64_t, std::int64_t>>{{0, 2}, {10000, 1}});
    auto tops = collected(top);
    CHECK(tops.size() == 2);
    // (window count, number of windows with that count), summed over batches
    std::map<std::int64_t, std::int64_t> per_value;
    for (auto& p : collected(reduced)) per_value[p.as_array()[0].as_int()] += p.as_array()[1].as_int();
    CHECK(per_value == std::map<std::int64_t, std::int64_t>{{1, 1}, {2, 1}});
  }
  // the one-liner: print() of count() shows both windows' batches
  auto r = run_weir({"run", "-q", "-e", agg + " | count() | print()"}, tmp.path);
  REQUIRE(r.exit_code == 0);
  // two batches of one window each (the second closed by the end of the input)
  std::size_t ones = 0;
  for (std::size_t i = 0; (i = r.out.find("-\n1\n", i)) != std::string::npos; ++i) ++ones;
  CHECK(ones == 2);
  CHECK(r.out.find("-\n2\n") == std::string::npos);
}

TEST_CASE("windows closed by the end of one of several inputs reach the batch operators after aggregate",
          "[pipelines][event_time]") {
  temp_dir tmp;
  // t = i / 20 ms for 600,000 lines: windows [0, 10s), [10s, 20s), [20s, 30s) of 200,000 each.
  // Read as two files through union, and as one file of ~7 MB split over two instances, the
  // input that ends first releases the minimum watermark: the windows it closes after the last
  // batch end must still get a batch end of their own.
  std::string all, first, second;
  for (int i = 0; i < 600000; ++i) {
    std::string l = "{\"t\":" + std::to_string(i / 20) + "}\n";
    all += l;
    (i < 300000 ? first : second) += l;
  }
  write_file(tmp.path / "all.jsonl", all);
  write_file(tmp.path / "a.jsonl", first);
  write_file(tmp.path / "b.jsonl", second);
  const std::string union_src = "let b = file(" + q(tmp.path / "b.jsonl") +
                                ", parallelism = 1) | parse_json(time = _.t)\nlet w = file(" + q(tmp.path / "a.jsonl") +
                                ", parallelism = 1) | parse_json(time = _.t) | union(b)";
  const std::string split_src = "let w = file(" + q(tmp.path / "all.jsonl") + ", parallelism = 2) | parse_json(time = _.t)";
  for (const std::string& src : {union_src, split_src}) {
    INFO(src);
    auto counted = tmp.path / "count.jsonl", windows = tmp.path / "windows.jsonl";
    auto r = run_weir({"run", "-e",
                       src + " | aggregate(tumbling(10s), count)\n" + "w | count() | collect(" + q(counted) + ")\n" +
                           "w | collect(" + q(windows) + ")",
                       "--parallelism", "1"},
                      tmp.path);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::int64_t total = 0;
    for (auto& c : collected(counted)) total += c.as_int();
    CHECK(total == 3);
    std::multiset<std::tuple<std::int64_t, std::int64_t>> got;
    for (auto& w : collected(windows)) got.insert({w.find("start")->as_int(), w.find("value")->as_int()});
    CHECK(got == std::multiset<std::tuple<std::int64_t, std::int64_t>>{{0, 200000}, {10000, 200000}, {20000, 200000}});
  }
}

// --- union keeps the event time ---------------------------------------------------

TEST_CASE("after union the event time applies and the watermark is the minimum of the inputs'",
          "[pipelines][event_time]") {
  temp_dir tmp;
  // two inputs, each in event-time order; interleaved by arrival they are not
  std::string a, b;
  for (int i = 0; i < 20000; ++i) a += "{\"t\": " + std::to_string(i * 10) + "}\n";
  for (int i = 0; i < 5000; ++i) b += "{\"ts\": " + std::to_string(i * 40 + 5) + ", \"t\": " + std::to_string(i * 40 + 5) + "}\n";
  write_file(tmp.path / "a.jsonl", a);
  write_file(tmp.path / "b.jsonl", b);
  auto out = tmp.path / "out.jsonl";
  // every 10 s window: 1000 records of a, 250 of b
  auto check = [&](const std::string& script) {
    for (const char* par : {"1", "2"}) {
      INFO(script << "\nparallelism " << par);
      auto r = run_weir({"run", "-e", script, "--stats", "--parallelism", par}, tmp.path);
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      CHECK(run_stat(r.err, "late_records") == 0);
      std::map<std::int64_t, std::int64_t> got;
      for (auto& line : weir::io::read_jsonl(out.string())) {
        const auto& w = *line.find("record");
        got[w.find("start")->as_int()] += w.find("value")->as_int();
      }
      std::map<std::int64_t, std::int64_t> want;
      for (std::int64_t s = 0; s < 200000; s += 10000) want[s] = 1250;
      CHECK(got == want);
    }
  };
  const std::string inputs_same = "let b = file(" + q(tmp.path / "b.jsonl") + ")\n" +
                                  "  | parse_json(time = _.t, watermark = 0s)\n" +
                                  "let a = file(" + q(tmp.path / "a.jsonl") + ")\n" +
                                  "  | parse_json(time = _.t, watermark = 0s)\n";
  const std::string inputs_differ = "let b = file(" + q(tmp.path / "b.jsonl") + ")\n" +
                                    "  | parse_json(time = _.ts)\n" +
                                    "let a = file(" + q(tmp.path / "a.jsonl") + ")\n" +
                                    "  | parse_json(time = _.t)\n";
  SECTION("the same time = on both inputs applies after union") {
    check(inputs_same + "a | union(b)\n  | aggregate(tumbling(10s), count) | write_jsonl(" + q(out) + ")");
  }
  SECTION("different time expressions: aggregate(time = ...) keeps the inputs' watermark") {
    check(inputs_differ + "a | union(b)\n  | aggregate(tumbling(10s), count, time = _.t) | write_jsonl(" + q(out) +
          ")");
    auto r = run_weir(
        {"check", "-e", inputs_differ + "a | union(b)\n  | aggregate(tumbling(10s), count) | write_jsonl(" + q(out) + ")"},
        tmp.path);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("-e:6:5: aggregate: the inputs of union() at -e:5:5 have different event "
                                      "times (time at -e:4:24, time at -e:2:24); give aggregate(time = ...) here"));
  }
}

// --- allowed lateness: Flink's EventTimeTrigger ------------------------------------

namespace {

/// Flink's WindowOperator with EventTimeTrigger and allowed lateness, over
/// records in arrival order: the watermark is the largest event time seen
/// before a record minus `delay`; when it passes a window's end the window
/// fires (one row per key in it); a record whose window ended at or before
/// the watermark but not by more than `lateness` adds to it and fires it
/// again for its key at once (one row); later than that it is late.
struct trigger_model {
  std::multiset<std::tuple<std::int64_t, std::string, std::int64_t>> rows;  // (start, key, count)
  std::int64_t late = 0, fired_on_time = 0, fired_late = 0;
};

trigger_model flink_trigger(const std::vector<std::pair<std::int64_t, std::string>>& recs, std::int64_t size,
                            std::int64_t delay, std::int64_t lateness) {
  trigger_model m;
  std::map<std::int64_t, std::map<std::string, std::int64_t>> windows;  // open or kept for lateness
  std::set<std::int64_t> fired;
  std::int64_t wm = std::numeric_limits<std::int64_t>::min(), max = wm;
  auto advance = [&](std::int64_t to) {
    if (to <= wm) return;
    wm = to;
    for (auto it = windows.begin(); it != windows.end() && it->first + size <= wm;) {
      if (!fired.count(it->first)) {
        fired.insert(it->first);
        for (auto& [k, n] : it->second) {
          m.rows.insert({it->first, k, n});
          ++m.fired_on_time;
        }
      }
      if (it->first + size + lateness <= wm) it = windows.erase(it);
      else ++it;
    }
  };
  for (auto& [ts, key] : recs) {
    const std::int64_t start = ts >= 0 ? ts / size * size : (ts - size + 1) / size * size;
    if (start + size + lateness <= wm) {
      ++m.late;
    } else {
      std::int64_t n = ++windows[start][key];
      if (start + size <= wm) {
        fired.insert(start);
        m.rows.insert({start, key, n});
        ++m.fired_late;
      }
    }
    max = std::max(max, ts);
    advance(max - delay);
  }
  advance(std::numeric_limits<std::int64_t>::max());
  return m;
}

}  // namespace

TEST_CASE("allowed lateness on the Citi Bike trips by end time gives the same rows at parallelism 1 and 2",
          "[pipelines][event_time][data]") {
  auto file = data_file("citibike_trips_20240302/trips-2024-03-02.csv");
  if (!file) {
    WARN("skipped: ../shared/data/citibike_trips_20240302 not found (set WEIR_DATA)");
    return;
  }
  // independent parse: datetime_end (column 4, "2024-03-02 00:02:59.214", no
  // zone: read as UTC, as parse_time does) and borough_end (column 11)
  std::vector<std::pair<std::int64_t, std::string>> recs;
  {
    std::ifstream in(*file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::size_t from = 0;
      for (std::size_t i; (i = line.find(',', from)) != std::string::npos; from = i + 1) f.push_back(line.substr(from, i - from));
      f.push_back(line.substr(from));
      REQUIRE(f.size() == 16);
      std::tm tm{};
      const char* rest = strptime(f[3].c_str(), "%Y-%m-%d %H:%M:%S", &tm);
      REQUIRE(rest != nullptr);
      std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
      if (*rest == '.') ms += std::stoll(std::string(rest + 1) + std::string(3 - std::strlen(rest + 1), '0'));
      recs.emplace_back(ms, f[10]);
    }
  }
  REQUIRE(recs.size() == 27814);
  const std::int64_t size = 15 * 60 * 1000, delay = 5 * 60 * 1000, lateness = 60 * 60 * 1000;
  auto want = flink_trigger(recs, size, delay, lateness);
  // the data exercise every case: on-time fires, late-but-allowed records
  // (also into windows that had no record of their key yet), and late ones
  CHECK(want.fired_late > 100);
  CHECK(want.late > 100);
  CHECK(want.rows.size() == static_cast<std::size_t>(want.fired_on_time + want.fired_late));

  temp_dir tmp;
  auto out = tmp.path / "rows.jsonl";
  const std::string pipeline =
      "file(" + q(*file) + ")\n" +
      "  | parse_csv(time = parse_time(_.datetime_end, \"%Y-%m-%d %H:%M:%S.%f\"), watermark = 5m)\n" +
      "  | aggregate(tumbling(15m), count, key = _.borough_end, allowed_lateness = 1h)\n" +
      "  | write_jsonl(" + q(out) + ")";
  for (const char* par : {"1", "2"})
    for (const char* mode : {"micro-batch", "record"}) {
      INFO("parallelism " << par << ", " << mode << " mode");
      auto r = run_weir({"run", "-e", pipeline, "--stats", "--parallelism", par, "--mode", mode}, tmp.path);
      REQUIRE(r.exit_code == 0);
      CHECK(run_stat(r.err, "late_records") == want.late);
      std::multiset<std::tuple<std::int64_t, std::string, std::int64_t>> got;
      for (auto& line : weir::io::read_jsonl(out.string())) {
        const auto& w = *line.find("record");
        got.insert({w.find("start")->as_int(), std::string(w.find("key")->as_string()), w.find("value")->as_int()});
      }
      CHECK(got.size() == want.rows.size());
      CHECK(got == want.rows);
    }
}
