// The PostgreSQL sink (io/postgres.hpp) against a real server from Debian's
// package (tests/support/postgres_server.hpp): rows and their types, the
// table created from the first record, upserts, rows the table refuses under
// each on_error policy, the two-phase commit of checkpointed runs crashed
// between pre-commit and commit and after commit, lost connections, and the
// errors at start. One server for the file, a fresh database per test case
// (weir_test ONE_PROCESS). Skipped with a message when PostgreSQL is not
// installed.
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "support/postgres_server.hpp"
#include "support/test_data.hpp"
#include "weir/api/dstream.hpp"
#include "weir/io/dead_letter.hpp"
#include "weir/io/json.hpp"
#include "weir/io/postgres.hpp"
#include "weir/operators/snapshot.hpp"

namespace {

using namespace std::chrono_literals;
using weir::value;
using weir::test::postgres_database;

value obj(std::vector<weir::field> f) { return value::object(std::move(f)); }

/// Records 0..n-1 as objects {n, k: n % keys}, `per_read` per read, with a
/// position for checkpoints; `pause` between reads slows a run down.
class numbers_source final : public weir::io::source_reader {
public:
  numbers_source(std::int64_t n, std::int64_t keys, std::size_t per_read, std::chrono::microseconds pause)
      : n_(n), keys_(keys), per_read_(per_read), pause_(pause) {}
  weir::io::read_result read(weir::records& out, std::size_t max) override {
    if (pause_.count() > 0) std::this_thread::sleep_for(pause_);
    for (std::size_t i = 0; i < std::min(max, per_read_) && next_ < n_; ++i, ++next_)
      out.push_back(obj({{"n", next_}, {"k", next_ % keys_}}));
    using st = weir::io::read_result::status;
    return {next_ == n_ ? st::end : st::more, {}};
  }
  bool replayable() const override { return true; }
  void snapshot_position(weir::state_writer& w) const override { w.i64(next_); }
  void restore_position(weir::state_reader& r) override { next_ = r.i64(); }
  std::string describe() const override { return "numbers"; }

private:
  std::int64_t n_, keys_, next_ = 0;
  std::size_t per_read_;
  std::chrono::microseconds pause_;
};

weir::io::postgres_sink_options options(const postgres_database& pg, std::string table) {
  weir::io::postgres_sink_options o;
  o.url = pg.url();
  o.table = std::move(table);
  o.timeout = 10s;
  return o;
}

/// Runs `recs` (one batch each) through write_postgres(o); returns the stats.
weir::run_stats run_batches(const std::vector<weir::records>& batches, weir::io::postgres_sink_options o,
                            const std::string& checkpoint_dir = "") {
  weir::test::temp_dir tmp;
  auto path = tmp.path / "batches.jsonl";
  {
    std::ofstream out(path);
    for (auto& b : batches) out << value::array(b).to_json() << "\n";
  }
  weir::context_options co{.batch_interval = 100ms, .parallelism = 1, .threads = 2};
  if (!checkpoint_dir.empty()) {
    co.checkpoint.dir = checkpoint_dir;
    co.checkpoint.interval = 50ms;
  }
  weir::streaming_context ssc(co);
  ssc.batches(path.string()).write_postgres(std::move(o));
  return ssc.run();
}

weir::records parse_jsonl_records(const std::string& json_array) {
  weir::test::temp_dir tmp;
  auto p = tmp.path / "r.jsonl";
  std::ofstream(p) << json_array << "\n";
  auto v = weir::io::read_jsonl(p.string());
  return v.empty() ? weir::records{} : weir::records(v[0].as_array().begin(), v[0].as_array().end());
}

}  // namespace

