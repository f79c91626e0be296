// weir — a job (actors/runtime.hpp): plans the physical graph, restores
// from the newest checkpoint, builds the tasks, spawns and wires their
// actors, starts the checkpoint coordinator's thread, then collects the
// tasks' reports in wait() and ends a bounded run with its final checkpoint.
#include "weir/actors/runtime.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "weir/actors/caf_protocol.hpp"
#include "weir/actors/checkpoint_coordinator.hpp"
#include "weir/actors/coordinator_thread.hpp"
#include "weir/actors/task_actor.hpp"
#include "weir/checkpoint/checkpoint.hpp"
#include "weir/operators/log.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir {

int default_cores() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

namespace actors {

namespace {

/// True when `dir` holds nothing but checkpoint folders without a MANIFEST
/// file (attempts cut short before their first checkpoint completed). A
/// MANIFEST that exists but is corrupt does not count: that is an error.
bool only_partial_attempts(const std::string& dir) {
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (checkpoint::is_lock_file(name)) continue;
    if (!e.is_directory(ec) || name.rfind("chk-", 0) != 0) return false;
    if (std::filesystem::exists(e.path() / "MANIFEST", ec)) return false;
  }
  return !ec;
}

/// Slides (Spark's slideDuration) of each stage: of each chain operator's
/// input stream and of the stage's output stream, ms.
struct stage_slides {
  std::vector<std::vector<std::int64_t>> in;
  std::vector<std::int64_t> out;
};

/// The checkpoint a run resumes from (Spark's StreamingContext.getOrCreate).
struct restore_point {
  std::optional<checkpoint::checkpoint_data> data;
  std::map<std::pair<int, int>, const checkpoint::task_snapshot*> of;  ///< (stage, instance) → its snapshot
  std::uint64_t operator_id = 0;  ///< the id operators restore with (final_checkpoint_id for a final one)
  steady::time_point began{};
};

/// v[i] for the plan's int indexes (stage ids, instances).
template <class T>
T& at(std::vector<T>& v, int i) {
  return v[static_cast<std::size_t>(i)];
}
template <class T>
const T& at(const std::vector<T>& v, int i) {
  return v[static_cast<std::size_t>(i)];
}

}  // namespace

struct job::impl {
  const plan::logical_graph& graph;
  context_options opts;
  plan::physical_graph phys;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;  // receives the tasks' reports
  std::vector<caf::actor> tasks;            // every task's actor, in stage order
  std::vector<caf::actor> sources;
  std::mutex mtx;  // guards `sources` against stop() from other threads
  std::vector<std::shared_ptr<live_metrics>> live;  // fixed once start() has wired the tasks
  bool running = false;
  std::atomic<bool> killed{false};  // stop(false): actors killed on purpose
  steady::time_point started;
  steady::time_point clock_origin;  // time 0 of the batch clock (earlier when resumed)

  // tasks, by stage then instance, and flat in stage order
  std::vector<std::vector<task_ptr>> stage_tasks;
  std::vector<std::vector<const checkpoint::task_snapshot*>> snaps;
  std::vector<std::vector<caf::actor>> handles;
  std::vector<task_ptr> cells;

  // checkpoints
  std::unique_ptr<checkpoint::store> cp_store;
  std::string plan_print;
  bool restored_final = false;  // resumed from a final checkpoint
  checkpoint_counters counters;
  std::unique_ptr<checkpoint_coordinator> coordinator;
  std::unique_ptr<coordinator_thread> coordinator_thr;

  impl(const plan::logical_graph& g, context_options o) : graph(g), opts(o) {}

  void kill_all() {
    for (auto& t : tasks) caf::anon_send_exit(t, caf::exit_reason::kill);
  }

  // the steps of start()
  stage_slides plan_slides() const;
  restore_point open_checkpoints();
  void build_tasks(const stage_slides& slides, const restore_point& rp);
  void spawn_actors();
  void wire_edges();
  void restore_runtime_state(const restore_point& rp);
  void launch();
};

