// Exactly-once file sinks by two-phase commit: write_jsonl,
// write_csv and write_text driven directly through the operator interface
// (open / process / on_batch_end / snapshot_state / notify_checkpoint_complete
// / restore_state), crashed at every step by abandoning the instance, and
// recovered on a NEW instance from the last completed checkpoint's state,
// then replayed. The final output must equal, byte for byte and file for
// file, the output of the same input through the sink without checkpoints.
// The crash in the middle of a commit is a real _exit(77) at the crash point
// "during_sink_commit", in a child process (fork + exec of this executable
// running the hidden test case "sink 2pc crash child" with WEIR_CRASH_AT set).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_data.hpp"
#include "weir/io/sinks.hpp"
#include "weir/operators/snapshot.hpp"

namespace fs = std::filesystem;
using weir::records;
using weir::value;

namespace {

// --- the input and the schedule ----------------------------------------------

/// Records per batch: batch 5 is large (> 1 MiB of JSON: buffer flushes
/// inside an epoch, chunked commit copies), batch 10 is empty.
const std::vector<int> batch_sizes = {5, 3, 1, 6, 20000, 2, 4, 5, 3, 0, 6, 4};

std::int64_t batch_time(int k) { return 100 * k; }  // k = 1..12, interval 100 ms

records batch_records(int k) {
  int first = 0;
  for (int i = 1; i < k; ++i) first += batch_sizes[static_cast<std::size_t>(i - 1)];
  records r;
  for (int i = 0; i < batch_sizes[static_cast<std::size_t>(k - 1)]; ++i) {
    int id = first + i;
    std::string note = id % 3 == 0 ? "a, \"b\"" : "plain " + std::to_string(id % 10);
    r.push_back(value::object({{"id", id}, {"batch", k}, {"note", note}}));
  }
  return r;
}

int total_records() {
  int n = 0;
  for (int s : batch_sizes) n += s;
  return n;
}

struct event {
  enum kind_t { batch, snap, complete, notify, eos } kind;
  int arg = 0;  // batch number or checkpoint id
};

/// Barrier n = snapshot n (pre-commit). "complete" = the manifest is durable
/// (the checkpoint restores from here on); notify follows it, late or never:
/// notify 3 is lost (notify 4 commits epochs 3 and 4), checkpoint 5 never
/// completes (aborted), the final checkpoint 6 follows end of stream.
std::vector<event> schedule() {
  using E = event;
  return {{E::batch, 1},    {E::batch, 2},  {E::batch, 3},    {E::snap, 1},     {E::batch, 4},  {E::complete, 1},
          {E::notify, 1},   {E::batch, 5},  {E::batch, 6},    {E::snap, 2},     {E::complete, 2}, {E::notify, 2},
          {E::batch, 7},    {E::snap, 3},   {E::complete, 3}, {E::batch, 8},    {E::batch, 9},  {E::snap, 4},
          {E::complete, 4}, {E::notify, 4}, {E::batch, 10},   {E::snap, 5},     {E::batch, 11}, {E::batch, 12},
          {E::eos, 0},      {E::snap, 6},   {E::complete, 6}, {E::notify, 6}};
}

// --- sinks and output trees ----------------------------------------------------

fs::path out_root(const fs::path& base) { return base / "out"; }

weir::operator_ptr make_sink(const std::string& kind, const fs::path& base) {
  fs::path o = out_root(base);
  fs::create_directories(o);
  if (kind == "jsonl") return weir::io::make_jsonl_sink((o / "out.jsonl").string());
  if (kind == "csv") return weir::io::make_csv_sink((o / "out.csv").string());
  return weir::io::make_text_files_sink((o / "text").string(), "out", "txt");
}

weir::operator_context ctx(bool checkpointing, bool restoring) {
  weir::operator_context c;
  c.batch_interval = std::chrono::milliseconds(100);
  c.checkpointing = checkpointing;
  c.restoring = restoring;
  return c;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

/// Every regular file under `root` (hidden ones too): relative path → bytes.
std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> t;
  for (auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) t[fs::relative(e.path(), root).string()] = slurp(e.path());
  return t;
}

/// Empty when equal, else what differs (without dumping megabytes).
std::string diff(const std::map<std::string, std::string>& got, const std::map<std::string, std::string>& want) {
  std::ostringstream d;
  for (auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end()) d << "missing " << k << "; ";
    else if (it->second != v) {
      std::size_t i = 0;
      while (i < v.size() && i < it->second.size() && v[i] == it->second[i]) ++i;
      d << k << ": " << it->second.size() << " bytes, expected " << v.size() << ", first difference at byte " << i
        << "; ";
    }
  }
  for (auto& [k, v] : got)
    if (!want.count(k)) d << "unexpected " << k << " (" << v.size() << " bytes); ";
  return d.str();
}