TEST_CASE("write_postgres: appends records with COPY into a table created from the first record and typed by kind",
          "[postgres]") {
  REQUIRE_POSTGRES();
  postgres_database pg;
  auto recs = parse_jsonl_records(
      R"([{"id": 1, "x": 1.5, "name": "plain", "ok": true, "tags": ["a", "b"], "meta": {"k": 1}, "note": null},)"
      R"( {"id": 2, "x": -2.25e10, "name": "tab\there\nnew line \\ back \"q\" é", "ok": false, "tags": [], "meta": {}},)"
      R"( {"id": 3, "name": "", "ok": null}])");
  REQUIRE(recs.size() == 3);
  run_batches({recs, {}}, options(pg, "things"));

  auto types = pg.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'things' ORDER BY "
      "ordinal_position");
  REQUIRE(types == weir::test::pg_rows{{"id", "bigint"},   {"x", "double precision"}, {"name", "text"},
                                       {"ok", "boolean"},  {"tags", "jsonb"},         {"meta", "jsonb"},
                                       {"note", "text"}});
  auto rows = pg.query("SELECT id, x, name, ok, tags::text, meta::text, note FROM things ORDER BY id");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == std::vector<std::string>{"1", "1.5", "plain", "t", "[\"a\", \"b\"]", "{\"k\": 1}", "NULL"});
  CHECK(rows[1] ==
        std::vector<std::string>{"2", "-22500000000", "tab\there\nnew line \\ back \"q\" é", "f", "[]", "{}", "NULL"});
  CHECK(rows[2] == std::vector<std::string>{"3", "NULL", "", "NULL", "NULL", "NULL", "NULL"});
}

TEST_CASE("write_postgres: the items of a tuple are the columns _1 _2 and any other value is the column value",
          "[postgres]") {
  REQUIRE_POSTGRES();
  postgres_database pg;
  {
    weir::streaming_context ssc({.batch_interval = 100ms, .parallelism = 1, .threads = 2});
    ssc.source("numbers", [] { return weir::io::source_ptr(new numbers_source(4, 2, 10, {})); })
        .map([](const value& r) { return value::pair(r.as_object()[1].val, r.as_object()[0].val); })
        .write_postgres(options(pg, "pairs"));
    ssc.run();
  }
  CHECK(pg.query("SELECT _1, _2 FROM pairs ORDER BY _2") ==
        weir::test::pg_rows{{"0", "0"}, {"1", "1"}, {"0", "2"}, {"1", "3"}});
  run_batches({{value("x"), value(7)}, {value::array({1, 2})}}, options(pg, "scalars"));
  CHECK(pg.query("SELECT value FROM scalars ORDER BY value") == weir::test::pg_rows{{"7"}, {"[1,2]"}, {"x"}});
  CHECK(pg.scalar("SELECT data_type FROM information_schema.columns WHERE table_name = 'scalars'") == "text");
}

TEST_CASE("write_postgres: an existing table keeps its types and fields go to columns by name (missing ones null)",
          "[postgres]") {
  REQUIRE_POSTGRES();
  postgres_database pg;
  pg.query("CREATE SCHEMA app; CREATE TABLE app.counts (id serial, word varchar(20), n integer, "
           "at timestamptz NOT NULL DEFAULT now())");
  run_batches({{obj({{"n", 3}, {"word", "a"}}), obj({{"word", "b"}})}}, options(pg, "app.counts"));
  CHECK(pg.query("SELECT id, word, n, at IS NOT NULL FROM app.counts ORDER BY id") ==
        weir::test::pg_rows{{"1", "a", "3", "t"}, {"2", "b", "NULL", "t"}});
}

