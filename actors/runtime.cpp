// weir — the actor runtime (see runtime.hpp for the protocol).
#include "weir/actors/runtime.hpp"

#include <algorithm>
#include <cassert>
#include <ctime>
#include <array>
#include <atomic>
#include <deque>
#include <filesystem>
#include <map>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/all.hpp>

#include "weir/checkpoint/checkpoint.hpp"
#include "weir/operators/basic_operators.hpp"
#include "weir/operators/detail/hash_memo.hpp"
#include "weir/operators/log.hpp"
#include "weir/operators/partitioning.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir::actors {

/// A wire batch: up to batch_size records, the watermarks positioned among
/// them, and the ingestion time of its oldest record (steady clock, ns).
struct wire_batch {
  records recs;
  std::vector<watermark_mark> marks;
  std::int64_t ingest_ns = 0;
  /// Keyed edges: value::hash() of each record's key, computed once for
  /// routing and handed to the receiving operator (process_context::key_hashes), so
  /// that its state table does not hash the key again. Else empty.
  std::vector<std::uint64_t> key_hashes;
};
using batch_ptr = std::shared_ptr<wire_batch>;
struct task_state;

/// End-to-end latency samples (ns), log-linear buckets: 32 sub-buckets per
/// power of two (about 3 % resolution), as in HdrHistogram.
class latency_histogram {
public:
  void add(std::int64_t ns, std::uint64_t count) {
    if (ns < 0) ns = 0;
    counts_[index(static_cast<std::uint64_t>(ns))] += count;
    total_ += count;
  }
  void merge(const latency_histogram& o) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
  }
  std::uint64_t total() const { return total_; }
  /// The q-quantile (0..1) in ns: the upper bound of the bucket holding it.
  double quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return static_cast<double>(upper(i));
    }
    return static_cast<double>(upper(counts_.size() - 1));
  }

private:
  static constexpr int sub_bits = 5;
  static std::size_t index(std::uint64_t v) {
    if (v < (1u << sub_bits)) return static_cast<std::size_t>(v);
    int msb = 63 - __builtin_clzll(v);
    std::uint64_t sub = (v >> (msb - sub_bits)) & ((1u << sub_bits) - 1);
    return static_cast<std::size_t>(((msb - sub_bits + 1) << sub_bits) + sub);
  }
  static std::uint64_t upper(std::size_t i) {
    if (i < (1u << sub_bits)) return i;
    std::size_t e = (i >> sub_bits) - 1 + sub_bits, sub = i & ((1u << sub_bits) - 1);
    return ((std::uint64_t{1} << e) | (static_cast<std::uint64_t>(sub) << (e - sub_bits))) +
           (std::uint64_t{1} << (e - sub_bits)) - 1;
  }
  std::array<std::uint64_t, (64 - sub_bits + 1) << sub_bits> counts_{};
  std::uint64_t total_ = 0;
};
using task_ptr = std::shared_ptr<task_state>;

/// What a task reports when it has finished.
struct task_report {
  std::uint64_t source_records = 0;
  std::uint64_t sink_records = 0;
  std::uint64_t batches = 0;
  double backpressure_s = 0;
  std::uint64_t malformed_records = 0;
  std::uint64_t late_records = 0;
  std::shared_ptr<latency_histogram> latency;  ///< sinks only
  /// With checkpoints: the task's state after its end of stream (a
  /// checkpoint taken later holds it in place of a barrier snapshot).
  std::shared_ptr<checkpoint::task_snapshot> final_state;
};
using snapshot_ptr = std::shared_ptr<checkpoint::task_snapshot>;

}  // namespace weir::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weir::actors::batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weir::actors::task_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weir::actors::task_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weir::actors::snapshot_ptr)

namespace weir {

int default_cores() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

namespace actors {

using data_atom = caf::atom_constant<caf::atom("data")>;
using mark_atom = caf::atom_constant<caf::atom("mark")>;
using eos_atom = caf::atom_constant<caf::atom("eos")>;
using credit_atom = caf::atom_constant<caf::atom("credit")>;
using init_atom = caf::atom_constant<caf::atom("init")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;
using linger_atom = caf::atom_constant<caf::atom("linger")>;
using timer_atom = caf::atom_constant<caf::atom("timer")>;
using barrier_atom = caf::atom_constant<caf::atom("barrier")>;
using trigger_atom = caf::atom_constant<caf::atom("trigger")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using abort_atom = caf::atom_constant<caf::atom("abort")>;
using complete_atom = caf::atom_constant<caf::atom("complete")>;
using recycle_atom = caf::atom_constant<caf::atom("recycle")>;

using clock = std::chrono::steady_clock;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
}
std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

enum class item_kind : std::uint8_t { data, mark, eos, barrier };

/// A queued message on a channel: data (needs credit to send) or a control
/// signal (ordered with data, no credit).
struct item {
  item_kind kind;
  std::int64_t time = 0;  ///< mark: the batch time; eos: 1 = drain windows, 0 = do not; barrier: checkpoint id
  batch_ptr data;
};

struct out_channel {
  caf::actor target;
  std::int32_t target_channel = 0;
  std::int64_t credit = 0;
  records building;            ///< the wire batch being filled
  std::vector<std::uint64_t> building_hashes;  ///< keyed edges: the key hash of each record of `building`
  std::vector<watermark_mark> building_marks;
  std::int64_t building_ingest = std::numeric_limits<std::int64_t>::max();
  std::deque<item> outbox;     ///< ready to send, in order
};

struct out_edge {
  plan::edge_kind kind = plan::edge_kind::forward;
  std::string target_name;     ///< for errors ("reduce_by_key expects pairs")
  std::vector<out_channel> chans;
  weir::detail::hash_memo key_hash;  ///< keyed edges: key → hash, for the keys routed again and again
};

struct in_channel {
  int input = 0;  ///< which input of the first chain operator it feeds
  caf::actor sender;
  std::int32_t sender_edge = 0, sender_channel = 0;
  std::deque<item> queue;
  bool marked = false;  ///< delivered the current batch end; held until all inputs have
  std::int64_t mark_time = 0;
  bool eos = false;
  bool drain = true;    ///< with eos: whether the sender drained (wall-clock run)
  std::int64_t wm = no_watermark;  ///< the channel's watermark
  bool idle = false;               ///< the sender's input went idle
  bool barrier = false;  ///< delivered the barrier being aligned; held until all inputs have
};

struct chain_op {
  operator_ptr op;
  std::string name;
  bool sink = false;
  process_context ctx;  ///< what its process calls get: origin, key hashes, watermark output
};

}  // namespace

/// The task's counters as other threads see them (metrics endpoint,
/// progress line): relaxed atomics written by the task's actor.
struct live_metrics {
  std::atomic<std::uint64_t> records_in{0}, records_out{0}, sink_records{0}, batches_in{0};
  std::atomic<std::int64_t> backpressured_ns{0};
  std::atomic<std::int64_t> snapshot_ns{0};  ///< time spent in take_snapshot
  std::atomic<std::uint64_t> queue_depth{0};
  std::atomic<std::uint64_t> malformed{0}, late{0};
  std::atomic<std::int64_t> watermark{no_watermark};
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> input_done{0}, input_total{0};  ///< a source's io::input_progress
  // fixed at start
  std::string stage;
  int instance = 0, parallelism = 1;
  bool source = false, sink = false;
  std::uint64_t queue_capacity = 0;
};

namespace {
constexpr auto relaxed = std::memory_order_relaxed;
void add(std::atomic<std::uint64_t>& a, std::uint64_t n) { a.fetch_add(n, relaxed); }
}  // namespace

/// Everything one actor (one instance of a stage) owns.
struct task_state {
  std::string name;
  context_options opts;
  clock::time_point start;
  caf::actor coordinator;
  io::source_ptr source;
  std::vector<chain_op> chain;
  std::vector<out_edge> outs;
  std::vector<in_channel> ins;
  std::vector<std::int64_t> in_slide;  ///< slide of each chain operator's input stream, ms
  std::int64_t out_slide = 0;          ///< slide of the stage's output stream, ms