job::job(const plan::logical_graph& g, context_options opts) : impl_(std::make_unique<impl>(g, opts)) {
  auto& o = impl_->opts;
  if (o.batch_interval.count() <= 0)
    throw pipeline_error("batch interval must be positive, got " + std::to_string(o.batch_interval.count()) + "ms");
  if (o.parallelism <= 0) o.parallelism = default_cores();
  if (o.threads <= 0) o.threads = default_cores();
  if (o.batch_size == 0) throw pipeline_error("batch size must be >= 1");
  if (o.edge_capacity == 0) throw pipeline_error("edge capacity must be >= 1");
  impl_->phys = plan::make_physical(g, o.parallelism);
  if (!o.checkpoint.dir.empty()) {
    if (o.checkpoint.interval.count() <= 0)
      throw pipeline_error("checkpoint interval must be positive, got " +
                           std::to_string(o.checkpoint.interval.count()) + "ms");
    if (o.checkpoint.timeout.count() <= 0) throw pipeline_error("checkpoint timeout must be positive");
    if (o.checkpoint.retain < 1)
      throw pipeline_error("checkpoints to retain must be >= 1, got " + std::to_string(o.checkpoint.retain));
  }
}

checkpoint_stats job::checkpoints() const { return impl_->counters.get(); }

job::~job() {
  if (!impl_) return;
  if (impl_->running) impl_->kill_all();
  {
    std::lock_guard<std::mutex> lock(impl_->mtx);
    impl_->sources.clear();
  }
  impl_->coordinator_thr.reset();  // ends its thread (the actor system waits for it)
  impl_->tasks.clear();
  impl_->handles.clear();
  impl_->self.reset();
  impl_->sys.reset();  // joins the scheduler threads after all actors are done
}

const plan::physical_graph& job::physical() const noexcept { return impl_->phys; }

std::vector<task_metrics> job::metrics() const {
  std::vector<task_metrics> out;
  out.reserve(impl_->live.size());
  for (auto& l : impl_->live) {
    task_metrics t;
    t.stage = l->stage;
    t.instance = l->instance;
    t.parallelism = l->parallelism;
    t.source = l->source;
    t.sink = l->sink;
    t.records_in = l->records_in.load(relaxed);
    t.records_out = l->records_out.load(relaxed);
    t.sink_records = l->sink_records.load(relaxed);
    t.batches_in = l->batches_in.load(relaxed);
    t.backpressured_s = static_cast<double>(l->backpressured_ns.load(relaxed)) / 1e9;
    t.queue_depth = l->queue_depth.load(relaxed);
    t.queue_capacity = l->queue_capacity;
    t.malformed_records = l->malformed.load(relaxed);
    t.late_records = l->late.load(relaxed);
    t.watermark = l->watermark.load(relaxed);
    t.done = l->done.load(relaxed);
    t.input_done = l->input_done.load(relaxed);
    t.input_total = l->input_total.load(relaxed);
    out.push_back(std::move(t));
  }
  return out;
}

// An operator sees batch ends only at multiples of its input stream's slide.
stage_slides job::impl::plan_slides() const {
  const auto& g = graph;
  const std::int64_t b_ms = opts.batch_interval.count();
  stage_slides s;
  s.in.resize(phys.stages.size());
  s.out.assign(phys.stages.size(), b_ms);
  for (auto& st : phys.stages) {
    std::int64_t cur = st.source_node >= 0 ? g.slide_of(st.source_node) : b_ms;
    for (int id : st.chain) {
      std::int64_t in = b_ms;
      for (int i : g.nodes[static_cast<std::size_t>(id)].inputs) in = std::max(in, g.slide_of(i));
      at(s.in, st.id).push_back(in);
      cur = g.slide_of(id);
    }
    at(s.out, st.id) = cur;
  }
  return s;
}