TEST_CASE("write_postgres: with key the rows are upserted and the last record of a key wins", "[postgres]") {
  REQUIRE_POSTGRES();
  postgres_database pg;
  auto o = options(pg, "latest");
  o.key = {"k"};
  run_batches({{obj({{"k", "a"}, {"v", 1}}), obj({{"k", "b"}, {"v", 2}}), obj({{"k", "a"}, {"v", 3}})},
               {obj({{"k", "b"}, {"v", 4}}), obj({{"k", "c"}, {"v", 5}})},
               {}},
              o);
  CHECK(pg.query("SELECT k, v FROM latest ORDER BY k") == weir::test::pg_rows{{"a", "3"}, {"b", "4"}, {"c", "5"}});
  CHECK(pg.scalar("SELECT count(*) FROM pg_index WHERE indrelid = 'latest'::regclass AND indisprimary") == "1");
  // again (an existing table): values replaced, keys not repeated
  run_batches({{obj({{"k", "a"}, {"v", 10}}), obj({{"k", "d"}, {"v", 11}})}}, o);
  CHECK(pg.query("SELECT k, v FROM latest ORDER BY k") ==
        weir::test::pg_rows{{"a", "10"}, {"b", "4"}, {"c", "5"}, {"d", "11"}});
}

TEST_CASE("write_postgres: a row the table cannot take follows on_error (skip or dead_letter or fail)", "[postgres]") {
  REQUIRE_POSTGRES();
  postgres_database pg;
  pg.query("CREATE TABLE strict (n bigint NOT NULL CHECK (n >= 0), s text)");
  weir::records batch = {obj({{"n", 1}, {"s", "ok"}}), obj({{"n", "abc"}, {"s", "not a number"}}),
                         obj({{"n", -5}, {"s", "check"}}),   obj({{"n", 2}, {"s", "ok"}}),
                         obj({{"n", 3}, {"extra", 1}}),      obj({{"s", "null n"}}),
                         obj({{"n", 4}, {"s", "ok"}})};
  for (bool checkpointed : {false, true}) {
    INFO("checkpointed " << checkpointed);
    weir::test::temp_dir tmp;
    pg.query("TRUNCATE strict");
    auto o = options(pg, "strict");
    o.on_error.action = weir::on_error::skip;
    auto stats = run_batches({batch}, o, checkpointed ? (tmp.path / "ckpt").string() : "");
    CHECK(pg.query("SELECT n, s FROM strict ORDER BY n") ==
          weir::test::pg_rows{{"1", "ok"}, {"2", "ok"}, {"4", "ok"}});
    CHECK(stats.malformed_records == 4);

    pg.query("TRUNCATE strict");
    auto dl = tmp.path / "bad.jsonl";
    o.on_error = weir::io::dead_letter_policy(dl.string());
    stats = run_batches({batch}, o, checkpointed ? (tmp.path / "ckpt2").string() : "");
    CHECK(stats.malformed_records == 4);
    CHECK(pg.scalar("SELECT count(*) FROM strict") == "3");
    auto lines = weir::io::read_jsonl(dl.string());
    REQUIRE(lines.size() == 4);
    std::string all;
    for (auto& l : lines) all += l.to_json() + "\n";
    CHECK(all.find("invalid input syntax for type bigint") != std::string::npos);
    CHECK(all.find("violates check constraint") != std::string::npos);
    CHECK(all.find("not-null constraint") != std::string::npos);
    CHECK(all.find(R"(field \"extra\" is not among the columns written (n, s))") != std::string::npos);
    CHECK(all.find(R"(\"s\":\"not a number\")") != std::string::npos);  // the record itself is the raw text
  }
  // fail: the first row refused stops the run, naming it
  pg.query("TRUNCATE strict");
  auto o = options(pg, "strict");
  try {
    run_batches({{batch[0], batch[1], batch[2], batch[3]}}, o);
    FAIL("expected a failure");
  } catch (const std::exception& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("write_postgres(\"strict\") record 2") != std::string::npos);
    CHECK(msg.find("invalid input syntax for type bigint: \"abc\" (22P02)") != std::string::npos);
    CHECK(msg.find(R"(record: {"n":"abc","s":"not a number"})") != std::string::npos);
  }
}