  // progress
  std::int64_t last_mark = 0;     ///< last batch end fired
  std::uint64_t fired_records = 0;  ///< records operators emitted on watermarks (windows that fired)
  std::uint64_t fired_at_mark = 0;  ///< fired_records at the last batch end
  std::int64_t next_mark = 0;     ///< sources: next batch end to fire
  std::size_t rr = 0;             ///< round-robin input pointer
  bool inputs_done = false;       ///< end of stream processed, eos queued downstream
  bool reported = false;
  bool scheduled = false;         ///< a tick is pending (sources)
  bool waiting_credit = false;    ///< source paused for credit
  bool stop_requested = false;
  clock::time_point blocked_since;
  task_report report;
  std::vector<records> scratch;   ///< chain buffers, reused
  std::vector<std::vector<watermark_mark>> wm_scratch;  ///< watermarks generated by chain op i-1
  std::vector<records> seg_scratch;  ///< after(i-1): the segment between two watermarks, reused
  records in_seg;                    ///< consume(): the segment of a wire batch between two watermarks, reused
  std::vector<std::int64_t> fwd_wm;  ///< last watermark delivered to chain op i
  std::int64_t in_wm = no_watermark;  ///< combined watermark of the inputs
  bool in_idle = false;               ///< every live input is idle (announced downstream)
  std::int64_t cur_ingest = 0;        ///< ingestion time of the data being processed (steady ns)
  bool linger_pending = false;        ///< record mode: a flush is scheduled
  std::int64_t timer_at = end_watermark;  ///< scheduled processing-time timer (ms since epoch)
  std::shared_ptr<live_metrics> live = std::make_shared<live_metrics>();
  std::uint64_t queued = 0;            ///< items waiting in the input channels
  bool held = false;                   ///< holding input for want of credit (non-source)
  clock::time_point held_since;

  // checkpoints (docs/architecture.md §6)
  int stage_id = 0, instance = 0;
  bool checkpointing = false;
  std::uint64_t cp_pending = 0;   ///< source: checkpoint to inject after the batch end at cp_at
  std::int64_t cp_at = 0;         ///< source: batch time the barrier follows (0 = the next one)
  std::uint64_t cp_aligning = 0;  ///< barrier being aligned on the inputs (0 = none)
  std::uint64_t cp_dead = 0;      ///< barriers with an id <= this were aborted: dropped
  bool restored_finished = false; ///< restored from a final state: only passes end of stream on
  bool eos_drain = true;          ///< the drain flag of the end of stream it sent
  /// The previous snapshot, handed back by the coordinator once written:
  /// its operator buffers are reused (no fresh ~100 MB allocation and page
  /// faults per checkpoint).
  snapshot_ptr recycled;
  std::vector<std::size_t> snap_bytes;  ///< size of each chain operator's last snapshot
};

namespace {

struct task_holder {
  task_ptr st;
  bool ready = false;  ///< wiring complete (init received)
};

class task_logic {
public:
  task_logic(caf::stateful_actor<task_holder>* self, task_state& s) : self_(self), s_(s) {}

  // --- output ------------------------------------------------------------

  bool blocked() const {
    for (auto& e : s_.outs)
      for (auto& c : e.chans)
        if (!c.outbox.empty()) return true;
    return false;
  }

  void flush(out_channel& c) {
    while (!c.outbox.empty()) {
      item& it = c.outbox.front();
      switch (it.kind) {
        case item_kind::data:
          if (c.credit <= 0) return;
          --c.credit;
          self_->send(c.target, data_atom::value, c.target_channel, std::move(it.data));
          break;
        case item_kind::mark:
          self_->send(c.target, mark_atom::value, c.target_channel, it.time);
          break;
        case item_kind::eos:
          self_->send(c.target, eos_atom::value, c.target_channel, it.time != 0);
          break;
        case item_kind::barrier:
          self_->send(c.target, barrier_atom::value, c.target_channel, static_cast<std::uint64_t>(it.time));
          break;
      }
      c.outbox.pop_front();
    }
  }

  void seal(out_channel& c) {
    if (c.building.empty() && c.building_marks.empty()) return;
    auto b = std::make_shared<wire_batch>();
    b->recs = std::move(c.building);
    b->marks = std::move(c.building_marks);
    b->ingest_ns = b->recs.empty() ? s_.cur_ingest : c.building_ingest;
    if (!c.building_hashes.empty()) {
      assert(c.building_hashes.size() == b->recs.size());
      b->key_hashes = std::move(c.building_hashes);
      c.building_hashes = std::vector<std::uint64_t>();
    }
    c.building = records();
    c.building_marks.clear();
    c.building_ingest = std::numeric_limits<std::int64_t>::max();
    c.outbox.push_back({item_kind::data, 0, std::move(b)});
  }

  /// A full wire batch goes (kept out of line: emit's loop is per record).
  /// The records pushed by the current emit() have ingestion time cur_ingest.
  [[gnu::noinline]] void seal_and_flush(out_channel& c) {
    c.building_ingest = std::min(c.building_ingest, s_.cur_ingest);
    seal(c);
    flush(c);
  }

  [[gnu::noinline]] void start_building(out_channel& c, bool hashes) {
    const std::size_t n = std::min<std::size_t>(s_.opts.batch_size, 1024);
    c.building.reserve(n);
    if (hashes) c.building_hashes.reserve(n);
  }

  /// Routes the chain's output to every out edge. The ingestion time of the
  /// records (cur_ingest) is folded into a channel's wire batch when it is
  /// sealed here and at the end, not per record.
  void emit(records& recs) {
    if (recs.empty()) return;
    if (!s_.outs.empty()) add(s_.live->records_out, recs.size());
    const std::size_t batch = s_.opts.batch_size;
    for (std::size_t ei = 0; ei < s_.outs.size(); ++ei) {
      out_edge& e = s_.outs[ei];
      bool last = ei + 1 == s_.outs.size();
      if (e.kind == plan::edge_kind::hash || e.kind == plan::edge_kind::hash_record) {
        const int n = static_cast<int>(e.chans.size());
        const bool by_key = e.kind == plan::edge_kind::hash;
        for (auto& r : recs) {
          std::uint64_t h;
          if (!by_key)
            h = r.hash();
          else if (r.is_array() && r.as_array().size() == 2)  // the pair check of as_pair, inline
            h = e.key_hash(r.as_array()[0]);
          else
            h = as_pair(r, e.target_name.c_str()).first->hash();
          auto& c = e.chans[static_cast<std::size_t>(partition_of(h, n))];
          if (c.building.empty()) [[unlikely]]
            start_building(c, by_key);
          c.building.push_back(last ? std::move(r) : value(r));
          if (by_key) c.building_hashes.push_back(h);  // to the receiving operator (process_context::key_hashes)
          if (c.building.size() >= batch) [[unlikely]]
            seal_and_flush(c);
        }
      } else {
        auto& c = e.chans[0];
        for (auto& r : recs) {
          if (c.building.empty()) [[unlikely]]
            start_building(c, false);
          c.building.push_back(last ? std::move(r) : value(r));
          if (c.building.size() >= batch) [[unlikely]]
            seal_and_flush(c);
        }
      }
      for (auto& c : e.chans)
        if (!c.building.empty()) c.building_ingest = std::min(c.building_ingest, s_.cur_ingest);
    }
    recs.clear();
  }

  /// A watermark (or the idle status) after the records emitted so far, on
  /// every out channel: positioned inside the wire batch being filled.
  void emit_watermark(std::int64_t wm, watermark_status st = watermark_status::active) {
    if (st == watermark_status::active && wm > s_.live->watermark.load(relaxed)) s_.live->watermark.store(wm, relaxed);
    for (auto& e : s_.outs)
      for (auto& c : e.chans) c.building_marks.emplace_back(static_cast<std::uint32_t>(c.building.size()), wm, st);
  }

  /// After every message the task handled: publish the counters other
  /// threads read; in record mode flush partly filled wire batches (linger 0:
  /// now; else after the linger bound, like Kafka's linger.ms); schedule the
  /// earliest processing-time timer of the chain's operators.
  void after_activation() {
    {  // counters other threads read
      std::uint64_t malformed = s_.source ? s_.source->malformed_records() : 0, late = 0;
      for (auto& op : s_.chain) {
        malformed += op.op->counters().malformed_records;
        late += op.op->counters().late_records;
      }
      s_.live->malformed.store(malformed, relaxed);
      s_.live->late.store(late, relaxed);
      s_.live->queue_depth.store(s_.queued, relaxed);
    }
    if (s_.opts.mode == execution_mode::record) {
      bool pending = false;
      for (auto& e : s_.outs)
        for (auto& c : e.chans) pending = pending || !c.building.empty() || !c.building_marks.empty();
      if (pending) {
        if (s_.opts.linger.count() <= 0) {
          flush_building();
        } else if (!s_.linger_pending) {
          s_.linger_pending = true;
          self_->delayed_send(self_, s_.opts.linger, linger_atom::value);
        }
      }
    }
    // processing-time timers of the chain's operators
    std::int64_t t = end_watermark;
    for (auto& op : s_.chain) t = std::min(t, op.op->next_timer().value_or(end_watermark));
    if (t < s_.timer_at) {
      s_.timer_at = t;
      auto delay = std::chrono::milliseconds(std::max<std::int64_t>(0, t - wall_ms()));
      self_->delayed_send(self_, delay, timer_atom::value);
    }
  }

  void flush_building() {
    s_.linger_pending = false;
    for (auto& e : s_.outs)
      for (auto& c : e.chans) {
        seal(c);
        flush(c);
      }
  }

