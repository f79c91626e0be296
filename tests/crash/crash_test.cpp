// Crash tests of checkpoints (checkpoints, recovery, exactly-once file sinks),
// through the `weir-testing` binary (`weir` with the test hooks of
// tests/support/test_hooks.cpp, which act on WEIR_CRASH_AT):
//
//   a file (or Kafka topic) of numbered records 0..N-1, N >= 1,000,000
//     -> aggregate(tumbling(10s), count, key = n % 1000), event time n ms
//        -> write_jsonl(windows.jsonl)
//     -> (n % 1000, n) | update_state_by_key(running [count, sum])
//        -> write_jsonl(totals.jsonl)
//
// run with `--checkpoint DIR --checkpoint-interval 200ms`, SIGKILLed at >= 50
// random moments (seeded, printed) and restarted each time until it exits 0;
// and stopped by each named crash point (WEIR_CRASH_AT=point:N, exit code 77),
// then restarted without it. The committed output must then equal both an
// uncrashed reference run and the expected values computed here with plain
// loops: windows compared as multisets (lost and duplicated rows counted, both
// must be 0); the running totals checked for exactly-once emission (every batch
// time once per key, no gap between batch times, never decreasing) and the
// final totals equal to the expected ones.
//
// The event-time windows are deterministic whatever the batching (the file is
// read in order, so with watermark 0 no record is late); update_state_by_key
// emits per processing-time batch, so only its invariants and its final state
// can be compared.
#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/test_data.hpp"
#include "support/weir_process.hpp"

#ifdef WEIR_KAFKA_MOCK
#include <librdkafka/rdkafka.h>

#include "support/kafka_mock_process.hpp"
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using i64 = std::int64_t;

constexpr int kKeys = 1000;            // key = n % 1000
constexpr i64 kWindowMs = 10'000;      // tumbling(10s) over event time n ms
constexpr i64 kBatchMs = 20;           // set batch_interval = 20ms
constexpr const char* kInterval = "50ms";  // --checkpoint-interval of the crash runs

// ---------------------------------------------------------------------------
// input and expected output (plain loops, independent of weir)

void write_numbers(const fs::path& p, i64 n) {
  std::string buf;
  buf.reserve(1 << 20);
  std::ofstream out(p, std::ios::binary);
  REQUIRE(out);
  char tmp[32];
  for (i64 i = 0; i < n; ++i) {
    int len = std::snprintf(tmp, sizeof tmp, "%" PRId64 "\n", i);
    buf.append(tmp, static_cast<std::size_t>(len));
    if (buf.size() > (1u << 20) - 32) {
      out << buf;
      buf.clear();
    }
  }
  out << buf;
  REQUIRE(out.good());
}

/// A window row {start, end, key, value}.
using window_row = std::array<i64, 4>;
using row_multiset = std::map<window_row, i64>;

struct expected_output {
  row_multiset windows;                   ///< every (window, key) row once
  std::vector<std::array<i64, 2>> totals; ///< per key: [count, sum]
};

expected_output expected_for(i64 n) {
  expected_output e;
  std::map<std::pair<i64, i64>, i64> counts;  // (window start, key) -> count
  e.totals.assign(kKeys, {0, 0});
  for (i64 i = 0; i < n; ++i) {
    ++counts[{i / kWindowMs * kWindowMs, i % kKeys}];
    e.totals[static_cast<std::size_t>(i % kKeys)][0] += 1;
    e.totals[static_cast<std::size_t>(i % kKeys)][1] += i;
  }
  for (auto& [k, c] : counts) e.windows[{k.first, k.first + kWindowMs, k.second, c}] += 1;
  return e;
}

// ---------------------------------------------------------------------------
// reading the committed output

/// The integers of a JSON line, in order (the shapes here hold only ints).
std::vector<i64> ints_of(std::string_view line) {
  std::vector<i64> v;
  std::size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    bool neg = c == '-' && i + 1 < line.size() && line[i + 1] >= '0' && line[i + 1] <= '9';
    if ((c >= '0' && c <= '9') || neg) {
      // digits inside a string (a field name) do not occur in these shapes
      std::size_t j = i + (neg ? 1 : 0);
      i64 x = 0;
      while (j < line.size() && line[j] >= '0' && line[j] <= '9') x = x * 10 + (line[j++] - '0');
      v.push_back(neg ? -x : x);
      i = j;
    } else {
      ++i;
    }
  }
  return v;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p, std::ios::binary);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

/// The committed lines of the write_jsonl sink writing `path`: the file itself
/// (pending epochs of the two-phase commit live in other, hidden files).
std::vector<std::string> committed_lines(const fs::path& path) { return lines_of(path); }

struct output {
  row_multiset windows;
  std::size_t window_lines = 0;
  /// batch time -> key -> every [count, sum] emitted for it at that time
  std::map<i64, std::map<i64, std::vector<std::array<i64, 2>>>> totals;
  std::size_t total_lines = 0;
  std::vector<std::string> malformed;
};