// The store, and the checkpoint to resume from: the newest valid one.
restore_point job::impl::open_checkpoints() {
  restore_point rp;
  rp.began = steady::now();
  if (opts.checkpoint.dir.empty()) return rp;
  const auto& co = opts.checkpoint;
  std::vector<std::pair<std::string, int>> fp;
  for (auto& st : phys.stages) fp.emplace_back(st.name, st.parallelism);
  plan_print = checkpoint::plan_fingerprint(fp);
  try {
    cp_store = std::make_unique<checkpoint::store>(checkpoint::store_options{co.dir, co.retain, co.compress});
    cp_store->claim();  // one run per directory, writable: checked now, not at the first checkpoint
    if (!co.fresh) {
      rp.data = cp_store->load_latest([](const std::string& w) { log_message(log_level::warning, w); });
      if (!rp.data && !cp_store->empty() && only_partial_attempts(co.dir)) {
        // killed before its first checkpoint completed: nothing was ever
        // committed, so starting from scratch loses nothing
        log_message(log_level::warning, "checkpoint directory " + co.dir +
                                             " holds only checkpoints that never completed (no MANIFEST): "
                                             "starting from scratch");
      } else if (!rp.data && !cp_store->empty())
        throw pipeline_error("checkpoint directory " + co.dir +
                             " holds no valid checkpoint (see `weir checkpoints list " + co.dir +
                             "`); refusing to start from scratch: use --fresh to do so");
    }
  } catch (const checkpoint::checkpoint_error& e) {
    throw pipeline_error(e.what());
  }
  if (rp.data) {
    if (rp.data->plan != plan_print)
      throw pipeline_error("checkpoint " + std::to_string(rp.data->id) + " in " + co.dir +
                           " was taken with another plan (" + checkpoint::plan_difference(*rp.data, fp) +
                           "); run the same pipeline and --parallelism, or use --fresh");
    for (auto& t : rp.data->tasks) rp.of[{t.stage, t.instance}] = &t;
    restored_final = rp.data->final;
    rp.operator_id = rp.data->final ? final_checkpoint_id : rp.data->id;
  }
  return rp;
}

// Every task (opens sources and operators here, so that configuration
// errors surface from start(); restores their state from `rp`).
void job::impl::build_tasks(const stage_slides& slides, const restore_point& rp) {
  const auto& g = graph;
  const bool checkpointing = cp_store != nullptr;
  stage_tasks.assign(phys.stages.size(), {});
  snaps.assign(phys.stages.size(), {});
  operator_context ctx;
  ctx.batch_interval = opts.batch_interval;
  ctx.checkpointing = checkpointing;
  ctx.restoring = rp.data.has_value();
  ctx.record_mode = opts.mode == execution_mode::record;
  for (auto& st : phys.stages) {
    for (int i = 0; i < st.parallelism; ++i) {
      task_identity who{st.id, i, st.parallelism > 1 ? st.name + "[" + std::to_string(i) + "]" : st.name};
      auto cell = std::make_shared<task_cell>(who, opts, checkpointing);
      task& t = cell->logic;
      const checkpoint::task_snapshot* snap = nullptr;
      if (rp.data) {
        auto it = rp.of.find({st.id, i});
        if (it == rp.of.end())
          throw pipeline_error("checkpoint " + std::to_string(rp.data->id) + " has no state for task " + t.name());
        snap = it->second;
      }
      at(snaps, st.id).push_back(snap);
      ctx.instance = i;
      ctx.parallelism = st.parallelism;
      if (st.source_node >= 0) {
        auto& n = g.nodes[static_cast<std::size_t>(st.source_node)];
        t.source().set_source(n.make_source_part ? n.make_source_part(i, st.parallelism) : n.make_source());
        io::source_reader& src = *t.source().source();
        try {
          src.open();
        } catch (const pipeline_error&) {
          throw;
        } catch (const std::exception& e) {
          throw pipeline_error(src.describe() + ": " + e.what());
        }
        if (snap && !snap->finished && src.replayable()) {
          state_reader r(snap->source_position, "the position of " + src.describe());
          src.restore_position(r);
        } else if (!snap && checkpointing && !src.replayable()) {
          log_message(log_level::warning, src.describe() +
                                               " cannot replay its input: records in flight at a crash are "
                                               "lost (at-most-once for this source)");
        }
      }
      t.set_slides(at(slides.in, st.id), at(slides.out, st.id));
      const auto& in_slide = at(slides.in, st.id);
      for (std::size_t ci = 0; ci < st.chain.size(); ++ci) {
        auto& n = g.nodes[static_cast<std::size_t>(st.chain[ci])];
        ctx.slide = std::chrono::milliseconds(in_slide[ci]);
        chain_link op{n.make_operator(), n.name, n.sink, {}};
        try {
          op.op->open(ctx);
          if (snap) {
            if (ci >= snap->operators.size() || snap->operators[ci].name != n.name)
              throw pipeline_error("checkpoint " + std::to_string(rp.data->id) + ": task " + t.name() +
                                   " has no state for operator " + n.name);
            state_reader r(snap->operators[ci].bytes, "operator " + n.name + " of " + t.name());
            op.op->restore_state(rp.operator_id, r);
          }
        } catch (const pipeline_error&) {
          throw;
        } catch (const std::exception& e) {
          throw pipeline_error(n.name + ": " + e.what());
        }
        t.chain().add(std::move(op));
      }
      if (t.source() && !t.chain().empty()) t.chain()[0].ctx.origin = t.source().source()->origin();
      t.chain_complete();
      at(stage_tasks, st.id).push_back(std::move(cell));
      if (snap) crash_point("during_recovery");
    }
  }
}

