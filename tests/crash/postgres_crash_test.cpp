// Crash tests of the PostgreSQL sink's exactly-once commit, through the
// `weir-testing` binary (weir with the test hooks, WEIR_CRASH_AT) against a
// real server (tests/support/postgres_server.hpp; one for the file, a fresh
// database per test case):
//
//   a file of numbered lines 0..N-1
//     -> map({n: int(_)})                 -> write_postgres(table = "rows_X")
//     -> map({k: int(_) % 1000, n: int(_)}) -> write_postgres(table = "latest_X", key = ["k"])
//
// run with --checkpoint, SIGKILLed at random moments (seeded, printed) and
// restarted until it exits 0; and stopped at each named crash point of the
// two-phase commit (after the snapshot, between pre-commit and commit, in
// the middle of the commit transaction, after the commit before the next
// checkpoint, during recovery; exit code 77), then restarted. The append
// table must then hold every n exactly once and the upsert table one row per
// key with its last n.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/postgres_server.hpp"
#include "support/test_data.hpp"
#include "support/weir_process.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using i64 = std::int64_t;

void write_numbers(const fs::path& p, i64 n) {
  std::ofstream out(p, std::ios::binary);
  std::string buf;
  for (i64 i = 0; i < n; ++i) {
    buf += std::to_string(i);
    buf += '\n';
    if (buf.size() > (1u << 20)) {
      out << buf;
      buf.clear();
    }
  }
  out << buf;
  REQUIRE(out.good());
}

/// One crash sequence: its script (two sinks on tables named after it),
/// checkpoint directory and logs.
struct pg_job {
  fs::path dir, ckpt, logs, script;
  std::string rows, latest;
  int runs = 0;

  pg_job(const fs::path& base, const std::string& name, const fs::path& input, const std::string& url)
      : dir(base / name), ckpt(dir / "ckpt"), logs(dir / "logs"), rows("rows_" + name), latest("latest_" + name) {
    fs::create_directories(logs);
    script = dir / "pipeline.weir";
    weir::test::write_file(script, "set batch_interval = 20ms\n"
                                   // one instance: the upsert keeps each key's last n in file order
                                   "let lines = file(\"" + input.string() + "\", parallelism = 1)\n"
                                   "lines | map({n: int(_)}) | write_postgres(\"" + url + "\", table = \"" + rows +
                                       "\", timeout = 20s)\n"
                                       "lines | map({k: int(_) % 1000, n: int(_)})\n"
                                       "  | write_postgres(\"" + url + "\", table = \"" + latest +
                                       "\", key = [\"k\"], timeout = 20s)\n");
  }

  pid_t start(const std::vector<std::string>& env = {}) {
    ++runs;
    return weir::test::spawn_weir_env({"run", script.string(), "--checkpoint", ckpt.string(), "--quiet",
                                       "--checkpoint-interval", "100ms"},
                                      logs, env, "run-" + std::to_string(runs));
  }
  std::string last_stderr() const { return weir::test::slurp(logs / ("run-" + std::to_string(runs) + ".stderr.txt")); }

  /// Runs weir once with `env`; its exit code, or nullopt (killed) when it
  /// did not end within `limit`.
  std::optional<int> run(const std::vector<std::string>& env, std::chrono::seconds limit) {
    pid_t pid = start(env);
    auto rc = weir::test::wait_for(pid, limit);
    if (!rc) weir::test::kill_weir(pid);
    return rc;
  }

  void finish() {
    auto rc = run({}, 240s);
    if (!rc) FAIL("weir did not finish within 240 s (" << dir << ")");
    INFO("run " << runs << " stderr: " << last_stderr());
    REQUIRE(*rc == 0);
  }
};

/// What both test cases start from: a fresh database and a file of the
/// numbered lines 0..n-1.
struct crash_setup {
  weir::test::postgres_database pg;
  weir::test::temp_dir tmp;
  fs::path input;
  explicit crash_setup(i64 n) : input(tmp.path / "numbers.txt") { write_numbers(input, n); }
  pg_job job(const std::string& name) { return pg_job(tmp.path, name, input, pg.url()); }
};