output read_output(const fs::path& out_dir) {
  output o;
  for (auto& l : committed_lines(out_dir / "windows.jsonl")) {
    ++o.window_lines;
    auto v = ints_of(l);  // {"time":T,"record":{"start":S,"end":E,"key":K,"value":V}}
    if (v.size() != 5 || l.find("\"start\"") == std::string::npos) {
      o.malformed.push_back(l);
      continue;
    }
    o.windows[{v[1], v[2], v[3], v[4]}] += 1;
  }
  for (auto& l : committed_lines(out_dir / "totals.jsonl")) {
    ++o.total_lines;
    auto v = ints_of(l);  // {"time":T,"record":[K,[COUNT,SUM]]}
    if (v.size() != 4 || l.find("\"record\":[") == std::string::npos) {
      o.malformed.push_back(l);
      continue;
    }
    o.totals[v[0]][v[1]].push_back({v[2], v[3]});
  }
  return o;
}

/// Lost and duplicated rows of `got` against `want` (multisets).
struct multiset_diff {
  i64 lost = 0, duplicated = 0;
  std::string first;
};

multiset_diff diff(const row_multiset& want, const row_multiset& got) {
  multiset_diff d;
  auto show = [](const window_row& r) {
    return "{start " + std::to_string(r[0]) + ", end " + std::to_string(r[1]) + ", key " + std::to_string(r[2]) +
           ", value " + std::to_string(r[3]) + "}";
  };
  for (auto& [r, c] : want) {
    auto it = got.find(r);
    i64 g = it == got.end() ? 0 : it->second;
    if (g < c) {
      d.lost += c - g;
      if (d.first.empty()) d.first = "lost " + show(r);
    }
  }
  for (auto& [r, c] : got) {
    auto it = want.find(r);
    i64 w = it == want.end() ? 0 : it->second;
    if (c > w) {
      d.duplicated += c - w;
      if (d.first.empty()) d.first = (w == 0 ? "unexpected " : "duplicated ") + show(r);
    }
  }
  return d;
}

/// What a crash sequence's committed output looks like against the expectations.
struct report {
  std::size_t window_lines = 0, total_lines = 0, batches = 0, malformed = 0;
  multiset_diff vs_expected, vs_reference;
  i64 totals_duplicated = 0;  ///< (batch time, key) emitted more than once
  i64 missing_batches = 0;    ///< batch times missing between the first and the last
  i64 missing_keys = 0;       ///< a key in the state absent from a later batch
  i64 decreasing = 0;         ///< a key's running [count, sum] smaller than at the batch before
  bool final_equal = false;   ///< the last batch's totals are the expected totals
  bool final_equal_reference = true;
  std::string problem;

  bool ok() const {
    return malformed == 0 && vs_expected.lost == 0 && vs_expected.duplicated == 0 && vs_reference.lost == 0 &&
           vs_reference.duplicated == 0 && totals_duplicated == 0 && missing_batches == 0 && missing_keys == 0 &&
           decreasing == 0 && final_equal && final_equal_reference;
  }
  std::string summary() const {
    char buf[640];
    std::snprintf(buf, sizeof buf,
                  "windows: %zu rows, lost %" PRId64 ", duplicated %" PRId64 " (vs reference run: lost %" PRId64
                  ", duplicated %" PRId64 "); totals: %zu rows in %zu batches, duplicated %" PRId64
                  ", missing batches %" PRId64 ", missing keys %" PRId64 ", decreasing %" PRId64
                  ", final state %s (reference run: %s); malformed lines %zu",
                  window_lines, vs_expected.lost, vs_expected.duplicated, vs_reference.lost, vs_reference.duplicated,
                  total_lines, batches, totals_duplicated, missing_batches, missing_keys, decreasing,
                  final_equal ? "equal" : "DIFFERENT", final_equal_reference ? "equal" : "DIFFERENT", malformed);
    std::string s = buf;
    if (!problem.empty()) s += "; first problem: " + problem;
    return s;
  }
};

/// The final running totals: the last batch's [count, sum] per key.
std::vector<std::array<i64, 2>> final_totals(const output& o) {
  std::vector<std::array<i64, 2>> t(kKeys, {-1, -1});
  if (o.totals.empty()) return t;
  for (auto& [k, vs] : o.totals.rbegin()->second)
    if (k >= 0 && k < kKeys && !vs.empty()) t[static_cast<std::size_t>(k)] = vs.back();
  return t;
}