TEST_CASE("write_postgres: errors at start name the table and the server", "[postgres]") {
  REQUIRE_POSTGRES();
  postgres_database pg;
  auto o = options(pg, "missing");
  o.create = false;
  try {
    run_batches({{obj({{"a", 1}})}}, o);
    FAIL("expected a failure");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find("write_postgres(\"missing\"): table missing does not exist (create = false)") !=
          std::string::npos);
  }
  // the key must be a field of the first record
  o = options(pg, "keyed");
  o.key = {"id"};
  try {
    run_batches({{obj({{"a", 1}})}}, o);
    FAIL("expected a failure");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find("key column \"id\" is not a field of the first record {\"a\":1}") !=
          std::string::npos);
  }
  // an existing table without a unique index on the key: PostgreSQL's message
  pg.query("CREATE TABLE nokey (k text, v bigint)");
  o = options(pg, "nokey");
  o.key = {"k"};
  try {
    run_batches({{obj({{"k", "a"}, {"v", 1}})}}, o);
    FAIL("expected a failure");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find("no unique or exclusion constraint matching the ON CONFLICT specification") !=
          std::string::npos);
  }
  // a server that is not there: retried with back-off, then a clear failure
  o = options(pg, "t");
  o.url = "postgresql://postgres@127.0.0.1:" + std::to_string(weir::test::postgres_server::free_port()) + "/db";
  o.timeout = 1500ms;
  auto began = std::chrono::steady_clock::now();
  try {
    run_batches({{obj({{"a", 1}})}}, o);
    FAIL("expected a failure");
  } catch (const std::exception& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("write_postgres(\"t\"): connecting: cannot reach the server within 1500 ms (") !=
          std::string::npos);
    CHECK(msg.find("attempts)") != std::string::npos);
  }
  CHECK(std::chrono::steady_clock::now() - began >= 1s);
}

namespace {

/// The sink driven directly (no runtime), as the runtime drives it.
struct driven_sink {
  weir::operator_ptr op;
  explicit driven_sink(weir::io::postgres_sink_options o, bool restoring) : op(weir::io::make_postgres_sink(o)) {
    weir::operator_context ctx;
    ctx.checkpointing = true;
    ctx.restoring = restoring;
    op->open(ctx);
  }
  void write(std::int64_t from, std::int64_t to) {
    weir::records in, out;
    for (std::int64_t i = from; i < to; ++i) in.push_back(obj({{"n", i}, {"k", i % 10}}));
    op->process({}, in, out);
    op->on_batch_end(0, out);
  }
  std::string snapshot(std::uint64_t id) {
    weir::state_writer w;
    op->snapshot_state(id, w);
    return w.take();
  }
  void restore(std::uint64_t id, const std::string& state) {
    weir::state_reader r(state, "test");
    op->restore_state(id, r);
  }
};

}  // namespace

