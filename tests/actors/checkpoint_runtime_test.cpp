// The runtime's side of checkpoints (docs/architecture.md §6): barriers, alignment,
// coordinator, recovery, two-phase-commit notifications — with test
// operators whose state and output are checked exactly. In-process "crashes"
// are stop(false) (every actor killed at once); the kill -9 tests of the
// whole binary are in tests/crash.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "weir/api/dstream.hpp"
#include "weir/operators/snapshot.hpp"

using namespace weir;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// Emits 0..n-1, `chunk` per read, pausing `pause` between reads (so that a
/// run lasts long enough for several checkpoints). Replayable: the position
/// is the next number.
class numbers_source final : public io::source_reader {
public:
  numbers_source(std::int64_t n, std::int64_t chunk, std::chrono::milliseconds pause)
      : n_(n), chunk_(chunk), pause_(pause) {}
  io::read_result read(records& out, std::size_t max) override {
    auto k = std::min<std::int64_t>({chunk_, static_cast<std::int64_t>(max), n_ - next_});
    for (std::int64_t i = 0; i < k; ++i) out.emplace_back(next_++);
    if (next_ >= n_) return {io::read_result::status::end, {}};
    return {io::read_result::status::idle, pause_};
  }
  bool replayable() const override { return true; }
  void snapshot_position(state_writer& w) const override { w.i64(next_); }
  void restore_position(state_reader& r) override {
    next_ = r.i64();
    r.expect_end();
  }
  std::string describe_position() const override { return "next " + std::to_string(next_); }
  std::string describe() const override { return "numbers"; }

private:
  std::int64_t n_, chunk_;
  std::chrono::milliseconds pause_;
  std::int64_t next_ = 0;
};

/// Keyed running sums of pairs (key, n): emits (key, sum) for every key
/// updated in a batch, at the batch end. Its state is the sums.
class running_sum final : public stream_operator {
public:
  void process(const process_context&, records& in, records&) override {
    for (auto& r : in) {
      auto kv = r.as_array();
      sums_[kv[0].as_int()] += kv[1].as_int();
      dirty_[kv[0].as_int()] = true;
    }
  }
  void on_batch_end(std::int64_t, records& out) override {
    for (auto& [k, d] : dirty_)
      if (d) out.push_back(value::pair(value(k), value(sums_[k])));
    dirty_.clear();
  }
  void snapshot_state(std::uint64_t, state_writer& w) override {
    w.varint(sums_.size());
    for (auto& [k, v] : sums_) {
      w.i64(k);
      w.i64(v);
    }
    w.varint(dirty_.size());
    for (auto& [k, d] : dirty_) {
      w.i64(k);
      w.boolean(d);
    }
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    for (auto n = r.varint(); n > 0; --n) {
      auto k = r.i64();
      sums_[k] = r.i64();
    }
    for (auto n = r.varint(); n > 0; --n) {
      auto k = r.i64();
      dirty_[k] = r.boolean();
    }
    r.expect_end();
  }

private:
  std::map<std::int64_t, std::int64_t> sums_;
  std::map<std::int64_t, bool> dirty_;
};

/// What a two-phase-commit sink made visible: the committed records, in
/// commit order, shared by every run of one test (it plays the output file).
struct ledger {
  std::mutex mtx;
  std::vector<std::string> committed;
  int fail_next_snapshots = 0;  ///< the next N pre-commits fail (disk full)
  std::uint64_t commits = 0;
};