report check(const output& o, const expected_output& exp, const output* reference) {
  report r;
  r.window_lines = o.window_lines;
  r.total_lines = o.total_lines;
  r.batches = o.totals.size();
  r.malformed = o.malformed.size();
  if (!o.malformed.empty()) r.problem = "malformed line: " + o.malformed.front();
  r.vs_expected = diff(exp.windows, o.windows);
  if (r.problem.empty()) r.problem = r.vs_expected.first;
  if (reference) {
    r.vs_reference = diff(reference->windows, o.windows);
    r.final_equal_reference = final_totals(*reference) == final_totals(o);
  }
  // running totals: each (time, key) once; consecutive batch times; a key,
  // once in the state, in every later batch; never decreasing
  std::map<i64, std::array<i64, 2>> last;  // key -> previous [count, sum]
  i64 prev_time = -1;
  for (auto& [t, keys] : o.totals) {
    if (prev_time >= 0 && t - prev_time > kBatchMs) {
      r.missing_batches += (t - prev_time) / kBatchMs - 1;
      if (r.problem.empty())
        r.problem = "no running totals between batch times " + std::to_string(prev_time) + " and " + std::to_string(t);
    }
    prev_time = t;
    for (auto& [k, vs] : keys) {
      if (vs.size() > 1) {
        r.totals_duplicated += static_cast<i64>(vs.size()) - 1;
        if (r.problem.empty())
          r.problem = "key " + std::to_string(k) + " emitted " + std::to_string(vs.size()) + " times at batch time " +
                      std::to_string(t);
      }
      auto it = last.find(k);
      if (it != last.end() && (vs.front()[0] < it->second[0] || vs.front()[1] < it->second[1])) {
        ++r.decreasing;
        if (r.problem.empty())
          r.problem = "key " + std::to_string(k) + " running total went down at batch time " + std::to_string(t);
      }
      last[k] = vs.back();
    }
    for (auto& [k, prev] : last)
      if (!keys.count(k)) {
        ++r.missing_keys;
        if (r.problem.empty())
          r.problem = "key " + std::to_string(k) + " missing from the totals of batch time " + std::to_string(t);
      }
  }
  r.final_equal = final_totals(o) == exp.totals;
  if (!r.final_equal && r.problem.empty()) {
    auto f = final_totals(o);
    for (std::size_t k = 0; k < f.size(); ++k)
      if (f[k] != exp.totals[k]) {
        r.problem = "final totals of key " + std::to_string(k) + ": [" + std::to_string(f[k][0]) + ", " +
                    std::to_string(f[k][1]) + "], expected [" + std::to_string(exp.totals[k][0]) + ", " +
                    std::to_string(exp.totals[k][1]) + "]";
        break;
      }
  }
  return r;
}

// ---------------------------------------------------------------------------
// running weir

std::string quote(const fs::path& p) { return "\"" + p.string() + "\""; }

/// Kills land within a run's length (longer under sanitizers), at least
/// 400 ms: the time since `began`, the start of the reference run, in ms.
int kill_window_ms(std::chrono::steady_clock::time_point began) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  return std::max<int>(400, static_cast<int>(ms.count()));
}

/// The pipeline over `source` (a DSL source stage with time = int(_));
/// `windows_sink`, when given, is a second sink stage of the windows.
std::string script_text(const std::string& source, const fs::path& out, const std::string& windows_sink = "") {
  std::string s = "set batch_interval = " + std::to_string(kBatchMs) +
                  "ms\n"
                  "set parallelism = 2\n"
                  "let lines = " +
                  source +
                  "\n"
                  "let windows = lines | aggregate(tumbling(10s), count, key = int(_) % 1000)\n"
                  "windows | write_jsonl(" +
                  quote(out / "windows.jsonl") + ")\n";
  if (!windows_sink.empty()) s += "windows | " + windows_sink + "\n";
  s += "lines | map((int(_) % 1000, int(_)))\n"
       "  | update_state_by_key((values, state) =>\n"
       "      [coalesce(state, [0, 0])[0] + len(values), coalesce(state, [0, 0])[1] + sum(values)])\n"
       "  | write_jsonl(" +
       quote(out / "totals.jsonl") + ")\n";
  return s;
}

/// One crash sequence: its script, checkpoint directory, output and logs.
struct job {
  fs::path dir, out, ckpt, logs, script;
  std::vector<std::string> extra_args;
  int runs = 0;  ///< processes started so far (names the log files)
  int resumes = 0;  ///< runs that resumed from a checkpoint taken mid-run (not the final one)

  /// After a run ended (by itself or killed): did it resume mid-run?
  void note_resume() {
    auto err = last_stderr();
    auto at = err.find("resumed from checkpoint");
    if (at != std::string::npos && err.find("(final", at) == std::string::npos) ++resumes;
  }

  job(const fs::path& base, const std::string& name, const std::string& source,
      std::vector<std::string> extra = {"--checkpoint-interval", kInterval}, const std::string& windows_sink = "")
      : dir(base / name), out(dir / "out"), ckpt(dir / "ckpt"), logs(dir / "logs"), extra_args(std::move(extra)) {
    fs::create_directories(out);
    fs::create_directories(logs);
    script = dir / "pipeline.weir";
    weir::test::write_file(script, script_text(source, out, windows_sink));
  }

  std::vector<std::string> args() const {
    std::vector<std::string> a = {"run", script.string(), "--checkpoint", ckpt.string(), "--quiet"};
    a.insert(a.end(), extra_args.begin(), extra_args.end());
    return a;
  }

  pid_t start(const std::vector<std::string>& env = {}) {
    ++runs;
    return weir::test::spawn_weir_env(args(), logs, env, "run-" + std::to_string(runs));
  }

  std::string last_stderr() const {
    return weir::test::slurp(logs / ("run-" + std::to_string(runs) + ".stderr.txt"));
  }