  void on_timer() {
    s_.timer_at = end_watermark;
    if (s_.inputs_done) return;
    const std::int64_t now = wall_ms();
    s_.cur_ingest = steady_ns();
    for (std::size_t i = 0; i < s_.chain.size(); ++i) {
      auto& op = *s_.chain[i].op;
      if (op.next_timer().value_or(end_watermark) > now) continue;
      op.on_processing_time(s_.chain[i].ctx, now, s_.scratch[i + 1]);
      after(i);
    }
  }

  void emit_signal(item_kind k, std::int64_t t) {
    for (auto& e : s_.outs)
      for (auto& c : e.chans) {
        seal(c);
        c.outbox.push_back({k, t, nullptr});
        flush(c);
      }
  }

  // --- the chain -----------------------------------------------------------

  /// Runs `in` (records of input `input` of the first operator) through the
  /// chain; the result is emitted downstream.
  void run_chain(records& in, int input = 0) { run_from(0, in, input); }

  /// Runs `in` through chain[i..]: the input of chain op i (input `input` of
  /// a multi-input first operator). `in` is consumed.
  void run_from(std::size_t i, records& in, int input = 0) {
    if (i == s_.chain.size()) {
      emit(in);
      return;
    }
    if (in.empty()) return;
    auto& op = s_.chain[i];
    if (op.sink) record_sink(in.size());
    if (i == 0)
      op.op->process_input(op.ctx, input, in, s_.scratch[1]);
    else
      op.op->process(op.ctx, in, s_.scratch[i + 1]);
    in.clear();
    after(i);
  }