/// The output of the sink without checkpoints (today's behaviour).
std::map<std::string, std::string> reference(const std::string& kind) {
  weir::test::temp_dir dir;
  auto sink = make_sink(kind, dir.path);
  sink->open(ctx(false, false));
  records out;
  for (int k = 1; k <= static_cast<int>(batch_sizes.size()); ++k) {
    records r = batch_records(k);
    sink->process({}, r, out);
    sink->on_batch_end(batch_time(k), out);
  }
  sink->on_end_of_stream(out);
  return tree(out_root(dir.path));
}

// --- the driver ------------------------------------------------------------------

/// Drives one sink instance through the schedule and keeps what the
/// checkpoint store would: the snapshot bytes per id and the last completed
/// checkpoint (its id and the schedule's number for it).
struct driver {
  driver(std::string k, fs::path b, fs::path s = {}) : kind(std::move(k)), base(std::move(b)), state_dir(std::move(s)) {}
  std::string kind;
  fs::path base;
  fs::path state_dir;  // when set (crash child): states and completion also go to files
  weir::operator_ptr sink;
  std::map<std::uint64_t, std::string> states;
  std::uint64_t completed = 0;      ///< id of the last completed checkpoint, 0 = none
  int completed_arg = 0;            ///< its number in schedule()
  std::uint64_t offset = 0;         ///< checkpoint id = schedule number + offset (+100 per restart)

  void apply(const event& e) {
    records out;
    const std::uint64_t id = static_cast<std::uint64_t>(e.arg) + offset;
    switch (e.kind) {
      case event::batch: {
        records r = batch_records(e.arg);
        sink->process({}, r, out);
        sink->on_batch_end(batch_time(e.arg), out);
        break;
      }
      case event::snap: {
        weir::state_writer w;
        sink->snapshot_state(id, w);
        states[id] = w.take();
        if (!state_dir.empty()) std::ofstream(state_dir / ("state-" + std::to_string(id)), std::ios::binary) << states[id];
        break;
      }
      case event::complete:
        completed = id;
        completed_arg = e.arg;
        if (!state_dir.empty()) std::ofstream(state_dir / "completed") << id;
        break;
      case event::notify: sink->notify_checkpoint_complete(id); break;
      case event::eos: sink->on_end_of_stream(out); break;
    }
    REQUIRE(out.empty());
  }

  /// Fresh checkpointed run of events [0, stop).
  void run(std::size_t stop) {
    auto ev = schedule();
    sink = make_sink(kind, base);
    sink->open(ctx(true, false));
    for (std::size_t i = 0; i < stop && i < ev.size(); ++i) apply(ev[i]);
  }

  /// The crash: the instance is abandoned (its buffers are lost, no end of
  /// stream), a new one restores the last completed checkpoint and the
  /// sources replay what followed its barrier, `stop` events of it (then it
  /// is abandoned too). Checkpoints after the restart get new ids.
  void recover(std::size_t stop = static_cast<std::size_t>(-1)) {
    sink.reset();
    auto ev = schedule();
    sink = make_sink(kind, base);
    std::size_t from = 0;
    if (completed == 0) {
      sink->open(ctx(true, false));  // no checkpoint: start over
    } else {
      sink->open(ctx(true, true));
      weir::state_reader r(states.at(completed), "sink");
      sink->restore_state(completed, r);
      while (!(ev[from].kind == event::snap && ev[from].arg == completed_arg)) ++from;
      ++from;
    }
    offset += 100;
    const int restored_arg = completed_arg;
    for (std::size_t i = from, n = 0; i < ev.size() && n < stop; ++i) {
      if (ev[i].kind != event::batch && ev[i].kind != event::eos && ev[i].arg <= restored_arg)
        continue;  // checkpoints up to the restored one are over
      apply(ev[i]);
      ++n;
    }
  }
};