  /// Runs once more to the end (no crash): must exit 0.
  void finish(std::chrono::seconds timeout = 180s) {
    pid_t pid = start();
    auto rc = weir::test::wait_for(pid, timeout);
    note_resume();
    if (!rc) {
      weir::test::kill_weir(pid);
      FAIL("weir did not finish within " << timeout.count() << " s (" << dir << ")");
    }
    INFO("run " << runs << " of " << dir << " stderr: " << last_stderr());
    REQUIRE(*rc == 0);
  }
};

/// A reference run (no crash) of `source` into base/reference.
output reference_run(const fs::path& base, const std::string& source) {
  job ref(base, "reference", source);
  ref.finish();
  return read_output(ref.out);
}

/// SIGKILLs `j` at random moments (uniform in [lo, hi] ms after each start)
/// until it exits 0 by itself or `kills` kills were made, then lets it finish.
/// Returns the number of kills. Any exit other than 0 fails the test.
int kill_randomly(job& j, std::mt19937_64& rng, int kills, int lo_ms, int hi_ms, std::string& delays) {
  std::uniform_int_distribution<int> dist(lo_ms, hi_ms);
  int made = 0;
  while (made < kills) {
    const int delay = dist(rng);
    pid_t pid = j.start();
    auto rc = weir::test::wait_for(pid, std::chrono::milliseconds(delay));
    if (rc) {
      j.note_resume();
      INFO("run " << j.runs << " of " << j.dir << " ended by itself before the kill after " << delay
                  << " ms; stderr: " << j.last_stderr());
      REQUIRE(*rc == 0);
      return made;  // finished
    }
    weir::test::kill_weir(pid);
    j.note_resume();
    ++made;
    delays += (delays.empty() ? "" : " ") + std::to_string(delay);
  }
  j.finish();
  return made;
}

std::uint64_t seed_from_env() {
  if (const char* s = std::getenv("WEIR_CRASH_SEED"); s && *s) return std::strtoull(s, nullptr, 10);
  return 20261121;
}

#define CHECK_REPORT(rep)               \
  do {                                  \
    INFO((rep).summary());              \
    CHECK((rep).vs_expected.lost == 0); \
    CHECK((rep).vs_expected.duplicated == 0); \
    CHECK((rep).vs_reference.lost == 0); \
    CHECK((rep).vs_reference.duplicated == 0); \
    CHECK((rep).totals_duplicated == 0); \
    CHECK((rep).missing_batches == 0);  \
    CHECK((rep).missing_keys == 0);     \
    CHECK((rep).decreasing == 0);       \
    CHECK((rep).final_equal);           \
    CHECK((rep).final_equal_reference); \
    CHECK((rep).malformed == 0);        \
  } while (0)

constexpr i64 kRecords = 1'000'000;
// The named crash points at N = 3 need three checkpoints in one run: a run of
// 1 M records (~0.45 s on 2 cores) takes only 4-8, so those runs read 3 M.
constexpr i64 kCrashPointRecords = 3'000'000;

}  // namespace