  /// Runs records [prev, end) of `all` (`total` records when whole) through
  /// run(records, first index), and advances prev to end: the whole of `all`
  /// without a copy (a batch with one watermark at its end, the usual case),
  /// else the segment moved into `seg` (reused; left empty).
  template <class Run>
  static void run_range(records& all, std::size_t total, std::size_t& prev, std::size_t end, records& seg,
                        Run&& run) {
    if (end <= prev) return;
    const std::size_t from = prev;
    prev = end;
    if (from == 0 && end == total) {
      run(all, 0);
      return;
    }
    seg.assign(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(from)),
               std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(end)));
    run(seg, from);
    seg.clear();
  }

  /// Chain op i has produced output in scratch[i + 1], with the watermarks it
  /// generated (a timestamp assigner) positioned in wm_scratch[i + 1]: run it
  /// through the rest of the chain, delivering each watermark at its place.
  void after(std::size_t i) {
    records& out = s_.scratch[i + 1];
    auto& marks = s_.wm_scratch[i + 1];
    if (marks.empty()) {
      run_from(i + 1, out);
      return;
    }
    std::vector<watermark_mark> ms;
    ms.swap(marks);
    // Op i writes nothing more while its output runs through chain[i+1..],
    // so `out` is handed back with its capacity at the end; segments go
    // through a reused buffer, the whole output (one watermark at its end,
    // the usual case) without a copy.
    records all;
    all.swap(out);
    const std::size_t total = all.size();
    records& seg = s_.seg_scratch[i + 1];
    std::size_t prev = 0;
    auto run = [&](records& r, std::size_t) { run_from(i + 1, r); };
    for (auto& m : ms) {
      run_range(all, total, prev, std::min<std::size_t>(m.pos, total), seg, run);
      watermark_from(i + 1, m);
    }
    run_range(all, total, prev, total, seg, run);
    all.clear();
    if (out.empty()) out.swap(all);
    ms.clear();
    if (marks.empty()) marks.swap(ms);
  }

  /// Delivers watermark `wm` to chain[j..] in order: each operator fires what
  /// it closes (processed by the operators after it) and forwards a watermark.
  void watermark_from(std::size_t j, std::int64_t wm) {
    if (j == s_.chain.size()) {
      emit_watermark(wm);
      return;
    }
    if (wm <= s_.fwd_wm[j]) return;
    s_.fwd_wm[j] = wm;
    std::int64_t fwd = s_.chain[j].op->on_watermark(wm, s_.scratch[j + 1]);
    s_.fired_records += s_.scratch[j + 1].size();
    after(j);
    if (fwd != no_watermark) watermark_from(j + 1, fwd);
  }
  /// A generated mark: a watermark for chain[j..], or the idle status, which
  /// passes through to the outputs.
  void watermark_from(std::size_t j, const watermark_mark& m) {
    if (m.idle()) emit_watermark(no_watermark, watermark_status::idle);
    else watermark_from(j, m.wm);
  }

  void record_sink(std::size_t n) {
    s_.report.sink_records += n;
    add(s_.live->sink_records, n);
    if (s_.report.latency) s_.report.latency->add(steady_ns() - s_.cur_ingest, n);
  }

  /// Batch t is complete. Operators whose input stream has a slide that does
  /// not divide t (behind a window) see no batch end at t, and downstream
  /// stages see none either.
  void fire_batch_end(std::int64_t t) {
    s_.last_mark = t;
    s_.fired_at_mark = s_.fired_records;
    std::size_t n = 0;
    while (n < s_.chain.size() && t % s_.in_slide[n] == 0) ++n;
    signal_chain(n, [&](chain_op& op, records& out) {
      if (op.sink) ++s_.report.batches;
      op.op->on_batch_end(t, out);
    });
    if (t % s_.out_slide == 0) emit_signal(item_kind::mark, t);
    // a source's barrier follows a batch end (docs/architecture.md §6: in micro-batch
    // mode the barrier coincides with a batch boundary), the same one on
    // every source, so that multi-input tasks can align barriers and
    // batch ends together
    if (s_.source && s_.cp_pending != 0 && t % s_.out_slide == 0 &&
        (s_.cp_at == 0 || s_.source->logical_clock() || t >= s_.cp_at)) {
      std::uint64_t id = s_.cp_pending;
      s_.cp_pending = 0;
      checkpoint_here(id);
    }
  }

  // --- checkpoints -----------------------------------------------------------

  /// The runtime's own state of the task: batch clock and watermarks.
  std::string encode_runtime() const {
    state_writer w;
    w.varint(1);  // layout version
    w.i64(s_.last_mark);
    // a source snapshots inside fire_batch_end(t), before its caller moves
    // next_mark past t: the batch to fire after a restore is the one after t
    w.i64(std::max(s_.next_mark, s_.last_mark + s_.opts.batch_interval.count()));
    w.i64(s_.in_wm);
    w.boolean(s_.in_idle);
    w.i64(s_.live->watermark.load(relaxed));
    w.boolean(s_.eos_drain);
    w.varint(s_.fwd_wm.size());
    for (auto v : s_.fwd_wm) w.i64(v);
    w.varint(s_.ins.size());
    for (auto& c : s_.ins) {
      w.i64(c.wm);
      w.boolean(c.idle);
    }
    return w.take();
  }

  /// The task's snapshot: runtime state, source position, each operator's state.
  /// @errors what snapshot_state / snapshot_position throw.
  snapshot_ptr take_snapshot(std::uint64_t id, bool finished) {
    const std::int64_t t0 = steady_ns();
    struct timed {
      task_state& s;
      std::int64_t t0;
      ~timed() { s.live->snapshot_ns.fetch_add(steady_ns() - t0, relaxed); }
    } timer{s_, t0};
    auto snap = std::make_shared<checkpoint::task_snapshot>();
    snap->stage = s_.stage_id;
    snap->instance = s_.instance;
    snap->name = s_.name;
    snap->finished = finished;
    snap->runtime = encode_runtime();
    if (s_.source) {
      state_writer w;
      s_.source->snapshot_position(w);
      snap->source_position = w.take();
      snap->source_describe = s_.source->describe_position();
    }
    s_.snap_bytes.resize(s_.chain.size());
    for (std::size_t i = 0; i < s_.chain.size(); ++i) {
      auto& op = s_.chain[i];
      std::string buf;
      if (s_.recycled && i < s_.recycled->operators.size()) buf = std::move(s_.recycled->operators[i].bytes);
      state_writer w(std::move(buf));
      // room for the last size + 1/8: no growth by doubling (copies, faults)
      if (w.capacity() < s_.snap_bytes[i]) w.reserve(s_.snap_bytes[i] + s_.snap_bytes[i] / 8);
      op.op->snapshot_state(id, w);
      s_.snap_bytes[i] = w.size();
      snap->operators.push_back({op.name, w.take()});
    }
    s_.recycled.reset();
    return snap;
  }

  /// Every record and signal before barrier `id` is processed and none after
  /// it: snapshot, acknowledge to the coordinator, forward the barrier.
  void checkpoint_here(std::uint64_t id) {
    snapshot_ptr snap;
    try {
      snap = take_snapshot(id, false);
    } catch (const std::exception& e) {
      // e.g. a sink could not pre-commit (disk full): the checkpoint fails, the run goes on
      log_message(log_level::warning, s_.name + ": checkpoint " + std::to_string(id) + " failed: " + e.what());
      s_.cp_dead = std::max(s_.cp_dead, id);
      self_->send(s_.coordinator, abort_atom::value, id);
      return;
    }
    self_->send(s_.coordinator, ack_atom::value, id, std::move(snap));
    emit_signal(item_kind::barrier, static_cast<std::int64_t>(id));
  }

  /// Barrier alignment (Flink's aligned checkpoints): when every live input
  /// delivered the barrier, snapshot. When every live input is held — some
  /// by the barrier, the others by a batch end that needs the held ones —
  /// the sources put the barrier after different batches: abort it.
  void check_barrier() {
    if (s_.cp_aligning == 0 || s_.inputs_done) return;
    bool all = true, stuck = true;
    for (auto& c : s_.ins) {
      if (c.eos || c.barrier) continue;
      all = false;
      if (!c.marked) stuck = false;
    }
    std::uint64_t id = s_.cp_aligning;
    if (all) {
      release_barrier();
      checkpoint_here(id);
    } else if (stuck) {
      log_message(log_level::warning, s_.name + ": checkpoint " + std::to_string(id) +
                                          " aborted: its barriers follow different batch ends");
      s_.cp_dead = std::max(s_.cp_dead, id);
      release_barrier();
      self_->send(s_.coordinator, abort_atom::value, id);
    }
  }

  void release_barrier() {
    s_.cp_aligning = 0;
    for (auto& c : s_.ins) c.barrier = false;
  }

  /// The coordinator triggers checkpoint `id` on a source: its barrier
  /// follows the batch end at `at` (0 = the next one).
  void on_trigger(std::uint64_t id, std::int64_t at) {
    if (s_.inputs_done || !s_.source) return;
    if (at != 0 && !s_.source->logical_clock() && s_.last_mark >= at) {
      // this source is past the batch end the others put the barrier after
      self_->send(s_.coordinator, abort_atom::value, id);
      return;
    }
    s_.cp_pending = id;
    s_.cp_at = at;
  }

  void on_abort(std::uint64_t id) {
    s_.cp_dead = std::max(s_.cp_dead, id);
    if (s_.cp_pending != 0 && s_.cp_pending <= id) s_.cp_pending = 0;
    if (s_.cp_aligning != 0 && s_.cp_aligning <= id) {
      release_barrier();
      pump();
    }
  }

  void on_complete(std::uint64_t id) {
    for (auto& op : s_.chain) op.op->notify_checkpoint_complete(id);
    if (s_.source) s_.source->notify_checkpoint_complete(id);
  }

  /// Delivers a control signal to chain[0..n): each operator first processes
  /// what the operators before it emitted for the signal, then gets the
  /// signal itself (`signal(op, out)`); the last output is emitted downstream.
  template <class Signal>
  void signal_chain(std::size_t n, Signal&& signal) {
    records* cur = &s_.scratch[0];
    std::vector<std::pair<std::size_t, watermark_mark>> generated;  // rare: an assigner mid-chain
    for (std::size_t i = 0; i < n; ++i) {
      auto& op = s_.chain[i];
      records& next = s_.scratch[i + 1];
      if (!cur->empty()) {
        if (op.sink) record_sink(cur->size());
        op.op->process(op.ctx, *cur, next);
        cur->clear();
        auto& marks = s_.wm_scratch[i + 1];
        for (auto& m : marks) generated.emplace_back(i + 1, m);
        marks.clear();
      }
      signal(op, next);
      cur = &next;
    }
    if (n < s_.chain.size())
      run_from(n, *cur);
    else
      emit(*cur);
    for (auto& [j, wm] : generated) watermark_from(j, wm);
  }

  /// All input seen: keep ending logical batches until every operator has
  /// emitted what it holds (unless the run is on a logical clock), flush, and
  /// send end of stream.
  void finish_stream(bool drain) {
    if (s_.restored_finished) {  // its output was produced before the checkpoint
      emit_signal(item_kind::eos, s_.eos_drain ? 1 : 0);
      s_.inputs_done = true;
      maybe_complete();
      return;
    }
    s_.eos_drain = drain;
    // bounded input: every event-time window fires (Flink's final MAX watermark)
    s_.cur_ingest = steady_ns();
    const std::uint64_t fired_before = s_.fired_records;
    watermark_from(0, end_watermark);
    const std::int64_t b = s_.opts.batch_interval.count();
    std::int64_t t = s_.last_mark;
    if (s_.fired_records != fired_before || (drain && s_.fired_records != s_.fired_at_mark)) {
      // the windows the final watermark closed (or, on the wall clock, the
      // end of one of several inputs did after the last batch end) belong to one more batch, so
      // that batch operators after them (count, top, collect, ...) see them
      // (docs/architecture.md §5); downstream tasks get its batch end too
      t += b;
      fire_batch_end(t);
    }
    for (; drain;) {
      std::int64_t h = t;
      for (auto& op : s_.chain) h = std::max(h, op.op->drain_horizon(t));
      if (h <= t) break;
      while (t < h) {
        t += b;
        fire_batch_end(t);
      }
    }
    signal_chain(s_.chain.size(), [](chain_op& op, records& out) { op.op->on_end_of_stream(out); });
    emit_signal(item_kind::eos, drain ? 1 : 0);
    s_.inputs_done = true;
    maybe_complete();
  }

  void maybe_complete() {
    if (!s_.inputs_done || s_.reported || blocked()) return;
    s_.reported = true;
    for (auto& op : s_.chain) {
      s_.report.malformed_records += op.op->counters().malformed_records;
      s_.report.late_records += op.op->counters().late_records;
    }
    if (s_.source) s_.report.malformed_records += s_.source->malformed_records();
    if (s_.checkpointing) s_.report.final_state = take_snapshot(final_checkpoint_id, true);
    s_.live->malformed.store(s_.report.malformed_records, relaxed);
    s_.live->late.store(s_.report.late_records, relaxed);
    s_.live->queue_depth.store(0, relaxed);
    s_.live->done.store(true, relaxed);
    if (s_.source) s_.source->close();
    self_->send(s_.coordinator, done_atom::value, s_.report);
    self_->quit();
  }

  // --- inputs --------------------------------------------------------------

  void check_alignment() {
    bool any_live = false;
    std::int64_t t = 0;
    for (auto& c : s_.ins) {
      if (c.eos) continue;
      if (!c.marked) return;
      any_live = true;
      t = c.mark_time;
    }
    if (!any_live) return;
    for (auto& c : s_.ins) c.marked = false;
    fire_batch_end(t);
  }

  void pump() {
    while (!s_.inputs_done && !blocked()) {
      bool progressed = false;
      const std::size_t n = s_.ins.size();
      for (std::size_t k = 0; k < n; ++k) {
        std::size_t ci = (s_.rr + k) % n;
        in_channel& c = s_.ins[ci];
        if (c.queue.empty() || c.marked || c.eos || c.barrier) continue;
        s_.rr = (ci + 1) % n;
        item it = std::move(c.queue.front());
        c.queue.pop_front();
        --s_.queued;
        progressed = true;
        switch (it.kind) {
          case item_kind::data:
            self_->send(c.sender, credit_atom::value, c.sender_edge, c.sender_channel, std::int32_t{1});
            consume(c, *it.data);
            break;
          case item_kind::mark:
            s_.cur_ingest = steady_ns();
            c.marked = true;
            c.mark_time = it.time;
            check_alignment();
            check_barrier();
            break;
          case item_kind::barrier: {
            auto id = static_cast<std::uint64_t>(it.time);
            if (id <= s_.cp_dead) break;  // aborted
            c.barrier = true;
            s_.cp_aligning = id;
            check_barrier();
            break;
          }
          case item_kind::eos:
            c.eos = true;
            c.drain = it.time != 0;
            s_.cur_ingest = steady_ns();
            combine_watermarks();
            if (std::all_of(s_.ins.begin(), s_.ins.end(), [](auto& x) { return x.eos; }))
              finish_stream(std::all_of(s_.ins.begin(), s_.ins.end(), [](auto& x) { return x.drain; }));
            else {
              check_alignment();
              check_barrier();
            }
            break;
        }
        break;
      }
      if (!progressed) break;
    }
    if (!s_.inputs_done && blocked() && s_.queued > 0 && !s_.held) {
      s_.held = true;
      s_.held_since = clock::now();
    }
  }

  /// A wire batch from channel c: its records in order, each watermark
  /// taking effect at its position (min over the live, non-idle inputs).
  void consume(in_channel& c, wire_batch& b) {
    s_.cur_ingest = b.ingest_ns;
    add(s_.live->records_in, b.recs.size());
    add(s_.live->batches_in, 1);
    if (!b.recs.empty()) c.idle = false;
    // the routing hashes of a keyed edge go to the first operator with its records
    const bool hashed = !b.key_hashes.empty() && !s_.chain.empty() && b.key_hashes.size() == b.recs.size();
    process_context* first = s_.chain.empty() ? nullptr : &s_.chain.front().ctx;
    struct reset_hashes {  // the pointer is valid during this batch only
      process_context* ctx;
      ~reset_hashes() {
        if (ctx) ctx->key_hashes = nullptr;
      }
    } reset{hashed ? first : nullptr};
    auto hashes_from = [&](std::size_t pos) {
      if (hashed) first->key_hashes = b.key_hashes.data() + pos;
    };
    if (b.marks.empty()) {
      hashes_from(0);
      run_chain(b.recs, c.input);
      return;
    }
    // b.recs is consumed when it runs whole (run_chain clears it): positions use `total`
    const std::size_t total = b.recs.size();
    std::size_t prev = 0;
    auto run = [&](records& r, std::size_t from) {
      hashes_from(from);
      run_chain(r, c.input);
    };
    for (auto& m : b.marks) {
      const std::size_t end = std::min<std::size_t>(m.pos, total);
      if (end > prev) c.idle = false;
      run_range(b.recs, total, prev, end, s_.in_seg, run);
      if (m.idle()) {
        c.idle = true;
      } else {
        c.idle = false;
        c.wm = std::max(c.wm, m.wm);
      }
      combine_watermarks();
    }
    run_range(b.recs, total, prev, total, s_.in_seg, run);
  }

  /// The task's input watermark: the minimum over inputs that are neither
  /// ended nor idle; when every live input is idle, the idle status goes on.
  void combine_watermarks() {
    std::int64_t wm = end_watermark;
    bool any = false, all_idle = true;
    for (auto& c : s_.ins) {
      if (c.eos) continue;
      any = true;
      if (c.idle) continue;
      all_idle = false;
      wm = std::min(wm, c.wm);
    }
    if (any && all_idle) {
      if (!s_.in_idle) {
        s_.in_idle = true;
        emit_watermark(no_watermark, watermark_status::idle);  // the idle status passes through to the outputs
      }
      return;
    }
    s_.in_idle = false;
    if (!any) return;  // end of stream delivers the final watermark
    if (wm > s_.in_wm) {
      s_.in_wm = wm;
      watermark_from(0, wm);
    }
  }

  void on_credit(std::int32_t edge, std::int32_t chan, std::int32_t n) {
    auto& c = s_.outs.at(static_cast<std::size_t>(edge)).chans.at(static_cast<std::size_t>(chan));
    c.credit += n;
    flush(c);
    if (blocked()) return;
    if (s_.held) {
      s_.held = false;
      s_.live->backpressured_ns.fetch_add(
          std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - s_.held_since).count(), relaxed);
    }
    if (s_.inputs_done) {
      maybe_complete();
      return;
    }
    if (s_.source) {
      if (s_.waiting_credit) {
        s_.waiting_credit = false;
        s_.report.backpressure_s +=
            std::chrono::duration<double>(clock::now() - s_.blocked_since).count();
        s_.live->backpressured_ns.fetch_add(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - s_.blocked_since).count(), relaxed);
        schedule_tick();
      }
    } else {
      pump();
    }
  }

  // --- sources -------------------------------------------------------------

  void schedule_tick() {
    if (s_.scheduled) return;
    s_.scheduled = true;
    self_->send(self_, tick_atom::value);
  }

  std::int64_t elapsed_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - s_.start).count();
  }

  void source_step() {
    s_.scheduled = false;
    if (s_.inputs_done) return;
    if (blocked()) {
      if (!s_.waiting_credit) {
        s_.waiting_credit = true;
        s_.blocked_since = clock::now();
      }
      return;
    }
    if (s_.restored_finished) {
      finish_stream(s_.eos_drain);
      return;
    }
    const std::int64_t b = s_.opts.batch_interval.count();
    const bool logical = s_.source->logical_clock();
    while (!logical && elapsed_ms() >= s_.next_mark) {
      fire_batch_end(s_.next_mark);
      s_.next_mark += b;
    }
    if (s_.stop_requested) {
      end_source();
      return;
    }
    records& buf = s_.scratch[0];
    buf.clear();
    s_.cur_ingest = steady_ns();
    auto res = s_.source->read(buf, s_.opts.batch_size);
    if (!buf.empty()) {
      add(s_.live->records_in, buf.size());
      add(s_.live->batches_in, 1);
    }
    const io::input_progress pr = s_.source->progress();  // one virtual call per read, not per record
    s_.live->input_done.store(pr.done, relaxed);
    s_.live->input_total.store(pr.total, relaxed);
    s_.report.source_records += buf.size();
    if (!buf.empty()) run_chain(buf);
    if (res.bytes_full) flush_building();  // a wire batch holds about read_bytes_bound bytes of lines at most
    switch (res.st) {
      case io::read_result::status::more: schedule_tick(); break;
      case io::read_result::status::idle: {
        auto until_mark = std::chrono::milliseconds(std::max<std::int64_t>(0, s_.next_mark - elapsed_ms()));
        auto wait = std::min<clock::duration>(res.retry_after, until_mark);
        if (wait <= clock::duration::zero()) {
          schedule_tick();
        } else {
          s_.scheduled = true;
          self_->delayed_send(self_, wait, tick_atom::value);
        }
        break;
      }
      case io::read_result::status::end: end_source(); break;
      case io::read_result::status::batch_end:
        fire_batch_end(s_.next_mark);
        s_.next_mark += b;
        schedule_tick();
        break;
    }
  }

  void end_source() {
    if (s_.source->logical_clock()) {
      // every batch was ended by the source; the run ends with its last one
      finish_stream(false);
      return;
    }
    // an instance that ends before its first batch end without a record (a
    // file split instance with nothing to read) is idle: it holds back no
    // watermark downstream while its end of stream waits for the batch end
    // (Flink marks a source subtask without splits idle)
    if (s_.report.source_records == 0 && s_.last_mark == 0) emit_watermark(no_watermark, watermark_status::idle);
    // the batch being read ends now, without waiting for the clock
    fire_batch_end(s_.next_mark);
    s_.next_mark += s_.opts.batch_interval.count();
    finish_stream(true);
  }