/// A two-phase-commit sink over a ledger (the scheme of the file sinks):
/// records of an epoch are pending until the checkpoint that closed it
/// completes; restore truncates the ledger to what the checkpoint had
/// committed and commits what it had pre-committed.
class ledger_sink final : public stream_operator {
public:
  explicit ledger_sink(std::shared_ptr<ledger> l) : l_(std::move(l)) {}
  void open(const operator_context& ctx) override {
    if (ctx.checkpointing && !ctx.restoring) {
      std::lock_guard<std::mutex> lock(l_->mtx);
      l_->committed.clear();
    }
  }
  void process(const process_context&, records& in, records&) override {
    for (auto& r : in) current_.push_back(r.to_json());
  }
  void snapshot_state(std::uint64_t id, state_writer& w) override {
    {
      std::lock_guard<std::mutex> lock(l_->mtx);
      if (l_->fail_next_snapshots > 0) {
        --l_->fail_next_snapshots;
        throw pipeline_error("ledger: no space left on device (simulated)");
      }
    }
    pending_.push_back({id, std::move(current_)});
    current_.clear();
    w.u64(committed_len_);
    w.varint(pending_.size());
    for (auto& [e, recs] : pending_) {
      w.u64(e);
      w.varint(recs.size());
      for (auto& s : recs) w.str(s);
    }
  }
  void restore_state(std::uint64_t, state_reader& r) override {
    committed_len_ = r.u64();
    for (auto n = r.varint(); n > 0; --n) {
      auto e = r.u64();
      std::vector<std::string> recs;
      for (auto k = r.varint(); k > 0; --k) recs.push_back(r.str());
      pending_.push_back({e, std::move(recs)});
    }
    r.expect_end();
    {
      std::lock_guard<std::mutex> lock(l_->mtx);
      l_->committed.resize(std::min<std::size_t>(l_->committed.size(), committed_len_));
    }
    commit_upto(final_checkpoint_id);  // everything a completed checkpoint pre-committed
  }
  void notify_checkpoint_complete(std::uint64_t id) override { commit_upto(id); }

private:
  void commit_upto(std::uint64_t id) {
    std::lock_guard<std::mutex> lock(l_->mtx);
    while (!pending_.empty() && pending_.front().first <= id) {
      auto& recs = pending_.front().second;
      l_->committed.resize(committed_len_);
      l_->committed.insert(l_->committed.end(), recs.begin(), recs.end());
      committed_len_ += recs.size();
      ++l_->commits;
      pending_.erase(pending_.begin());
    }
  }
  std::shared_ptr<ledger> l_;
  std::vector<std::string> current_;
  std::vector<std::pair<std::uint64_t, std::vector<std::string>>> pending_;
  std::size_t committed_len_ = 0;
};

struct run_setup {
  std::int64_t n = 100000;
  int sources = 1;        ///< several: unioned (barrier alignment)
  int parallelism = 2;
  std::string dir;
  bool fresh = false;
  std::chrono::milliseconds interval{60};
};

/// numbers (one or more sources, unioned) → (n % 7, n) → running_sum (keyed)
/// → ledger_sink.
void build(streaming_context& ctx, const run_setup& s, std::shared_ptr<ledger> l) {
  auto make_src = [n = s.n] { return std::make_unique<numbers_source>(n, 250, 1ms); };
  dstream in = ctx.source("numbers", make_src);
  std::vector<dstream> more;
  for (int i = 1; i < s.sources; ++i) more.push_back(ctx.source("numbers", make_src));
  if (!more.empty()) in = in.union_with(more);
  in.map([](const value& v) { return value::pair(value(v.as_int() % 7), v); })
      .transform("running_sum", [] { return std::make_unique<running_sum>(); }, dstream::routing::keyed)
      .sink("ledger", [l] { return std::make_unique<ledger_sink>(l); });
}

context_options options_of(const run_setup& s) {
  context_options o;
  o.batch_interval = 20ms;
  o.parallelism = s.parallelism;
  o.threads = 2;
  o.checkpoint.dir = s.dir;
  o.checkpoint.interval = s.interval;
  o.checkpoint.fresh = s.fresh;
  return o;
}