TEST_CASE("crash test: the reference run equals the expected windows and totals", "[slow][checkpoint]") {
  weir::test::temp_dir tmp;
  const auto input = tmp.path / "numbers.txt";
  write_numbers(input, kRecords);
  const auto exp = expected_for(kRecords);
  REQUIRE(exp.windows.size() == static_cast<std::size_t>(kRecords / kWindowMs * kKeys));  // 100,000 rows
  const std::string source = "file(" + quote(input) + ", time = int(_))";

  // without --checkpoint (today's behaviour) and with it
  job plain(tmp.path, "plain", source, {});
  {
    auto r = weir::test::run_weir({"run", plain.script.string(), "--quiet"}, plain.logs);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  auto plain_out = read_output(plain.out);
  auto rep_plain = check(plain_out, exp, nullptr);
  std::printf("crash test: run without --checkpoint: %s\n", rep_plain.summary().c_str());
  CHECK_REPORT(rep_plain);

  auto ref = reference_run(tmp.path, source);
  auto rep = check(ref, exp, &plain_out);
  std::printf("crash test: reference run with --checkpoint: %s\n", rep.summary().c_str());
  CHECK_REPORT(rep);
}

TEST_CASE("crash test: SIGKILL at 50 random moments then the committed output equals the reference",
          "[slow][checkpoint]") {
  weir::test::temp_dir tmp;
  const auto input = tmp.path / "numbers.txt";
  const i64 n = 2 * kRecords;
  write_numbers(input, n);
  const auto exp = expected_for(n);
  const std::string source = "file(" + quote(input) + ", time = int(_))";
  const auto ref_began = std::chrono::steady_clock::now();
  auto ref = reference_run(tmp.path, source);
  REQUIRE(check(ref, exp, nullptr).ok());
  const int hi_ms = kill_window_ms(ref_began);

  const auto seed = seed_from_env();
  std::mt19937_64 rng(seed);
  std::printf("crash test: %" PRId64 " records, seed %llu (WEIR_CRASH_SEED), checkpoint interval %s\n", n,
              static_cast<unsigned long long>(seed), kInterval);
  int total_kills = 0, round = 0, resumes = 0;
  // A round is one crash sequence to the end; when a round ends (the job
  // finished) before 50 kills, the next round starts afresh.
  while (total_kills < 50) {
    ++round;
    job j(tmp.path, "round-" + std::to_string(round), source);
    std::string delays;
    int kills = kill_randomly(j, rng, 50 - total_kills, 20, hi_ms, delays);
    total_kills += kills;
    resumes += j.resumes;
    auto rep = check(read_output(j.out), exp, &ref);
    std::printf("crash test: round %d: %d SIGKILLs (after ms: %s), %d runs, %d resumed mid-run; %s\n", round, kills,
                delays.c_str(), j.runs, j.resumes, rep.summary().c_str());
    std::fflush(stdout);
    CHECK_REPORT(rep);
    if (!rep.ok()) break;
  }
  CHECK(total_kills >= 50);
  // most restarts resumed from a checkpoint taken mid-run (not from scratch
  // or from the final one), so recovery itself was exercised
  std::printf("crash test: %d restarts resumed from a mid-run checkpoint\n", resumes);
  CHECK(resumes >= 20);
}

TEST_CASE("crash test: at each named crash point the restarted run commits the reference output",
          "[slow][checkpoint]") {
  weir::test::temp_dir tmp;
  const auto input = tmp.path / "numbers.txt";
  write_numbers(input, kCrashPointRecords);
  const auto exp = expected_for(kCrashPointRecords);
  const std::string source = "file(" + quote(input) + ", time = int(_))";
  auto ref = reference_run(tmp.path, source);
  REQUIRE(check(ref, exp, nullptr).ok());

  struct crash_case {
    std::vector<std::string> points;  ///< WEIR_CRASH_AT of consecutive runs, each must exit 77
    std::vector<std::string> extra;   ///< run options
    std::string label;
  };
  const std::vector<std::string> periodic = {"--checkpoint-interval", kInterval};
  // --checkpoint-interval 1h: the only checkpoint is the final one, so ":1"
  // crashes while the end of the bounded run is being committed.
  const std::vector<std::string> final_only = {"--checkpoint-interval", "1h"};
  std::vector<crash_case> cases;
  for (const char* p : {"after_snapshot_write", "before_manifest_rename", "after_manifest_before_commit",
                        "during_sink_commit"}) {
    for (int n : {1, 3}) cases.push_back({{std::string(p) + ":" + std::to_string(n)}, periodic, "periodic"});
    cases.push_back({{std::string(p) + ":1"}, final_only, "final checkpoint"});
  }
  cases.push_back({{"after_manifest_before_commit:2", "during_recovery"}, periodic, "periodic"});
  cases.push_back({{"after_snapshot_write:3", "during_recovery", "during_recovery"}, periodic, "periodic"});
  cases.push_back({{"after_manifest_before_commit:1", "during_recovery"}, final_only, "final checkpoint"});

  int k = 0;
  for (auto& c : cases) {
    std::string name;
    for (auto& p : c.points) name += (name.empty() ? "" : ", then ") + p;
    job j(tmp.path, "case-" + std::to_string(++k), source, c.extra);
    for (auto& p : c.points) {
      pid_t pid = j.start({"WEIR_CRASH_AT=" + p});
      auto rc = weir::test::wait_for(pid, 120s);
      if (!rc) weir::test::kill_weir(pid);
      INFO("WEIR_CRASH_AT=" << p << " (" << name << ", " << c.label << "), stderr: " << j.last_stderr());
      REQUIRE(rc.has_value());
      REQUIRE(*rc == 77);
    }
    j.finish();
    auto rep = check(read_output(j.out), exp, &ref);
    std::printf("crash test: WEIR_CRASH_AT=%s (%s): %s\n", name.c_str(), c.label.c_str(), rep.summary().c_str());
    std::fflush(stdout);
    INFO("WEIR_CRASH_AT=" << name << " (" << c.label << ")");
    CHECK_REPORT(rep);
  }
}

TEST_CASE("crash test: a file source split over 3 instances SIGKILLed at 15 random moments commits the reference "
          "output and a restart at another parallelism is refused naming both",
          "[slow][checkpoint]") {
  weir::test::temp_dir tmp;
  const auto input = tmp.path / "numbers.txt";
  const i64 n = 2 * kRecords;  // ~15 MB: 3 splits of ~5 MB
  write_numbers(input, n);
  const auto exp = expected_for(n);
  const std::string source = "file(" + quote(input) + ", parallelism = 3, time = int(_))";
  const auto ref_began = std::chrono::steady_clock::now();
  auto ref = reference_run(tmp.path, source);
  REQUIRE(check(ref, exp, nullptr).ok());
  const int hi_ms = kill_window_ms(ref_began);
  const auto seed = seed_from_env();
  std::mt19937_64 rng(seed + 3);
  int total_kills = 0, round = 0;
  while (total_kills < 15) {
    ++round;
    job j(tmp.path, "split-round-" + std::to_string(round), source);
    std::string delays;
    total_kills += kill_randomly(j, rng, 15 - total_kills, 20, hi_ms, delays);
    auto rep = check(read_output(j.out), exp, &ref);
    std::printf("crash test: file x3, round %d (after ms: %s), %d runs, %d resumed mid-run; %s\n", round,
                delays.c_str(), j.runs, j.resumes, rep.summary().c_str());
    std::fflush(stdout);
    CHECK_REPORT(rep);
    if (!rep.ok()) break;
  }

  // a checkpoint of the 3 instances, then a run with 2: refused, both named
  job j(tmp.path, "other-parallelism", "file(" + quote(input) + ", time = int(_))");
  pid_t pid = j.start({"WEIR_CRASH_AT=after_manifest_before_commit:1"});
  auto rc = weir::test::wait_for(pid, 120s);
  if (!rc) weir::test::kill_weir(pid);
  REQUIRE(rc.has_value());
  REQUIRE(*rc == 77);
  j.extra_args.insert(j.extra_args.end(), {"--parallelism", "3"});
  pid = j.start();
  rc = weir::test::wait_for(pid, 120s);
  if (!rc) weir::test::kill_weir(pid);
  REQUIRE(rc.has_value());
  INFO(j.last_stderr());
  CHECK(*rc == 1);
  CHECK_THAT(j.last_stderr(), Catch::Contains("ran at parallelism 2 in the checkpoint, this run has parallelism 3"));
  CHECK_THAT(j.last_stderr(), Catch::Contains("file -> with_watermark"));
}

#ifdef WEIR_KAFKA_MOCK
namespace {

/// Every message of `topic` (partitions 0..n-1) as a read_committed consumer
/// sees it (a plain librdkafka consumer, not weir's reader), parsed as window
/// rows {"start":S,"end":E,"key":K,"value":V}; unparsable messages counted.
/// Partitions of the window output topics: kafka_out spreads the rows over
/// them (no key), so that a round's output with its at-least-once duplicates
/// (up to ~70,000 messages here) stays well under the mock cluster's 5 MB per
/// partition (it drops older messages beyond that; seen as "lost" rows).
constexpr int kWindowPartitions = 4;

row_multiset consume_windows(const std::string& brokers, const std::string& topic, int partitions,
                             std::size_t& messages, std::size_t& malformed) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "weir-crash-test-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  REQUIRE(rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof err) == RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE(rk != nullptr);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  REQUIRE(rd_kafka_assign(rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(l);
  // librdkafka's mock cluster keeps at most 5 MB (and 100,000 message sets)
  // per partition and drops the oldest beyond that: a read from the
  // beginning would then miss them. Say so, rather than count them as lost.
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = -1, high = -1;
    REQUIRE(rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 10000) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
    INFO("partition " << p << " of " << topic << ": offsets " << low << ".." << high
                      << "; the mock cluster dropped its oldest messages (5 MB per partition)");
    CHECK(low == 0);
  }
  row_multiset rows;
  messages = malformed = 0;
  int eof = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (eof < partitions && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++eof;
    } else if (!m->err) {
      ++messages;
      std::string_view text(static_cast<const char*>(m->payload), m->len);
      auto v = ints_of(text);
      if (v.size() == 4 && text.find("\"start\"") != std::string_view::npos) rows[{v[0], v[1], v[2], v[3]}] += 1;
      else ++malformed;
    }
    rd_kafka_message_destroy(m);
  }
  CHECK(eof == partitions);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return rows;
}

}  // namespace