private:
  caf::stateful_actor<task_holder>* self_;
  task_state& s_;
};

// The state is passed at spawn (spawning without arguments trips UBSan inside
// CAF 0.17's init_fun_factory); it is complete once `init` arrives.
caf::behavior task_actor(caf::stateful_actor<task_holder>* self, task_ptr st) {
  self->state.st = std::move(st);
  auto guarded = [self](auto&& fn) {
    task_state* s = self->state.st.get();
    if (!self->state.ready || s->reported) return;
    try {
      task_logic logic(self, *s);
      fn(logic, *s);
      if (!s->reported) logic.after_activation();
    } catch (const std::exception& e) {
      s->reported = true;
      if (s->source) {
        try {
          s->source->close();
        } catch (...) {
        }
      }
      self->send(s->coordinator, fail_atom::value, s->name + ": " + e.what());
      self->quit();
    }
  };
  return {
      [self](init_atom) { self->state.ready = true; },
      [guarded](start_atom) {
        guarded([](task_logic& l, task_state&) { l.schedule_tick(); });
      },
      [guarded](tick_atom) { guarded([](task_logic& l, task_state&) { l.source_step(); }); },
      [guarded](linger_atom) { guarded([](task_logic& l, task_state&) { l.flush_building(); }); },
      [guarded](timer_atom) { guarded([](task_logic& l, task_state&) { l.on_timer(); }); },
      [guarded](stop_atom) {
        guarded([](task_logic& l, task_state& s) {
          s.stop_requested = true;
          if (!s.waiting_credit) l.schedule_tick();
        });
      },
      [guarded](data_atom, std::int32_t ch, const batch_ptr& b) {
        guarded([&](task_logic& l, task_state& s) {
          s.ins.at(static_cast<std::size_t>(ch)).queue.push_back({item_kind::data, 0, b});
          ++s.queued;
          l.pump();
        });
      },
      [guarded](mark_atom, std::int32_t ch, std::int64_t t) {
        guarded([&](task_logic& l, task_state& s) {
          s.ins.at(static_cast<std::size_t>(ch)).queue.push_back({item_kind::mark, t, nullptr});
          ++s.queued;
          l.pump();
        });
      },
      [guarded](eos_atom, std::int32_t ch, bool drain) {
        guarded([&](task_logic& l, task_state& s) {
          s.ins.at(static_cast<std::size_t>(ch)).queue.push_back({item_kind::eos, drain ? 1 : 0, nullptr});
          ++s.queued;
          l.pump();
        });
      },
      [guarded](credit_atom, std::int32_t edge, std::int32_t ch, std::int32_t n) {
        guarded([&](task_logic& l, task_state&) { l.on_credit(edge, ch, n); });
      },
      [guarded](barrier_atom, std::int32_t ch, std::uint64_t id) {
        guarded([&](task_logic& l, task_state& s) {
          s.ins.at(static_cast<std::size_t>(ch)).queue.push_back({item_kind::barrier, static_cast<std::int64_t>(id), nullptr});
          ++s.queued;
          l.pump();
        });
      },
      [guarded](trigger_atom, std::uint64_t id, std::int64_t at) {
        guarded([&](task_logic& l, task_state&) { l.on_trigger(id, at); });
      },
      [guarded](abort_atom, std::uint64_t id) {
        guarded([&](task_logic& l, task_state&) { l.on_abort(id); });
      },
      [guarded](complete_atom, std::uint64_t id) {
        guarded([&](task_logic& l, task_state&) { l.on_complete(id); });
      },
      [guarded](recycle_atom, const snapshot_ptr& snap) {
        guarded([&](task_logic&, task_state& s) { s.recycled = snap; });
      },
  };
}

}  // namespace