// The actor system (scheduler threads = cores unless configured), the
// coordinator's thread with checkpoints, one actor per task.
void job::impl::spawn_actors() {
  cfg = std::make_unique<caf::actor_system_config>();
  cfg->set("scheduler.max-threads", static_cast<caf::config_value::integer>(opts.threads));
  // Record mode: an actor yields its thread after a few messages, so that a
  // source re-scheduling itself does not hold back the actors downstream.
  // (Measured with perf/weir-bench-latency: p50 65 µs with CAF's default of
  // unlimited messages per resume, 7 µs with 1.)
  // Batch mode: at most 16 messages (16 wire batches or source reads of up
  // to batch_size records) per activation, not CAF's unlimited default. A
  // source's tick re-arrives while it runs, so unlimited it held its worker
  // until out of credit, and the tasks it fed waited to be stolen by the
  // other worker (CAF's work stealing polls, then sleeps 10 ms): windowed
  // word count at parallelism 2 ran on about one core (10.5 M words/s,
  // CPU/elapsed 1.0) and reached 20.7 M words/s with 16 (CPU/elapsed 1.9;
  // 4, 64 and 256 gave the same), parallelism 1 unchanged (perf/weir-perf, 2 cores).
  cfg->set("scheduler.max-throughput", caf::config_value::integer{opts.mode == execution_mode::record ? 1 : 16});
  sys = std::make_unique<caf::actor_system>(*cfg);
  self = std::make_unique<caf::scoped_actor>(*sys);
  if (cp_store) coordinator_thr = std::make_unique<coordinator_thread>(*sys);
  const caf::actor job_handle = caf::actor_cast<caf::actor>(*self);
  handles.assign(phys.stages.size(), {});
  for (auto& st : phys.stages)
    for (int i = 0; i < st.parallelism; ++i) {
      auto& cell = at(at(stage_tasks, st.id), i);
      cell->links.job = job_handle;
      if (coordinator_thr) cell->links.coordinator = coordinator_thr->handle();
      auto a = spawn_task(*sys, cell);
      (*self)->monitor(a);
      at(handles, st.id).push_back(a);
      tasks.push_back(a);
    }
}

// Every (sender instance, receiver instance) pair that an edge's kind
// connects is one channel with `edge_capacity` initial credits.
void job::impl::wire_edges() {
  const auto cap = static_cast<std::int64_t>(opts.edge_capacity);
  for (auto& e : phys.edges) {
    auto& from = phys.stages[static_cast<std::size_t>(e.from)];
    auto& to = phys.stages[static_cast<std::size_t>(e.to)];
    std::string target_name = graph.nodes[static_cast<std::size_t>(to.chain.front())].name;
    for (int i = 0; i < from.parallelism; ++i) {
      auto& sender = *at(at(stage_tasks, e.from), i);
      const std::size_t edge = sender.logic.output().add_edge(e.kind, target_name);
      sender.links.out.emplace_back();
      std::vector<int> targets;
      switch (e.kind) {
        case plan::edge_kind::hash:
        case plan::edge_kind::hash_record:
          for (int j = 0; j < to.parallelism; ++j) targets.push_back(j);
          break;
        case plan::edge_kind::gather: targets.push_back(0); break;
        case plan::edge_kind::forward: targets.push_back(i); break;
      }
      for (int j : targets) {
        auto& receiver = *at(at(stage_tasks, e.to), j);
        const std::size_t chan = sender.logic.output().add_channel(edge, cap);
        const std::size_t in_ch = receiver.logic.input().add_channel(e.input);
        receiver.links.in.emplace_back(at(at(handles, e.from), i), static_cast<std::int32_t>(edge),
                                       static_cast<std::int32_t>(chan));
        sender.links.out[edge].emplace_back(at(at(handles, e.to), j), static_cast<std::int32_t>(in_ch));
      }
    }
  }
  // live metrics: the fixed part
  for (auto& st : phys.stages)
    for (int i = 0; i < st.parallelism; ++i) {
      task& t = at(at(stage_tasks, st.id), i)->logic;
      live_metrics& l = *t.live();
      l.stage = st.name;
      l.instance = i;
      l.parallelism = st.parallelism;
      l.source = st.source_node >= 0;
      l.sink = !t.chain().empty() && t.chain()[t.chain().size() - 1].sink;
      l.queue_capacity = t.input().size() * static_cast<std::uint64_t>(cap);
      live.push_back(t.live());
    }
}

