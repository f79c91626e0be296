// weir — the operator chain of a stage: runs records, batch ends, watermarks,
// processing-time timers and the end of stream through the chained operators
// of one task in order (Flink's operator chaining: one thread, no queues
// between the operators), handing the last operator's output to a
// chain_output. Owns the chain's operators and their reused buffers. Used by
// the actor runtime (actors/task.cpp) and by the test harness
// (operators/harness.hpp); knows nothing of actors, channels or clocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "weir/operators/stream_operator.hpp"

namespace weir {

/// Where a chain's results go: the records and watermarks leaving its last
/// operator, and the records entering a sink operator.
/// @thread Called on the thread that drives the chain.
class chain_output {
public:
  virtual ~chain_output() = default;
  /// Records the last operator emitted, in order; `out` is consumed (the
  /// callee takes or clears its records; the chain reuses the buffer).
  virtual void emit(records& out) = 0;
  /// A watermark (ms) or the idle status (`st` idle, `wm` = no_watermark),
  /// positioned after the records emitted so far.
  virtual void emit_watermark(std::int64_t wm, watermark_status st) = 0;
  /// `n` records are about to enter a sink operator (metrics, latency).
  virtual void sink_records(std::size_t n) {}
};

/// One operator of a chain.
struct chain_link {
  operator_ptr op;
  std::string name;     ///< node name, e.g. "reduce_by_key"
  bool sink = false;    ///< a sink operator (its input counts as delivered)
  process_context ctx;  ///< what its process calls get: origin, key hashes, watermark output
};

/// The operators of one stage instance, run in order.
///
/// Semantics: records go through operator 0 (input `input` of a multi-input
/// first operator) and then through each following operator; a watermark
/// reaches operator j only when it advances past the last one j got
/// (Flink's monotonic watermarks); what an operator fires on a watermark runs
/// through the operators after it before the watermark it forwards; a
/// watermark an operator generates (a timestamp assigner) takes effect at
/// its position in that operator's output. Batch ends (Spark batch
/// boundaries) and the end of stream are signals: each operator first
/// processes what the operators before it emitted for the signal, then gets
/// the signal.
/// @thread Single-threaded: one chain belongs to one task.
class operator_chain {
public:
  operator_chain() = default;
  operator_chain(const operator_chain&) = delete;
  operator_chain& operator=(const operator_chain&) = delete;

  /// Appends an operator (before the first run; opening it is the caller's).
  void add(chain_link link);
  /// Where results go; must be set before the first run. Not owned.
  void set_output(chain_output* out) noexcept { out_ = out; }

  std::size_t size() const noexcept { return links_.size(); }
  bool empty() const noexcept { return links_.empty(); }
  chain_link& operator[](std::size_t i) noexcept { return links_[i]; }
  const chain_link& operator[](std::size_t i) const noexcept { return links_[i]; }
  std::vector<chain_link>& links() noexcept { return links_; }
  const std::vector<chain_link>& links() const noexcept { return links_; }

  /// A reusable buffer for the records that enter the chain (a source reads into it).
  records& input_buffer() noexcept { return scratch_[0]; }

  /// Runs `in` (records of input `input` of the first operator) through the
  /// chain; `in` is consumed.
  void run(records& in, int input = 0) { run_from(0, in, input); }
  /// Runs `in` through operators i.. (input `input` when i = 0); consumed.
  void run_from(std::size_t i, records& in, int input = 0);

  /// Delivers watermark `wm` (ms) to operators j.. in order.
  void watermark(std::size_t j, std::int64_t wm);
  /// A generated mark: a watermark for operators j.., or the idle status,
  /// which passes through to the output.
  void mark(std::size_t j, const watermark_mark& m);

  /// The batch ending at `t` (ms) reaches operators [0, n): each runs what
  /// the ones before it emitted, then its on_batch_end. Operators n.. get
  /// the output as records only. `on_sink` is called for each sink
  /// operator that sees the batch end.
  template <class OnSink>
  void batch_end(std::int64_t t, std::size_t n, OnSink&& on_sink) {
    signal(n, [&](chain_link& l, records& out) {
      if (l.sink) on_sink();
      l.op->on_batch_end(t, out);
    });
  }
  /// The end of stream reaches every operator (on_end_of_stream).
  void end_of_stream() {
    signal(links_.size(), [](chain_link& l, records& out) { l.op->on_end_of_stream(out); });
  }

  /// Fires the processing-time timers due at `now_ms` (wall clock, ms since
  /// the epoch) of every operator whose next_timer() is <= now_ms.
  void processing_time(std::int64_t now_ms);
  /// The earliest next_timer() of the operators (end_watermark = none).
  std::int64_t next_timer() const;
  /// The latest batch time (ms) up to which an operator still emits when
  /// batches end after `t` (max of drain_horizon(t); t = nothing to drain).
  std::int64_t drain_horizon(std::int64_t t) const;
  /// Counters summed over the operators.
  operator_counters counters() const;

  /// Records the operators emitted on watermarks (windows that fired), cumulative.
  std::uint64_t fired_records() const noexcept { return fired_; }
  /// The last watermark delivered to each operator (ms; no_watermark = none):
  /// part of a task's checkpointed runtime state.
  std::vector<std::int64_t>& delivered_watermarks() noexcept { return fwd_wm_; }
  const std::vector<std::int64_t>& delivered_watermarks() const noexcept { return fwd_wm_; }

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

private:
  /// Operator i produced output in scratch_[i + 1] with the watermarks it
  /// generated in wm_scratch_[i + 1]: runs it through the rest of the chain.
  void after(std::size_t i);

  /// Delivers a control signal to operators [0, n): `sig(link, out)`.
  template <class Signal>
  void signal(std::size_t n, Signal&& sig) {
    records* cur = &scratch_[0];
    std::vector<std::pair<std::size_t, watermark_mark>> generated;  // rare: an assigner mid-chain
    for (std::size_t i = 0; i < n; ++i) {
      auto& l = links_[i];
      records& next = scratch_[i + 1];
      if (!cur->empty()) {
        if (l.sink) out_->sink_records(cur->size());
        l.op->process(l.ctx, *cur, next);
        cur->clear();
        auto& marks = wm_scratch_[i + 1];
        for (auto& m : marks) generated.emplace_back(i + 1, m);
        marks.clear();
      }
      sig(l, next);
      cur = &next;
    }
    if (n < links_.size())
      run_from(n, *cur);
    else
      out_->emit(*cur);
    for (auto& [j, m] : generated) mark(j, m);
  }

  std::vector<chain_link> links_;
  chain_output* out_ = nullptr;
  std::vector<records> scratch_ = std::vector<records>(1);  ///< [i + 1]: output of operator i, reused
  std::vector<std::vector<watermark_mark>> wm_scratch_ = std::vector<std::vector<watermark_mark>>(1);
  std::vector<records> seg_scratch_ = std::vector<records>(1);  ///< after(i): segments between watermarks
  std::vector<std::int64_t> fwd_wm_;                              ///< last watermark delivered to operator i
  std::uint64_t fired_ = 0;
};

}  // namespace weir