// --- job ---------------------------------------------------------------------

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

}  // namespace

struct job::impl {
  const plan::logical_graph& graph;
  context_options opts;
  plan::physical_graph phys;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> coord;
  std::vector<caf::actor> tasks;
  std::vector<caf::actor> sources;
  std::mutex mtx;  // guards `sources` against stop() from other threads
  std::vector<std::shared_ptr<live_metrics>> live;  // fixed once start() has wired the tasks
  bool running = false;
  std::atomic<bool> killed{false};  // stop(false): actors killed on purpose
  clock::time_point started;
  clock::time_point clock_origin;  // time 0 of the batch clock (earlier when resumed)

  // checkpoints
  std::vector<task_ptr> states;                 // every task, in stage order
  std::vector<caf::actor> source_tasks;         // stage order
  std::unique_ptr<checkpoint::store> cp_store;
  std::string plan_print;
  bool restored_final = false;                  // resumed from a final checkpoint
  mutable std::mutex cp_mtx;                    // guards cp_stats
  checkpoint_stats cp_stats;

  impl(const plan::logical_graph& g, context_options o) : graph(g), opts(o) {}

  checkpoint_stats cp_snapshot() const {
    std::lock_guard<std::mutex> lock(cp_mtx);
    return cp_stats;
  }
  /// Sums the tasks' snapshot time into cp_stats (job thread: `states` is fixed once running).
  void cp_sum_snapshot_time() {
    std::int64_t ns = 0;
    for (auto& t : states) ns += t->live->snapshot_ns.load(relaxed);
    cp_update([&](checkpoint_stats& c) { c.snapshot_s = static_cast<double>(ns) / 1e9; });
  }
  template <class F>
  void cp_update(F&& f) {
    std::lock_guard<std::mutex> lock(cp_mtx);
    f(cp_stats);
  }