// Restored tasks: the runtime's own state (needs the wired channels); the
// batch clock resumes at the latest batch end of any task.
void job::impl::restore_runtime_state(const restore_point& rp) {
  std::int64_t clock_offset = 0;  // the batch time the run resumes at, ms
  for (auto& st : phys.stages)
    for (int i = 0; i < st.parallelism; ++i) {
      task& t = at(at(stage_tasks, st.id), i)->logic;
      const auto* snap = at(at(snaps, st.id), i);
      if (!snap) continue;
      t.restore(decode_runtime_state(snap->runtime, "the runtime state of " + t.name(), t.chain().size(),
                                     t.input().size()),
                snap->finished);
      clock_offset = std::max(clock_offset, t.last_mark());
    }
  if (rp.data) {
    counters.update([&](checkpoint_stats& c) {
      c.restored_id = rp.data->id;
      c.restore_s = std::chrono::duration<double>(steady::now() - rp.began).count();
    });
    log_message(log_level::info, "resumed from checkpoint " + std::to_string(rp.data->id) +
                                     (rp.data->final ? " (final: the input was fully processed)" : ""));
  }
  started = steady::now();
  clock_origin = started - std::chrono::milliseconds(clock_offset);
}

// The coordinator starts its interval, the tasks get `init`, the sources `start`.
void job::impl::launch() {
  std::vector<caf::actor> source_tasks;
  for (auto& st : phys.stages)
    for (int i = 0; i < st.parallelism; ++i) {
      auto& cell = at(at(stage_tasks, st.id), i);
      cell->logic.source().set_clock_origin(clock_origin);
      cells.push_back(cell);
      if (st.source_node >= 0) source_tasks.push_back(at(at(handles, st.id), i));
    }
  if (coordinator_thr) {
    coordinator_setup s;
    s.interval = opts.checkpoint.interval;
    s.timeout = opts.checkpoint.timeout;
    s.batch_interval_ms = opts.batch_interval.count();
    s.clock_origin = clock_origin;
    s.plan = plan_print;
    s.first_id = cp_store->next_id();
    s.free_id_from = [store = cp_store.get()](std::uint64_t id) { return store->free_id_from(id); };
    for (auto& c : cells) {
      s.tasks.emplace_back(c->logic.identity().stage, c->logic.identity().instance);
      s.sources.push_back(static_cast<bool>(c->logic.source()));
      s.live.push_back(c->logic.live());
    }
    checkpoint::store* store = cp_store.get();
    coordinator = std::make_unique<checkpoint_coordinator>(
        std::move(s), [store](const checkpoint::checkpoint_data& d) { return store->write(d); },
        *coordinator_thr, system_coordinator_clock(), counters);
    coordinator_thr->start(*coordinator, tasks, source_tasks);
  }
  for (auto& h : tasks) (*self)->send(h, init_atom::value);
  {
    std::lock_guard<std::mutex> lock(mtx);
    sources = source_tasks;
  }
  running = true;
  for (auto& h : source_tasks) (*self)->send(h, start_atom::value);
}