TEST_CASE("crash test: Kafka source on the mock cluster SIGKILLed at 50 random moments then the output equals the "
          "reference",
          "[slow][checkpoint][kafka]") {
  // The broker runs in its own process (weir-kafka-mock), so killing weir
  // leaves the topics and the cluster as they are. 4 partitions read by 4
  // source instances: instance i reads the n with n % 4 == i in order, so each
  // instance's event time only grows and no record is late (watermark 0, the
  // minimum over the instances), whatever the interleaving.
  weir::test::temp_dir tmp;
  const auto input = tmp.path / "numbers.txt";
  const i64 n = 300'000;
  write_numbers(input, n);
  const auto exp = expected_for(n);
  std::vector<std::string> mock_args = {"--topic", "numbers:4", "--produce", "numbers=" + input.string(),
                                        "--topic", "windows_ref:" + std::to_string(kWindowPartitions)};
  constexpr int kMaxRounds = 8;
  for (int r = 1; r <= kMaxRounds; ++r) mock_args.insert(mock_args.end(), {"--topic", "windows_" + std::to_string(r) + ":" + std::to_string(kWindowPartitions)});
  weir::test::kafka_mock_process mc(mock_args);
  const std::string source = "kafka(\"numbers\", brokers = \"" + mc.brokers +
                             "\", start = \"earliest\", until = \"end\", parallelism = 4, time = int(_))";
  auto kafka_out = [&](const std::string& topic) {
    return "kafka_out(\"" + topic + "\", brokers = \"" + mc.brokers + "\")";
  };
  output ref;
  {
    job j(tmp.path, "reference", source, {"--checkpoint-interval", kInterval}, kafka_out("windows_ref"));
    j.finish();
    ref = read_output(j.out);
    auto rep = check(ref, exp, nullptr);
    INFO(rep.summary());
    REQUIRE(rep.ok());
  }

  const auto seed = seed_from_env() + 1;
  std::mt19937_64 rng(seed);
  std::printf("crash test (Kafka): %" PRId64 " records in 4 partitions, seed %llu, checkpoint interval %s\n", n,
              static_cast<unsigned long long>(seed), kInterval);
  int total_kills = 0, round = 0;
  while (total_kills < 50 && round < kMaxRounds) {
    ++round;
    const std::string topic = "windows_" + std::to_string(round);
    job j(tmp.path, "kafka-round-" + std::to_string(round), source, {"--checkpoint-interval", kInterval},
          kafka_out(topic));
    std::string delays;
    int kills = kill_randomly(j, rng, 50 - total_kills, 20, 400, delays);
    total_kills += kills;
    auto rep = check(read_output(j.out), exp, &ref);
    std::printf("crash test (Kafka): round %d: %d SIGKILLs (after ms: %s), %d runs; %s\n", round, kills,
                delays.c_str(), j.runs, rep.summary().c_str());
    CHECK_REPORT(rep);
    // kafka_out: on the mock cluster the documented guarantee is
    // at-least-once (it keeps no transactional offsets and ignores
    // isolation.level): nothing lost; duplicates are counted and shown.
    std::size_t messages = 0, malformed = 0;
    auto rows = consume_windows(mc.brokers, topic, kWindowPartitions, messages, malformed);
    auto d = diff(exp.windows, rows);
    std::printf("crash test (Kafka): round %d: read_committed consumer of %s: %zu messages, lost %" PRId64
                ", duplicated %" PRId64 " (at-least-once on the mock cluster)\n",
                round, topic.c_str(), messages, d.lost, d.duplicated);
    std::fflush(stdout);
    INFO(d.first);
    CHECK(malformed == 0);
    CHECK(d.lost == 0);
    if (!rep.ok() || d.lost != 0) break;
  }
  CHECK(total_kills >= 50);
}
#endif