TEST_CASE("write_postgres two-phase commit: a crash between pre-commit and commit or after the commit neither loses "
          "nor repeats a row",
          "[postgres][checkpoint]") {
  REQUIRE_POSTGRES();
  postgres_database pg;
  for (bool upsert : {false, true}) {
    INFO("upsert " << upsert);
    const std::string table = upsert ? "up" : "app";
    auto o = options(pg, table);
    if (upsert) o.key = {"k"};
    auto count = [&] { return pg.scalar("SELECT count(*) FROM " + table); };
    std::string state1, state2;
    {
      driven_sink s(o, false);
      s.write(0, 100);
      state1 = s.snapshot(1);  // pre-committed: staged, invisible
      CHECK(count() == "0");
      s.op->notify_checkpoint_complete(1);
      CHECK(count() == (upsert ? "10" : "100"));
      s.write(100, 250);
      state2 = s.snapshot(2);
      s.write(250, 300);  // after checkpoint 2: the replay writes these again
      // crash: checkpoint 2 completed (its manifest is durable), commit never ran
    }
    CHECK(count() == (upsert ? "10" : "100"));
    {
      driven_sink s(o, true);
      s.restore(2, state2);  // recover-and-commit
      CHECK(count() == (upsert ? "10" : "250"));
      s.write(250, 300);
      auto state3 = s.snapshot(3);
      s.op->notify_checkpoint_complete(3);
      CHECK(count() == (upsert ? "10" : "300"));
      // crash after the commit of 3, before checkpoint 4: restore 3 again
      driven_sink again(o, true);
      again.restore(3, state3);
      CHECK(count() == (upsert ? "10" : "300"));
      // and the older checkpoint 2 (its epochs are committed): nothing repeated
      driven_sink older(o, true);
      older.restore(2, state2);
      CHECK(count() == (upsert ? "10" : "300"));
    }
    if (upsert) {
      CHECK(pg.query("SELECT k, n FROM up ORDER BY k") ==
            weir::test::pg_rows{{"0", "290"}, {"1", "291"}, {"2", "292"}, {"3", "293"}, {"4", "294"},
                                {"5", "295"}, {"6", "296"}, {"7", "297"}, {"8", "298"}, {"9", "299"}});
    } else {
      CHECK(pg.scalar("SELECT count(DISTINCT n) FROM app") == "300");
      CHECK(pg.scalar("SELECT min(n) || ' ' || max(n) FROM app") == "0 299");
    }
    // the sink's own tables: its epoch row, and no staged row left
    CHECK(pg.scalar("SELECT epoch FROM weir_sink_epochs WHERE sink_id = '" + table + "'") == "3");
    auto staging = pg.scalar("SELECT staging FROM weir_sink_epochs WHERE sink_id = '" + table + "'");
    CHECK(pg.scalar("SELECT count(*) FROM pg_tables WHERE tablename = '" + staging + "'") == "0");
  }
  // a fresh run forgets an earlier run's epochs and staged rows (not the target's rows)
  auto o = options(pg, "app");
  {
    driven_sink s(o, false);
    s.write(1000, 1010);
    s.snapshot(1);
    s.op->notify_checkpoint_complete(1);
  }
  CHECK(pg.scalar("SELECT count(*) FROM app") == "310");
  CHECK(pg.scalar("SELECT epoch FROM weir_sink_epochs WHERE sink_id = 'app'") == "1");
}

TEST_CASE("write_postgres: connections killed during a checkpointed run are retried and the table holds every row once",
          "[postgres][checkpoint]") {
  REQUIRE_POSTGRES();
  postgres_database pg;
  weir::test::temp_dir tmp;
  constexpr std::int64_t n = 60000;
  std::atomic<bool> done{false};
  std::atomic<int> killed{0};
  std::thread killer([&] {
    // cut the sink's connection every 150 ms while the job runs
    while (!done.load()) {
      std::this_thread::sleep_for(150ms);
      if (done.load()) break;
      auto r = pg.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = "
                        "'weir' AND datname = current_database() AND pid <> pg_backend_pid()");
      killed += std::stoi(r.at(0).at(0));
    }
  });
  weir::run_stats stats;
  {
    weir::context_options co{.batch_interval = 20ms, .parallelism = 1, .threads = 2};
    co.checkpoint.dir = (tmp.path / "ckpt").string();
    co.checkpoint.interval = 40ms;
    weir::streaming_context ssc(co);
    auto o = options(pg, "killed");
    o.flush_rows = 500;
    ssc.source("numbers", [] { return weir::io::source_ptr(new numbers_source(n, 100, 200, 500us)); }).write_postgres(o);
    try {
      stats = ssc.run();
    } catch (...) {
      done = true;
      killer.join();
      throw;
    }
  }
  done = true;
  killer.join();
  INFO("connections killed: " << killed.load());
  CHECK(killed.load() >= 3);
  CHECK(stats.checkpoints.completed >= 3);
  CHECK(pg.scalar("SELECT count(*) FROM killed") == std::to_string(n));
  CHECK(pg.scalar("SELECT count(DISTINCT n) FROM killed") == std::to_string(n));
}