  void kill_all() {
    for (auto& t : tasks) caf::anon_send_exit(t, caf::exit_reason::kill);
  }
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

checkpoint_stats job::checkpoints() const { return impl_->cp_snapshot(); }

job::~job() {
  if (!impl_) return;
  if (impl_->running) impl_->kill_all();
  {
    std::lock_guard<std::mutex> lock(impl_->mtx);
    impl_->sources.clear();
  }
  impl_->tasks.clear();
  impl_->coord.reset();
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

void job::start() {
  auto& m = *impl_;
  const auto& g = m.graph;
  const auto& phys = m.phys;

  // Slides (Spark slideDuration) come from the plan: an operator sees batch
  // ends only at multiples of its input stream's slide.
  const std::int64_t b_ms = m.opts.batch_interval.count();
  std::vector<std::vector<std::int64_t>> in_slides(phys.stages.size());
  std::vector<std::int64_t> out_slides(phys.stages.size(), b_ms);
  for (auto& st : phys.stages) {
    std::int64_t cur = st.source_node >= 0 ? g.slide_of(st.source_node) : b_ms;
    for (int id : st.chain) {
      std::int64_t in = b_ms;
      for (int i : g.nodes[static_cast<std::size_t>(id)].inputs) in = std::max(in, g.slide_of(i));
      in_slides[static_cast<std::size_t>(st.id)].push_back(in);
      cur = g.slide_of(id);
    }
    out_slides[static_cast<std::size_t>(st.id)] = cur;
  }

  // Checkpoints: the store, and the checkpoint to resume from (Spark's
  // StreamingContext.getOrCreate: the newest valid one).
  const auto restore_began = clock::now();
  std::optional<checkpoint::checkpoint_data> restore;
  std::map<std::pair<int, int>, const checkpoint::task_snapshot*> restore_of;
  if (!m.opts.checkpoint.dir.empty()) {
    const auto& co = m.opts.checkpoint;
    std::vector<std::pair<std::string, int>> fp;
    for (auto& st : phys.stages) fp.emplace_back(st.name, st.parallelism);
    m.plan_print = checkpoint::plan_fingerprint(fp);
    try {
      m.cp_store = std::make_unique<checkpoint::store>(checkpoint::store_options{co.dir, co.retain, co.compress});
      m.cp_store->claim();  // one run per directory, writable: checked now, not at the first checkpoint
      if (!co.fresh) {
        restore = m.cp_store->load_latest([](const std::string& w) { log_message(log_level::warning, w); });
        if (!restore && !m.cp_store->empty() && only_partial_attempts(co.dir)) {
          // killed before its first checkpoint completed: nothing was ever
          // committed, so starting from scratch loses nothing
          log_message(log_level::warning, "checkpoint directory " + co.dir +
                                               " holds only checkpoints that never completed (no MANIFEST): "
                                               "starting from scratch");
        } else if (!restore && !m.cp_store->empty())
          throw pipeline_error("checkpoint directory " + co.dir +
                               " holds no valid checkpoint (see `weir checkpoints list " + co.dir +
                               "`); refusing to start from scratch: use --fresh to do so");
      }
    } catch (const checkpoint::checkpoint_error& e) {
      throw pipeline_error(e.what());
    }
    if (restore) {
      if (restore->plan != m.plan_print)
        throw pipeline_error("checkpoint " + std::to_string(restore->id) + " in " + co.dir +
                             " was taken with another plan (" + checkpoint::plan_difference(*restore, fp) +
                             "); run the same pipeline and --parallelism, or use --fresh");
      for (auto& t : restore->tasks) restore_of[{t.stage, t.instance}] = &t;
      m.restored_final = restore->final;
    }
  }
  const std::uint64_t restore_op_id = restore ? (restore->final ? final_checkpoint_id : restore->id) : 0;

  // Build every task's state (opens sources and operators here, so that
  // configuration errors surface from start()).
  std::vector<std::vector<task_ptr>> states(phys.stages.size());
  std::vector<std::vector<const checkpoint::task_snapshot*>> snaps(phys.stages.size());
  operator_context ctx;
  ctx.batch_interval = m.opts.batch_interval;
  ctx.checkpointing = m.cp_store != nullptr;
  ctx.restoring = restore.has_value();
  ctx.record_mode = m.opts.mode == execution_mode::record;
  for (auto& st : phys.stages) {
    for (int i = 0; i < st.parallelism; ++i) {
      auto t = std::make_shared<task_state>();
      t->name = st.parallelism > 1 ? st.name + "[" + std::to_string(i) + "]" : st.name;
      t->opts = m.opts;
      t->stage_id = st.id;
      t->instance = i;
      t->checkpointing = m.cp_store != nullptr;
      const checkpoint::task_snapshot* snap = nullptr;
      if (restore) {
        auto it = restore_of.find({st.id, i});
        if (it == restore_of.end())
          throw pipeline_error("checkpoint " + std::to_string(restore->id) + " has no state for task " + t->name);
        snap = it->second;
      }
      snaps[static_cast<std::size_t>(st.id)].push_back(snap);
      ctx.instance = i;
      ctx.parallelism = st.parallelism;
      if (st.source_node >= 0) {
        auto& n = g.nodes[static_cast<std::size_t>(st.source_node)];
        t->source = n.make_source_part ? n.make_source_part(i, st.parallelism) : n.make_source();
        try {
          t->source->open();
        } catch (const pipeline_error&) {
          throw;
        } catch (const std::exception& e) {
          throw pipeline_error(t->source->describe() + ": " + e.what());
        }
        if (snap && !snap->finished && t->source->replayable()) {
          state_reader r(snap->source_position, "the position of " + t->source->describe());
          t->source->restore_position(r);
        } else if (!snap && t->checkpointing && !t->source->replayable()) {
          log_message(log_level::warning, t->source->describe() +
                                               " cannot replay its input: records in flight at a crash are "
                                               "lost (at-most-once for this source)");
        }
      }
      t->in_slide = in_slides[static_cast<std::size_t>(st.id)];
      t->out_slide = out_slides[static_cast<std::size_t>(st.id)];
      for (std::size_t ci = 0; ci < st.chain.size(); ++ci) {
        auto& n = g.nodes[static_cast<std::size_t>(st.chain[ci])];
        ctx.slide = std::chrono::milliseconds(t->in_slide[ci]);
        chain_op op{n.make_operator(), n.name, n.sink, {}};
        try {
          op.op->open(ctx);
          if (snap) {
            if (ci >= snap->operators.size() || snap->operators[ci].name != n.name)
              throw pipeline_error("checkpoint " + std::to_string(restore->id) + ": task " + t->name +
                                   " has no state for operator " + n.name);
            state_reader r(snap->operators[ci].bytes, "operator " + n.name + " of " + t->name);
            op.op->restore_state(restore_op_id, r);
          }
        } catch (const pipeline_error&) {
          throw;
        } catch (const std::exception& e) {
          throw pipeline_error(n.name + ": " + e.what());
        }
        t->chain.push_back(std::move(op));
      }
      if (t->source && !t->chain.empty()) t->chain.front().ctx.origin = t->source->origin();
      t->scratch.resize(t->chain.size() + 1);
      t->wm_scratch.resize(t->chain.size() + 1);
      t->seg_scratch.resize(t->chain.size() + 1);
      t->fwd_wm.assign(t->chain.size(), no_watermark);
      for (std::size_t ci = 0; ci < t->chain.size(); ++ci) {
        t->chain[ci].ctx.watermarks = &t->wm_scratch[ci + 1];
        if (t->chain[ci].sink && !t->report.latency) t->report.latency = std::make_shared<latency_histogram>();
      }
      states[static_cast<std::size_t>(st.id)].push_back(std::move(t));
      if (snap) crash_point("during_recovery");
    }
  }

  // The actor system: scheduler threads = cores unless configured.
  m.cfg = std::make_unique<caf::actor_system_config>();
  m.cfg->set("scheduler.max-threads", static_cast<caf::config_value::integer>(m.opts.threads));
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
  m.cfg->set("scheduler.max-throughput",
             caf::config_value::integer{m.opts.mode == execution_mode::record ? 1 : 16});
  m.sys = std::make_unique<caf::actor_system>(*m.cfg);
  m.coord = std::make_unique<caf::scoped_actor>(*m.sys);
  caf::actor coordinator = caf::actor_cast<caf::actor>(*m.coord);

  std::vector<std::vector<caf::actor>> handles(phys.stages.size());
  for (auto& st : phys.stages)
    for (int i = 0; i < st.parallelism; ++i) {
      auto a = m.sys->spawn(task_actor, states[static_cast<std::size_t>(st.id)][static_cast<std::size_t>(i)]);
      (*m.coord)->monitor(a);
      handles[static_cast<std::size_t>(st.id)].push_back(a);
      m.tasks.push_back(a);
    }

  // Wire the edges: every (sender instance, receiver instance) pair that the
  // edge kind connects is one channel with `edge_capacity` initial credits.
  const auto cap = static_cast<std::int64_t>(m.opts.edge_capacity);
  for (auto& e : phys.edges) {
    auto& from = phys.stages[static_cast<std::size_t>(e.from)];
    auto& to = phys.stages[static_cast<std::size_t>(e.to)];
    std::string target_name = g.nodes[static_cast<std::size_t>(to.chain.front())].name;
    for (int i = 0; i < from.parallelism; ++i) {
      auto& sender = *states[static_cast<std::size_t>(e.from)][static_cast<std::size_t>(i)];
      out_edge oe;
      oe.kind = e.kind;
      oe.target_name = target_name;
      auto sender_edge = static_cast<std::int32_t>(sender.outs.size());
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
        auto& receiver = *states[static_cast<std::size_t>(e.to)][static_cast<std::size_t>(j)];
        in_channel ic;
        ic.input = e.input;
        ic.sender = handles[static_cast<std::size_t>(e.from)][static_cast<std::size_t>(i)];
        ic.sender_edge = sender_edge;
        ic.sender_channel = static_cast<std::int32_t>(oe.chans.size());
        out_channel oc;
        oc.target = handles[static_cast<std::size_t>(e.to)][static_cast<std::size_t>(j)];
        oc.target_channel = static_cast<std::int32_t>(receiver.ins.size());
        oc.credit = cap;
        receiver.ins.push_back(std::move(ic));
        oe.chans.push_back(std::move(oc));
      }
      sender.outs.push_back(std::move(oe));
    }
  }

  // live metrics: the fixed part
  for (auto& st : phys.stages)
    for (int i = 0; i < st.parallelism; ++i) {
      auto& t = *states[static_cast<std::size_t>(st.id)][static_cast<std::size_t>(i)];
      t.live->stage = st.name;
      t.live->instance = i;
      t.live->parallelism = st.parallelism;
      t.live->source = st.source_node >= 0;
      t.live->sink = !t.chain.empty() && t.chain.back().sink;
      t.live->queue_capacity = t.ins.size() * static_cast<std::uint64_t>(cap);
      m.live.push_back(t.live);
    }

  // Restored tasks: the runtime's own state (needs the wired channels).
  std::int64_t clock_offset = 0;  // the batch time the run resumes at, ms
  for (auto& st : phys.stages)
    for (int i = 0; i < st.parallelism; ++i) {
      auto& t = *states[static_cast<std::size_t>(st.id)][static_cast<std::size_t>(i)];
      t.next_mark = m.opts.batch_interval.count();
      const auto* snap = snaps[static_cast<std::size_t>(st.id)][static_cast<std::size_t>(i)];
      if (!snap) continue;
      state_reader r(snap->runtime, "the runtime state of " + t.name);
      if (r.varint() != 1) r.fail("unknown runtime state layout");
      t.last_mark = r.i64();
      t.next_mark = r.i64();
      t.in_wm = r.i64();
      t.in_idle = r.boolean();
      t.live->watermark.store(r.i64(), relaxed);
      t.eos_drain = r.boolean();
      if (r.varint() != t.fwd_wm.size()) r.fail("chain length differs");
      for (auto& v : t.fwd_wm) v = r.i64();
      if (r.varint() != t.ins.size()) r.fail("number of input channels differs");
      for (auto& c : t.ins) {
        c.wm = r.i64();
        c.idle = r.boolean();
      }
      r.expect_end();
      t.restored_finished = snap->finished;
      clock_offset = std::max(clock_offset, t.last_mark);
    }
  if (restore) {
    m.cp_update([&](checkpoint_stats& c) {
      c.restored_id = restore->id;
      c.restore_s = std::chrono::duration<double>(clock::now() - restore_began).count();
    });
    log_message(log_level::info, "resumed from checkpoint " + std::to_string(restore->id) +
                                     (restore->final ? " (final: the input was fully processed)" : ""));
  }

  m.started = clock::now();
  m.clock_origin = m.started - std::chrono::milliseconds(clock_offset);
  for (auto& st : phys.stages)
    for (int i = 0; i < st.parallelism; ++i) {
      auto& t = states[static_cast<std::size_t>(st.id)][static_cast<std::size_t>(i)];
      t->coordinator = coordinator;
      t->start = m.clock_origin;
      m.states.push_back(t);
      (*m.coord)->send(handles[static_cast<std::size_t>(st.id)][static_cast<std::size_t>(i)], init_atom::value);
    }
  {
    std::lock_guard<std::mutex> lock(m.mtx);
    for (auto& st : phys.stages)
      if (st.source_node >= 0)
        for (auto& h : handles[static_cast<std::size_t>(st.id)]) m.sources.push_back(h);
  }
  for (auto& st : phys.stages)
    if (st.source_node >= 0)
      for (auto& h : handles[static_cast<std::size_t>(st.id)]) m.source_tasks.push_back(h);
  m.running = true;
  for (auto& st : phys.stages)
    if (st.source_node >= 0)
      for (auto& h : handles[static_cast<std::size_t>(st.id)]) (*m.coord)->send(h, start_atom::value);
}

namespace {

/// The checkpoint coordinator's bookkeeping (docs/architecture.md §6), run by the job's
/// thread inside wait(): triggers checkpoint n on the sources every
/// interval, collects each task's snapshot (or its final state once it has
/// finished), writes the checkpoint (the write runs here, while the tasks
/// go on processing), then announces it complete. At most one in flight.
struct coordinator_state {
  std::uint64_t next_id = 1;
  std::uint64_t in_flight = 0;
  clock::time_point in_flight_since, next_trigger;
  std::int64_t in_flight_wall_ms = 0;
  std::vector<snapshot_ptr> acks;    // by task index, for in_flight
  std::vector<snapshot_ptr> finals;  // by task index: final states of finished tasks
};

}  // namespace

run_stats job::wait() {
  auto& m = *impl_;
  if (!m.running) throw pipeline_error("the pipeline was not started");
  run_stats stats;
  std::optional<std::string> failure;
  latency_histogram latency;
  std::size_t remaining = m.tasks.size();
  std::vector<caf::actor_addr> reported;  // tasks that said done or fail before terminating
  auto& self = *m.coord;

  const bool cp = m.cp_store != nullptr;
  coordinator_state co;
  std::map<std::pair<int, int>, std::size_t> index_of;
  for (std::size_t i = 0; i < m.states.size(); ++i) index_of[{m.states[i]->stage_id, m.states[i]->instance}] = i;
  if (cp) {
    co.next_id = m.cp_store->next_id();
    co.next_trigger = clock::now() + m.opts.checkpoint.interval;
    co.acks.resize(m.states.size());
    co.finals.resize(m.states.size());
  }
  auto broadcast = [&](auto atom, std::uint64_t id) {
    for (auto& t : m.tasks) self->send(t, atom, id);
  };
  auto abort_in_flight = [&](const std::string& why) {
    if (co.in_flight == 0) return;
    log_message(log_level::warning, "checkpoint " + std::to_string(co.in_flight) + " aborted: " + why);
    broadcast(abort_atom::value, co.in_flight);
    m.cp_update([](checkpoint_stats& c) { ++c.aborted; });
    co.in_flight = 0;
    std::fill(co.acks.begin(), co.acks.end(), nullptr);
  };
  auto write_checkpoint = [&](std::uint64_t id, std::int64_t wall_ms, bool final,
                              const std::vector<snapshot_ptr>& parts, bool recycle) -> bool {
    checkpoint::checkpoint_data d;
    d.id = id;
    d.timestamp_ms = wall_ms;
    d.plan = m.plan_print;
    d.final = final;
    // A snapshot is moved, never copied (state can be ~100 MB), when it
    // belongs to this checkpoint alone: an acknowledged snapshot (even while
    // the ack message that brought the last one still holds a reference), or
    // any part of the final checkpoint (nothing reads co.finals after it; the
    // finished task's report still holds a reference). A final state in a
    // periodic checkpoint is reused by the later ones: copied unless held
    // here only.
    for (std::size_t i = 0; i < parts.size(); ++i) {
      auto& p = parts[i];
      const bool ack = recycle && !co.finals[i];
      d.tasks.push_back(ack || final || p.use_count() == 1 ? std::move(*p) : *p);
    }
    // hand each task's buffers back for its next snapshot (see task_state::recycled)
    auto give_back = [&] {
      if (!recycle) return;
      for (std::size_t i = 0; i < parts.size() && i < d.tasks.size(); ++i) {
        if (co.finals[i] || d.tasks[i].operators.empty()) continue;
        auto back = std::make_shared<checkpoint::task_snapshot>();
        back->operators = std::move(d.tasks[i].operators);
        self->send(m.tasks[i], recycle_atom::value, std::move(back));
      }
    };
    struct thread_cpu {  // the write's CPU time, added to write_cpu_s however it ends
      impl& m;
      double t0 = now();
      static double now() {
        timespec ts{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
      }
      ~thread_cpu() {
        const double s = now() - t0;
        m.cp_update([&](checkpoint_stats& c) { c.write_cpu_s += s; });
        m.cp_sum_snapshot_time();
      }
    } cpu{m};
    try {
      auto bytes = m.cp_store->write(d);
      give_back();
      m.cp_update([&](checkpoint_stats& c) {
        ++c.completed;
        c.last_id = id;
        c.last_completed_ms = weir::actors::wall_ms();
        c.last_duration_s = static_cast<double>(c.last_completed_ms - wall_ms) / 1e3;
        c.last_bytes = bytes;
      });
      return true;
    } catch (const std::exception& e) {
      give_back();
      log_message(log_level::warning, "checkpoint " + std::to_string(id) + " failed: " + e.what());
      m.cp_update([](checkpoint_stats& c) { ++c.failed; });
      return false;
    }
  };
  auto maybe_complete = [&] {
    if (co.in_flight == 0) return;
    std::vector<snapshot_ptr> parts(m.states.size());
    for (std::size_t i = 0; i < parts.size(); ++i) {
      parts[i] = co.acks[i] ? co.acks[i] : co.finals[i];
      if (!parts[i]) return;
    }
    if (remaining == 0 || std::all_of(co.finals.begin(), co.finals.end(), [](auto& f) { return f != nullptr; }))
      return;  // everything finished: the final checkpoint replaces it
    std::uint64_t id = co.in_flight;
    co.in_flight = 0;
    std::fill(co.acks.begin(), co.acks.end(), nullptr);
    if (write_checkpoint(id, co.in_flight_wall_ms, false, parts, true)) {
      crash_point("after_manifest_before_commit");
      broadcast(complete_atom::value, id);
    } else {
      broadcast(abort_atom::value, id);
    }
  };
  auto trigger = [&] {
    co.next_trigger = clock::now() + m.opts.checkpoint.interval;
    if (co.in_flight != 0 || m.source_tasks.empty()) return;
    std::size_t live = 0;
    for (std::size_t i = 0; i < m.states.size(); ++i)
      if (m.states[i]->source && !co.finals[i]) ++live;
    if (live == 0) return;
    co.in_flight = co.next_id++;
    co.in_flight_since = clock::now();
    co.in_flight_wall_ms = weir::actors::wall_ms();
    // the batch end every source puts the barrier after: the next but one,
    // so that no source has passed it when the trigger arrives
    const std::int64_t b = m.opts.batch_interval.count();
    const std::int64_t elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - m.clock_origin).count();
    const std::int64_t at = (elapsed / b + 2) * b;
    for (auto& h : m.source_tasks) self->send(h, trigger_atom::value, co.in_flight, at);
  };

  while (remaining > 0) {
    auto handle_done = [&](done_atom, const task_report& r) {
      stats.source_records += r.source_records;
      stats.sink_records += r.sink_records;
      stats.batches += r.batches;
      stats.source_backpressure_s += r.backpressure_s;
      stats.malformed_records += r.malformed_records;
      stats.late_records += r.late_records;
      if (r.latency) latency.merge(*r.latency);
      reported.push_back(self->current_sender()->address());
      if (cp && r.final_state) {
        auto it = index_of.find({r.final_state->stage, r.final_state->instance});
        if (it != index_of.end()) co.finals[it->second] = r.final_state;
        maybe_complete();
      }
    };
    auto handle_fail = [&](fail_atom, const std::string& msg) {
      reported.push_back(self->current_sender()->address());
      if (!failure) {
        failure = msg;
        m.kill_all();
      }
    };
    auto handle_down = [&](caf::down_msg& dm) {
      --remaining;
      bool said = std::find(reported.begin(), reported.end(), dm.source) != reported.end();
      if (!said && !failure && !m.killed.load()) {
        failure = "an actor terminated unexpectedly: " + caf::to_string(dm.reason);
        m.kill_all();
      }
    };
    auto handle_ack = [&](ack_atom, std::uint64_t id, const snapshot_ptr& snap) {
      if (id != co.in_flight || !snap) return;
      auto it = index_of.find({snap->stage, snap->instance});
      if (it == index_of.end()) return;
      co.acks[it->second] = snap;
      maybe_complete();
    };
    auto handle_abort = [&](abort_atom, std::uint64_t id) {
      if (id == co.in_flight) abort_in_flight("declined by a task (see above) or its barriers did not align");
    };
    if (!cp) {
      self->receive(handle_done, handle_fail, handle_down, handle_ack, handle_abort);
      continue;
    }
    auto now = clock::now();
    if (co.in_flight != 0 && now - co.in_flight_since >= m.opts.checkpoint.timeout)
      abort_in_flight("not complete within " + std::to_string(m.opts.checkpoint.timeout.count()) + "ms");
    if (now >= co.next_trigger && !failure) trigger();
    auto until = co.next_trigger;
    if (co.in_flight != 0) until = std::min(until, co.in_flight_since + m.opts.checkpoint.timeout);
    auto wait_for = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
    if (wait_for.count() < 1) wait_for = std::chrono::milliseconds(1);
    self->receive(handle_done, handle_fail, handle_down, handle_ack, handle_abort,
                  caf::after(wait_for) >> [] {});
  }
  m.running = false;

  // A bounded run with checkpoints ends with a final checkpoint (every task
  // finished), then the sinks commit their last epoch (two-phase commit).
  if (cp && !failure && !m.killed.load()) {
    bool all_final = std::all_of(co.finals.begin(), co.finals.end(), [](auto& f) { return f != nullptr; });
    if (all_final) {
      if (!m.restored_final &&
          !write_checkpoint(co.next_id++, weir::actors::wall_ms(), true, co.finals, false))
        failure = "the final checkpoint could not be written (see above): the output of the last epoch "
                  "is pre-committed but not committed; run again to commit it";
      if (!failure) {
        crash_point("after_manifest_before_commit");
        try {
          for (auto& t : m.states) {
            for (auto& op : t->chain) op.op->notify_checkpoint_complete(final_checkpoint_id);
            if (t->source) t->source->notify_checkpoint_complete(final_checkpoint_id);
          }
        } catch (const std::exception& e) {
          failure = std::string("committing the output: ") + e.what();
        }
      }
    }
  }
  m.cp_sum_snapshot_time();
  stats.checkpoints = m.cp_snapshot();
  stats.elapsed_s = std::chrono::duration<double>(clock::now() - m.started).count();
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