TEST_CASE("crash test: the output checker counts lost and duplicated rows and broken running totals",
          "[checkpoint]") {
  // The checker itself, on synthetic output: what a correct run writes for
  // 30,000 records in 3 batches, then the same with each kind of damage.
  const i64 n = 30'000;
  const auto exp = expected_for(n);
  output good;
  for (auto& [r, c] : exp.windows) good.windows[r] += c;
  good.window_lines = exp.windows.size();
  std::vector<std::array<i64, 2>> running(kKeys, {0, 0});
  for (int b = 1; b <= 3; ++b) {
    for (i64 i = (b - 1) * n / 3; i < b * n / 3; ++i) {
      running[static_cast<std::size_t>(i % kKeys)][0] += 1;
      running[static_cast<std::size_t>(i % kKeys)][1] += i;
    }
    for (int k = 0; k < kKeys; ++k) good.totals[b * kBatchMs][k].push_back(running[static_cast<std::size_t>(k)]);
    good.total_lines += kKeys;
  }
  {
    auto rep = check(good, exp, &good);
    INFO(rep.summary());
    CHECK(rep.ok());
  }
  {
    auto o = good;  // a window row lost, another one twice
    o.windows.erase(o.windows.begin());
    o.windows.rbegin()->second += 1;
    auto rep = check(o, exp, &good);
    CHECK(rep.vs_expected.lost == 1);
    CHECK(rep.vs_expected.duplicated == 1);
    CHECK(rep.vs_reference.lost == 1);
    CHECK_FALSE(rep.ok());
  }
  {
    auto o = good;  // a window counted twice: value 11 instead of 10
    auto node = o.windows.extract(o.windows.begin());
    auto row = node.key();
    row[3] += 1;
    o.windows[row] += 1;
    auto rep = check(o, exp, &good);
    CHECK(rep.vs_expected.lost == 1);
    CHECK(rep.vs_expected.duplicated == 1);
  }
  {
    auto o = good;  // batch 200 emitted twice (an epoch committed twice)
    for (auto& [k, vs] : o.totals[2 * kBatchMs]) vs.push_back(vs.front());
    auto rep = check(o, exp, &good);
    CHECK(rep.totals_duplicated == kKeys);
    CHECK(rep.final_equal);
    CHECK_FALSE(rep.ok());
  }
  {
    auto o = good;  // batch 200 lost
    o.totals.erase(2 * kBatchMs);
    auto rep = check(o, exp, &good);
    CHECK(rep.missing_batches == 1);
    CHECK_FALSE(rep.ok());
  }
  {
    auto o = good;  // the state went back (restored twice), and a key missing
    o.totals[3 * kBatchMs][7] = o.totals[1 * kBatchMs][7];
    o.totals[2 * kBatchMs].erase(9);
    auto rep = check(o, exp, &good);
    CHECK(rep.decreasing == 1);  // key 7 at batch 300 below batch 200
    CHECK(rep.missing_keys == 1);
    CHECK_FALSE(rep.final_equal);
  }
}