const char* const kinds[] = {"jsonl", "csv", "text"};

}  // namespace

TEST_CASE("sink 2pc: the reference outputs hold every record once", "[io][sinks][checkpoint]") {
  // independent counts: lines per file, computed from batch_sizes here
  const int n = total_records();
  REQUIRE(n == 20039);
  auto jsonl = reference("jsonl");
  REQUIRE(jsonl.size() == 1);
  const std::string& j = jsonl.at("out.jsonl");
  CHECK(std::count(j.begin(), j.end(), '\n') == n);
  CHECK(j.rfind(R"({"time":100,"record":{"id":0,"batch":1,"note":"a, \"b\""}})" "\n", 0) == 0);
  auto csv = reference("csv");
  const std::string& c = csv.at("out.csv");
  CHECK(std::count(c.begin(), c.end(), '\n') == n + 1);  // one header
  CHECK(c.rfind("id,batch,note\n0,1,\"a, \"\"b\"\"\"\n1,1,plain 1\n", 0) == 0);
  auto text = reference("text");
  CHECK(text.size() == batch_sizes.size());  // one folder per batch, empty ones too
  std::size_t lines = 0;
  for (auto& [k, v] : text) lines += static_cast<std::size_t>(std::count(v.begin(), v.end(), '\n'));
  CHECK(lines == static_cast<std::size_t>(n));
  CHECK(text.count("text/out-1000.txt/part-00000") == 1);
  CHECK(text.at("text/out-1000.txt/part-00000").empty());
}

TEST_CASE("sink 2pc: a checkpointed run writes the same bytes as one without checkpoints", "[io][sinks][checkpoint]") {
  for (std::string kind : kinds) {
    INFO(kind);
    auto want = reference(kind);
    weir::test::temp_dir dir;
    driver d{kind, dir.path};
    auto ev = schedule();
    d.sink = make_sink(kind, dir.path);
    d.sink->open(ctx(true, false));
    for (std::size_t i = 0; i < ev.size(); ++i) {
      d.apply(ev[i]);
      // output becomes visible only through commits: after notify 1 exactly
      // epoch 1 (batches 1..3) is visible
      if (ev[i].kind == event::notify && ev[i].arg == 1 && kind == "jsonl") {
        const std::string o = slurp(out_root(dir.path) / "out.jsonl");
        CHECK(std::count(o.begin(), o.end(), '\n') == 5 + 3 + 1);
      }
      if (ev[i].kind == event::snap && ev[i].arg == 1) {
        auto visible = tree(out_root(dir.path));
        for (auto& [k, v] : visible) {
          INFO(k);
          CHECK((k.find("weir-pending") != std::string::npos || k.find(".inflight") != std::string::npos ||
                 v.empty()));
        }
      }
    }
    auto got = tree(out_root(dir.path));
    CHECK(diff(got, want) == "");
    // a second notify of the final checkpoint and a snapshot after end of stream are harmless
    d.sink->notify_checkpoint_complete(6);
    weir::state_writer w;
    d.sink->snapshot_state(7, w);
    d.sink->notify_checkpoint_complete(7);
    CHECK(diff(tree(out_root(dir.path)), want) == "");
  }
}

TEST_CASE("sink 2pc: a crash at every step recovered on a new instance loses and duplicates nothing",
          "[io][sinks][checkpoint]") {
  const auto ev = schedule();
  for (std::string kind : kinds) {
    auto want = reference(kind);
    for (std::size_t crash = 0; crash <= ev.size(); ++crash) {
      INFO(kind << ": crash before event " << crash);
      weir::test::temp_dir dir;
      driver d{kind, dir.path};
      d.run(crash);
      d.recover();
      CHECK(diff(tree(out_root(dir.path)), want) == "");
    }
  }
}