void job::start() {
  auto& m = *impl_;
  const stage_slides slides = m.plan_slides();
  const restore_point rp = m.open_checkpoints();
  m.build_tasks(slides, rp);
  m.spawn_actors();
  m.wire_edges();
  m.restore_runtime_state(rp);
  m.launch();
}

run_stats job::wait() {
  auto& m = *impl_;
  if (!m.running) throw pipeline_error("the pipeline was not started");
  run_stats stats;
  std::optional<std::string> failure;
  latency_histogram latency;
  std::size_t remaining = m.tasks.size();
  std::vector<caf::actor_addr> reported;  // tasks that said done or fail before terminating
  auto& self = *m.self;
  const bool cp = m.coordinator != nullptr;
  std::map<std::pair<int, int>, std::size_t> index_of;
  for (std::size_t i = 0; i < m.cells.size(); ++i)
    index_of[{m.cells[i]->logic.identity().stage, m.cells[i]->logic.identity().instance}] = i;
  std::vector<snapshot_ptr> finals(m.cells.size());
  auto fail = [&](std::string msg) {
    if (failure) return;
    failure = std::move(msg);
    if (m.coordinator_thr) m.coordinator_thr->halt();
    m.kill_all();
  };

  while (remaining > 0) {
    self->receive(
        [&](done_atom, const task_report& r) {
          stats.source_records += r.source_records;
          stats.sink_records += r.sink_records;
          stats.batches += r.batches;
          stats.source_backpressure_s += r.backpressure_s;
          stats.malformed_records += r.malformed_records;
          stats.late_records += r.late_records;
          if (r.latency) latency.merge(*r.latency);
          reported.push_back(self->current_sender()->address());
          if (r.final_state) {
            auto it = index_of.find({r.final_state->stage, r.final_state->instance});
            if (it != index_of.end()) finals[it->second] = r.final_state;
          }
        },
        [&](fail_atom, const std::string& msg) {
          reported.push_back(self->current_sender()->address());
          fail(msg);
        },
        [&](caf::down_msg& dm) {
          --remaining;
          bool said = std::find(reported.begin(), reported.end(), dm.source) != reported.end();
          if (!said && !failure && !m.killed.load())
            fail("an actor terminated unexpectedly: " + caf::to_string(dm.reason));
        });
  }
  m.running = false;
  // no checkpoint is triggered or written any more (one being written completes)
  if (m.coordinator_thr) m.coordinator_thr->stop();

  // A bounded run with checkpoints ends with a final checkpoint (every task
  // finished), then the sinks commit their last epoch (two-phase commit).
  if (cp && !failure && !m.killed.load()) {
    bool all_final = std::all_of(finals.begin(), finals.end(), [](auto& f) { return f != nullptr; });
    if (all_final) {
      if (!m.restored_final && !m.coordinator->write_final(finals))
        failure = "the final checkpoint could not be written (see above): the output of the last epoch "
                  "is pre-committed but not committed; run again to commit it";
      if (!failure) {
        crash_point("after_manifest_before_commit");
        try {
          for (auto& c : m.cells) c->logic.commit_final();
        } catch (const std::exception& e) {
          failure = std::string("committing the output: ") + e.what();
        }
      }
    }
  }
  if (cp) m.coordinator->sum_snapshot_time();
  stats.checkpoints = m.counters.get();
  stats.elapsed_s = std::chrono::duration<double>(steady::now() - m.started).count();
  stats.latency_samples = latency.total();
  stats.latency_p50_us = latency.quantile(0.5) / 1e3;
  stats.latency_p99_us = latency.quantile(0.99) / 1e3;
  stats.latency_p999_us = latency.quantile(0.999) / 1e3;
  stats.latency_max_us = latency.quantile(1.0) / 1e3;
  {
    std::lock_guard<std::mutex> lock(m.mtx);
    m.sources.clear();
  }
  if (failure) throw pipeline_error(*failure);
  return stats;
}

void job::stop(bool graceful) {
  std::lock_guard<std::mutex> lock(impl_->mtx);
  if (!graceful && !impl_->sources.empty()) {
    impl_->killed.store(true);
    impl_->kill_all();
    return;
  }
  for (auto& s : impl_->sources) caf::anon_send(s, stop_atom::value);
}

}  // namespace actors
}  // namespace weir