namespace {

/// Checkpoint folders of `dir` that have a MANIFEST, oldest first.
std::vector<fs::path> complete_checkpoints(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind("chk-", 0) == 0 && fs::exists(e.path() / "MANIFEST")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("crash test: a corrupt newest checkpoint (bit flip or truncation or MANIFEST deleted) makes the restart "
          "fall back to the previous one with the reference output",
          "[slow][checkpoint]") {
  weir::test::temp_dir tmp;
  const auto input = tmp.path / "numbers.txt";
  const i64 n = 2 * kRecords;
  write_numbers(input, n);
  const auto exp = expected_for(n);
  const std::string source = "file(" + quote(input) + ", time = int(_))";
  for (std::string damage : {"bit flip", "truncation", "MANIFEST deleted"}) {
    INFO(damage);
    job j(tmp.path, "corrupt-" + std::to_string(damage.size()), source);
    // run until two checkpoints are complete, then SIGKILL
    pid_t pid = j.start();
    std::vector<fs::path> done;
    for (int i = 0; i < 2000 && done.size() < 2; ++i) {
      if (weir::test::wait_for(pid, std::chrono::milliseconds(2))) break;
      done = complete_checkpoints(j.ckpt);
    }
    weir::test::kill_weir(pid);
    done = complete_checkpoints(j.ckpt);
    REQUIRE(done.size() >= 2);
    const fs::path newest = done.back();
    fs::path victim;
    for (auto& e : fs::directory_iterator(newest))
      if (e.path().extension() == ".bin" && (victim.empty() || fs::file_size(e.path()) > fs::file_size(victim)))
        victim = e.path();
    REQUIRE(!victim.empty());
    if (damage == "bit flip") {
      std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(fs::file_size(victim) / 2));
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x10);
      f.seekp(static_cast<std::streamoff>(fs::file_size(victim) / 2));
      f.write(&c, 1);
    } else if (damage == "truncation") {
      fs::resize_file(victim, fs::file_size(victim) / 2);
    } else {
      fs::remove(newest / "MANIFEST");
    }
    j.finish();
    const std::string err = weir::test::slurp(j.logs / ("run-" + std::to_string(j.runs) + ".stderr.txt"));
    INFO(err);
    // the restart says which checkpoint it skipped and resumed from the previous one
    CHECK_THAT(err, Catch::Contains("resumed from checkpoint"));
    if (damage != "MANIFEST deleted") CHECK_THAT(err, Catch::Contains("using"));
    auto rep = check(read_output(j.out), exp, nullptr);
    std::printf("crash test: newest checkpoint damaged by %s: %s\n", damage.c_str(), rep.summary().c_str());
    CHECK_REPORT(rep);
  }
}

TEST_CASE("crash test: a full checkpoint disk (1 MB tmpfs) fails checkpoints (counted) - processing goes on and "
          "checkpoints succeed again when space returns",
          "[slow][checkpoint]") {
  weir::test::temp_dir tmp;
  if (std::system("unshare -rm true >/dev/null 2>&1") != 0) {
    WARN("SKIPPED: unshare -rm (a user and mount namespace for a private tmpfs) is not allowed here");
    return;
  }
  fs::create_directories(tmp.path / "ck");
  weir::test::write_file(tmp.path / "p.weir",
                         "generate(\"access_log\", rate = 20000, count = 40000) | map((_.status, 1)) | "
                         "reduce_by_key(sum) | write_jsonl(" + quote(tmp.path / "out.jsonl") + ")\n");
  // the checkpoint directory is a 1 MB tmpfs, filled up until 0.8 s into the run
  const auto ck = tmp.path / "ck";
  weir::test::write_file(tmp.path / "run.sh",
                         "set -e\nmount -t tmpfs -o size=1m tmpfs '" + ck.string() + "'\n"
                         "dd if=/dev/zero of='" + ck.string() + "/filler' bs=4k 2>/dev/null || true\n"
                         "(sleep 0.8; rm -f '" + ck.string() + "/filler') &\n'" WEIR_BINARY "' run '" +
                         (tmp.path / "p.weir").string() + "' --checkpoint '" + ck.string() +
                         "' --checkpoint-interval 50ms --batch-interval 20ms --stats --fresh\nwait\n");
  const std::string cmd = "unshare -rm bash '" + (tmp.path / "run.sh").string() + "' 2>'" +
                          (tmp.path / "err.txt").string() + "'";
  int rc = std::system(cmd.c_str());
  const std::string err = weir::test::slurp(tmp.path / "err.txt");
  INFO(err);
  REQUIRE(rc == 0);
  CHECK_THAT(err, Catch::Contains("No space left on device"));
  // "checkpoints: C completed, F failed, A aborted; ..."
  auto at = err.find("checkpoints: ");
  REQUIRE(at != std::string::npos);
  long completed = std::strtol(err.c_str() + at + 13, nullptr, 10);
  auto f = err.find(" completed, ", at);
  REQUIRE(f != std::string::npos);
  long failed = std::strtol(err.c_str() + f + 12, nullptr, 10);
  std::printf("crash test: full checkpoint disk: %ld checkpoints failed, then %ld completed\n", failed, completed);
  CHECK(failed >= 3);
  CHECK(completed >= 3);
  // nothing lost: the per-batch status counts add up to every generated record
  i64 total = 0;
  for (auto& line : lines_of(tmp.path / "out.jsonl")) {
    auto v = ints_of(line);  // time, status, count
    REQUIRE(v.size() == 3);
    total += v[2];
  }
  CHECK(total == 40000);
}