TEST_CASE("sink 2pc: a second crash during the replay is recovered too", "[io][sinks][checkpoint]") {
  const auto ev = schedule();
  for (std::string kind : kinds) {
    auto want = reference(kind);
    // first crash: after snapshot 1, inside epoch 2, after complete 3 (notify 3 never
    // comes), after notify 4, after end of stream; second: 0, 4 or 10 events into the replay
    for (std::size_t crash : {4, 8, 15, 20, 25}) {
      for (std::size_t again : {0, 4, 10}) {
        INFO(kind << ": crash before event " << crash << ", again after " << again << " events of the replay");
        weir::test::temp_dir dir;
        driver d{kind, dir.path};
        d.run(crash);
        d.recover(again);
        d.recover();
        CHECK(diff(tree(out_root(dir.path)), want) == "");
        // recovering a finished run from its last checkpoint changes nothing (idempotent)
        d.recover();
        CHECK(diff(tree(out_root(dir.path)), want) == "");
      }
    }
  }
}

// The child of the partial-commit test: runs the schedule up to a notify in
// which WEIR_CRASH_AT=during_sink_commit[:N] makes it _exit(77).
TEST_CASE("sink 2pc crash child", "[.][sink_2pc_child]") {
  const char* spec = std::getenv("WEIR_TEST_2PC");
  REQUIRE(spec != nullptr);
  std::istringstream in(spec);
  std::string kind, base, stop;
  std::getline(in, kind, '|');
  std::getline(in, base, '|');
  std::getline(in, stop, '|');
  driver d{kind, base, fs::path(base) / "states"};
  fs::create_directories(d.state_dir);
  d.run(std::stoul(stop) + 1);
  std::_Exit(0);  // no crash: the parent sees 0 instead of 77
}