/// The final running sums in the committed output: key → last sum.
std::map<std::int64_t, std::int64_t> last_sums(const std::vector<std::string>& lines) {
  std::map<std::int64_t, std::int64_t> m;
  for (auto& l : lines) {  // "[k,sum]"
    auto comma = l.find(',');
    m[std::stoll(l.substr(1, comma - 1))] = std::stoll(l.substr(comma + 1));
  }
  return m;
}

std::map<std::int64_t, std::int64_t> expected_sums(const run_setup& s) {
  std::map<std::int64_t, std::int64_t> m;
  for (int src = 0; src < s.sources; ++src)
    for (std::int64_t i = 0; i < s.n; ++i) m[i % 7] += i;
  return m;
}

struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& name) {
    path = fs::temp_directory_path() / ("weir-cp-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};

/// Runs until `completed` checkpoints completed (then kills every actor: a
/// crash), or to the end when completed = 0. Returns the stats.
checkpoint_stats run_once(const run_setup& s, std::shared_ptr<ledger> l, std::uint64_t kill_after = 0,
                          std::chrono::milliseconds extra = 0ms, bool* killed = nullptr) {
  streaming_context ctx(options_of(s));
  build(ctx, s, l);
  ctx.start();
  std::atomic<bool> done{false};
  std::thread killer;
  if (kill_after > 0)
    killer = std::thread([&] {
      while (!done.load() && ctx.checkpoints().completed < kill_after) std::this_thread::sleep_for(2ms);
      std::this_thread::sleep_for(extra);
      if (killed) *killed = !done.load();
      ctx.stop(false);
    });
  run_stats st = ctx.await_termination();
  done.store(true);
  if (killer.joinable()) killer.join();
  return st.checkpoints;
}

}  // namespace

TEST_CASE("checkpoints complete during a run and its output is committed exactly once", "[checkpoint][actors]") {
  temp_dir d("complete");
  run_setup s;
  s.dir = d.path.string();
  auto l = std::make_shared<ledger>();
  auto cs = run_once(s, l);
  CHECK(cs.completed >= 2);  // at least one barrier checkpoint and the final one
  CHECK(cs.failed == 0);
  CHECK(last_sums(l->committed) == expected_sums(s));
  // restarting a finished run resumes from its final checkpoint and adds nothing
  auto before = l->committed;
  auto cs2 = run_once(s, l);
  CHECK(cs2.restored_id == cs.last_id);
  CHECK(l->committed == before);
}

TEST_CASE("killed at random moments and restarted, the committed output equals an uninterrupted run's",
          "[checkpoint][actors]") {
  run_setup s;
  auto reference = std::make_shared<ledger>();
  {
    temp_dir d("reference");
    s.dir = d.path.string();
    run_once(s, reference);
  }
  temp_dir d("kills");
  s.dir = d.path.string();
  auto l = std::make_shared<ledger>();
  std::mt19937 rng(42);
  std::uint64_t restored_from_max = 0;
  int kills = 0;
  for (int kill = 0; kill < 6; ++kill) {
    bool killed = false;
    auto cs = run_once(s, l, 1, std::chrono::milliseconds(rng() % 40), &killed);
    restored_from_max = std::max(restored_from_max, cs.restored_id);
    kills += killed ? 1 : 0;
  }
  run_once(s, l);  // to the end
  CHECK(restored_from_max > 0);
  CHECK(kills >= 3);  // most runs were killed mid-way, not after their end
  // the same final state, and every running sum committed once: the
  // committed lines are the reference's lines (same per-key sequences)
  CHECK(last_sums(l->committed) == expected_sums(s));
  CHECK(last_sums(reference->committed) == expected_sums(s));
  // batch boundaries differ between runs (wall clock), so compare what does
  // not depend on them: per key, the committed sums strictly increase (a
  // duplicated epoch would repeat or go back) and end equal
  std::map<std::int64_t, std::int64_t> prev;
  int bad = 0;
  for (auto& line : l->committed) {
    auto comma = line.find(',');
    auto k = std::stoll(line.substr(1, comma - 1)), v = std::stoll(line.substr(comma + 1));
    auto [it, fresh] = prev.try_emplace(k, -1);
    if (v <= it->second) ++bad;
    it->second = v;
  }
  CHECK(bad == 0);
}

TEST_CASE("barriers of unioned sources are aligned - kills and restarts still give exact totals",
          "[checkpoint][actors]") {
  temp_dir d("union");
  run_setup s;
  s.sources = 3;
  s.dir = d.path.string();
  auto l = std::make_shared<ledger>();
  auto cs = run_once(s, l, 2);
  CHECK(cs.completed >= 2);
  run_once(s, l, 1, 15ms);
  auto last = run_once(s, l);
  CHECK(last.restored_id > 0);
  CHECK(last_sums(l->committed) == expected_sums(s));
}

TEST_CASE("a failing pre-commit fails that checkpoint only: counted, and the run goes on", "[checkpoint][actors]") {
  temp_dir d("fail");
  run_setup s;
  s.dir = d.path.string();
  auto l = std::make_shared<ledger>();
  l->fail_next_snapshots = 2;
  auto cs = run_once(s, l);
  CHECK(cs.aborted >= 2);
  CHECK(cs.completed >= 1);
  CHECK(last_sums(l->committed) == expected_sums(s));
}

TEST_CASE("checkpoint directory errors: no valid checkpoint, another plan", "[checkpoint][actors]") {
  temp_dir d("errors");
  run_setup s;
  s.dir = d.path.string();
  auto l = std::make_shared<ledger>();
  // only an attempt cut short before the first checkpoint completed (no
  // MANIFEST): nothing was committed, the run starts from scratch
  fs::create_directories(d.path / "chk-000000000001");
  CHECK(run_once(s, l).completed >= 1);
  CHECK(last_sums(l->committed) == expected_sums(s));
  fs::remove_all(d.path);
  // a checkpoint whose MANIFEST is corrupt: never silently from scratch
  fs::create_directories(d.path / "chk-000000000001");
  { std::ofstream(d.path / "chk-000000000001" / "MANIFEST") << "garbage"; }
  {
    streaming_context ctx(options_of(s));
    build(ctx, s, l);
    CHECK_THROWS_WITH(ctx.start(), Catch::Contains("holds no valid checkpoint") && Catch::Contains("--fresh"));
  }
  s.fresh = true;
  auto cs = run_once(s, l, 1);
  CHECK(cs.completed >= 1);
  s.fresh = false;
  s.parallelism = 3;  // another plan
  {
    streaming_context ctx(options_of(s));
    build(ctx, s, l);
    CHECK_THROWS_WITH(ctx.start(), Catch::Contains("another plan"));
  }
}

TEST_CASE("checkpoints are taken on their interval while the embedding program is not in await_termination",
          "[checkpoint][actors]") {
  temp_dir d("no-wait");
  run_setup s;
  s.dir = d.path.string();
  s.n = 5'000'000;  // ~20 s of input at 250 records per ms: stopped long before its end
  s.interval = 150ms;
  auto l = std::make_shared<ledger>();
  streaming_context ctx(options_of(s));
  build(ctx, s, l);
  ctx.start();
  // The program does something else: it watches the checkpoint directory
  // for completed checkpoints (a MANIFEST), and only then waits for the run.
  std::set<std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (seen.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (auto& e : fs::directory_iterator(d.path, ec))
      if (fs::exists(e.path() / "MANIFEST", ec)) seen.insert(e.path().filename().string());
    std::this_thread::sleep_for(10ms);
  }
  const checkpoint_stats during = ctx.checkpoints();
  ctx.stop();  // graceful: the sources end their streams
  run_stats st = ctx.await_termination();
  CHECK(seen.size() >= 3);
  CHECK(during.completed >= 3);
  CHECK(st.checkpoints.failed == 0);
  CHECK(st.checkpoints.completed > during.completed);  // the final checkpoint
}