/// The committed tables of `j` hold 0..n-1 once each, and per key its last n.
void check_tables(const weir::test::postgres_database& pg, const pg_job& j, i64 n) {
  auto stats = pg.query("SELECT count(*), count(DISTINCT n), min(n), max(n) FROM " + j.rows);
  INFO("append table " << j.rows << ": rows, distinct, min, max");
  CHECK(stats.at(0) == std::vector<std::string>{std::to_string(n), std::to_string(n), "0", std::to_string(n - 1)});
  const i64 keys = std::min<i64>(n, 1000);
  auto latest = pg.query("SELECT count(*), count(*) FILTER (WHERE n = " + std::to_string(n) + " - 1 - ((" +
                         std::to_string(n) + " - 1 - k) % 1000)) FROM " + j.latest);
  INFO("upsert table " << j.latest << ": rows, rows holding the key's last n");
  CHECK(latest.at(0) == std::vector<std::string>{std::to_string(keys), std::to_string(keys)});
  // nothing left staged
  CHECK(pg.scalar("SELECT count(*) FROM pg_tables t JOIN weir_sink_epochs e ON e.staging = t.tablename "
                  "WHERE e.sink_id IN ('" + j.rows + "', '" + j.latest + "')") == "0");
}

std::uint64_t seed_from_env() {
  if (const char* s = std::getenv("WEIR_CRASH_SEED"); s && *s) return std::strtoull(s, nullptr, 10);
  return 20261204;
}

}  // namespace

TEST_CASE("postgres crash test: 2 M rows SIGKILLed at random moments and restarted until done leave every row once "
          "and one row per key with its last value",
          "[slow][checkpoint][postgres]") {
  REQUIRE_POSTGRES();
  constexpr i64 n = 2'000'000;
  crash_setup setup(n);
  const auto seed = seed_from_env();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> delay(300, 2500);
  // A round is one job killed until it finishes by itself (at most 8 kills);
  // when a fast machine lets a round finish before 3 kills, another round
  // starts afresh on new tables, so every run sees at least 3 restarts.
  int total_kills = 0;
  for (int round = 1; total_kills < 3 && round <= 6; ++round) {
    pg_job j = setup.job("random" + std::to_string(round));
    std::string delays;
    int kills = 0;
    bool finished = false;
    for (; kills < 8 && !finished; ++kills) {
      const int d = delay(rng);
      pid_t pid = j.start();
      if (auto rc = weir::test::wait_for(pid, std::chrono::milliseconds(d))) {
        INFO("run " << j.runs << " ended by itself; stderr: " << j.last_stderr());
        REQUIRE(*rc == 0);
        finished = true;
        break;
      }
      weir::test::kill_weir(pid);
      delays += (delays.empty() ? "" : " ") + std::to_string(d);
    }
    if (!finished) j.finish();
    total_kills += kills;
    std::printf("postgres crash test: round %d: %" PRId64 " rows, seed %llu (WEIR_CRASH_SEED), %d kills after %s ms, "
                "%d runs\n",
                round, n, static_cast<unsigned long long>(seed), kills, delays.c_str(), j.runs);
    check_tables(setup.pg, j, n);
  }
  CHECK(total_kills >= 3);
}

TEST_CASE("postgres crash test: at each named crash point of the two-phase commit the restarted run commits every "
          "row once",
          "[slow][checkpoint][postgres]") {
  REQUIRE_POSTGRES();
  constexpr i64 n = 1'000'000;
  crash_setup setup(n);
  struct sequence {
    std::string name;
    std::vector<std::string> points;  ///< WEIR_CRASH_AT of consecutive runs, each must exit 77
  };
  const std::vector<sequence> sequences = {
      {"snapshot", {"after_snapshot_write:2"}},
      {"precommit", {"after_manifest_before_commit:2"}},
      {"commit", {"during_sink_commit:2"}},
      {"committed", {"after_sink_commit:2"}},
      {"recovery", {"after_manifest_before_commit:2", "during_recovery"}},
  };
  for (auto& s : sequences) {
    pg_job j = setup.job(s.name);
    for (auto& p : s.points) {
      auto rc = j.run({"WEIR_CRASH_AT=" + p}, 120s);
      INFO("WEIR_CRASH_AT=" << p << ", stderr: " << j.last_stderr());
      REQUIRE(rc);
      REQUIRE(*rc == 77);
    }
    j.finish();
    INFO("sequence " << s.name);
    check_tables(setup.pg, j, n);
    std::printf("postgres crash test: crash points %s: committed once\n", s.name.c_str());
  }
}