namespace {

int run_crash_child(const std::string& kind, const fs::path& base, std::size_t notify_index, int nth) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("WEIR_CRASH_AT", ("during_sink_commit:" + std::to_string(nth)).c_str(), 1);
    ::setenv("WEIR_TEST_2PC", (kind + "|" + base.string() + "|" + std::to_string(notify_index)).c_str(), 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 1);
    ::execl("/proc/self/exe", "sink_2pc_child", "sink 2pc crash child", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("sink 2pc: a real crash in the middle of a commit (forked child with WEIR_CRASH_AT) is recovered",
          "[io][sinks][checkpoint]") {
  const auto ev = schedule();
  for (std::string kind : kinds) {
    auto want = reference(kind);
    for (std::size_t i = 0; i < ev.size(); ++i) {
      if (ev[i].kind != event::notify) continue;
      // notify 4 commits epochs 3 and 4: crash in the first and in the second
      for (int nth : ev[i].arg == 4 ? std::vector<int>{1, 2} : std::vector<int>{1}) {
        INFO(kind << ": crash in notify " << ev[i].arg << " at its pass " << nth << " of the crash point");
        weir::test::temp_dir dir;
        // what the output holds before and after this commit, without a crash
        std::map<std::string, std::string> before, after;
        {
          weir::test::temp_dir ref;
          driver r{kind, ref.path};
          r.run(i);
          before = tree(out_root(ref.path));
          r.apply(ev[i]);
          after = tree(out_root(ref.path));
        }
        REQUIRE(run_crash_child(kind, dir.path, i, nth) == 77);
        // the crash left the commit half done: more than before, less than after
        auto mid = tree(out_root(dir.path));
        CHECK(diff(mid, before) != "");
        CHECK(diff(mid, after) != "");
        // recover from the files the child's "checkpoint store" left
        driver d{kind, dir.path};
        d.completed = std::stoull(slurp(dir.path / "states" / "completed"));
        d.completed_arg = static_cast<int>(d.completed);  // the child ran without restarts: id = number
        for (auto& e : fs::directory_iterator(dir.path / "states"))
          if (e.path().filename().string().rfind("state-", 0) == 0)
            d.states[std::stoull(e.path().filename().string().substr(6))] = slurp(e.path());
        d.recover();
        CHECK(diff(tree(out_root(dir.path)), want) == "");
      }
    }
  }
}

TEST_CASE("sink 2pc: a full disk surfaces as pipeline_error naming the file", "[io][sinks][checkpoint]") {
  // RLIMIT_FSIZE makes writes past the limit fail with EFBIG, as ENOSPC would
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  struct restore_limit {
    rlimit lim;
    ~restore_limit() { ::setrlimit(RLIMIT_FSIZE, &lim); }
  } guard{old};
  for (std::string kind : {"jsonl", "csv"}) {
    INFO(kind);
    weir::test::temp_dir dir;
    auto sink = make_sink(kind, dir.path);
    sink->open(ctx(true, false));
    rlimit lim = old;
    lim.rlim_cur = 64 * 1024;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
    records out;
    std::string msg;
    try {
      for (int k = 1; k <= 5; ++k) {  // batch 5 writes megabytes
        records r = batch_records(k);
        sink->process({}, r, out);
        sink->on_batch_end(batch_time(k), out);
      }
    } catch (const weir::pipeline_error& e) {
      msg = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    CHECK_THAT(msg, Catch::Contains("weir-pending/epoch-1\"") && Catch::Contains("File too large"));
  }
  // the commit's append to OUT fails: the error names OUT
  weir::test::temp_dir dir;
  auto sink = make_sink("jsonl", dir.path);
  sink->open(ctx(true, false));
  records out;
  for (int k = 1; k <= 5; ++k) {
    records r = batch_records(k);
    sink->process({}, r, out);
    sink->on_batch_end(batch_time(k), out);
  }
  weir::state_writer w;
  sink->snapshot_state(1, w);
  // the pending epoch is complete (>1 MiB); OUT may only grow to 64 KiB
  rlimit lim = old;
  lim.rlim_cur = 64 * 1024;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
  std::string msg;
  try {
    sink->notify_checkpoint_complete(1);
  } catch (const weir::pipeline_error& e) {
    msg = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  CHECK_THAT(msg, Catch::Contains("cannot write \"" + (out_root(dir.path) / "out.jsonl").string() + "\"") &&
                      Catch::Contains("File too large"));
  // space returned: committing again succeeds and the output is whole (the
  // partial append is truncated away)
  sink->notify_checkpoint_complete(1);
  int lines = 0;
  for (int k = 1; k <= 5; ++k) lines += batch_sizes[static_cast<std::size_t>(k - 1)];
  std::string o = slurp(out_root(dir.path) / "out.jsonl");
  CHECK(std::count(o.begin(), o.end(), '\n') == lines);
}

TEST_CASE("sink 2pc: recovery refuses an output shorter than what was committed", "[io][sinks][checkpoint]") {
  weir::test::temp_dir dir;
  driver d{"jsonl", dir.path};
  d.run(7);  // through notify 1
  const fs::path out = out_root(dir.path) / "out.jsonl";
  const auto committed = fs::file_size(out);
  REQUIRE(committed > 0);
  weir::state_writer w;
  d.sink->snapshot_state(2, w);
  d.sink.reset();
  fs::resize_file(out, committed - 1);
  auto sink = make_sink("jsonl", dir.path);
  sink->open(ctx(true, true));
  std::string st = w.take();
  weir::state_reader r(st, "sink");
  CHECK_THROWS_WITH(sink->restore_state(2, r),
                    Catch::Contains("holds " + std::to_string(committed - 1) + " bytes, fewer than the " +
                                    std::to_string(committed) + " committed by checkpoint 2"));
  // and a corrupt state is a clear error, not a crash
  std::string bad = st.substr(0, st.size() / 2);
  weir::state_reader r2(bad, "operator write_jsonl");
  auto sink2 = make_sink("jsonl", dir.path);
  sink2->open(ctx(true, true));
  CHECK_THROWS_WITH(sink2->restore_state(2, r2), Catch::Contains("corrupt checkpoint state of operator write_jsonl"));
}
