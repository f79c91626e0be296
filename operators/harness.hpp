// weir — operator test harness (Flink's OneInputStreamOperatorTestHarness,
// with Spark's batch boundaries as time): push records, end batches, read
// the output — no actors involved.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "weir/operators/snapshot.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir {

/// Drives one operator. Batch k ends at time (k+1)·B.
/// @thread Single-threaded.
class operator_harness {
public:
  explicit operator_harness(operator_ptr op, operator_context ctx = {})
      : op_(std::move(op)), ctx_(ctx) {
    call_.watermarks = &marks_;
    op_->open(ctx_);
  }

  /// Delivers watermark `wm` (ms); returns what the operator emitted (fired windows).
  records watermark(std::int64_t wm) {
    records out;
    forwarded_ = op_->on_watermark(wm, out);
    return out;
  }
  /// The watermark the operator forwarded on the last watermark() call.
  std::int64_t forwarded() const noexcept { return forwarded_; }

  /// Fires processing-time timers at `now_ms` (wall clock, ms since the epoch).
  records processing_time(std::int64_t now_ms) {
    records out;
    op_->on_processing_time(call_, now_ms, out);
    return out;
  }

  /// Watermarks the operator generated (an assigner), positioned in the
  /// output of the push() calls since the last take; cleared by the call.
  std::vector<watermark_mark> take_watermarks() {
    std::vector<watermark_mark> m;
    m.swap(marks_);
    return m;
  }

  /// Processes records of the current batch; returns what the operator emitted at once.
  records push(records in) {
    records out;
    op_->process(call_, in, out);
    return out;
  }

  /// Processes records of input `input` of a multi-input operator (join, cogroup, union).
  records push_input(int input, records in) {
    records out;
    op_->process_input(call_, input, in, out);
    return out;
  }

  /// Ends the current batch; returns what the operator emitted for it.
  records end_batch() {
    records out;
    time_ += ctx_.batch_interval.count();
    op_->on_batch_end(time_, out);
    return out;
  }

  /// Convenience: push `in`, end the batch, return everything emitted.
  records batch(records in) {
    records out = push(std::move(in));
    records end = end_batch();
    out.insert(out.end(), end.begin(), end.end());
    return out;
  }

  /// End of stream: ends logical batches up to the operator's drain horizon,
  /// then calls on_end_of_stream. Returns the (time, records) of each drained
  /// batch followed by (-1, flushed records).
  std::vector<std::pair<std::int64_t, records>> end_of_stream() {
    std::vector<std::pair<std::int64_t, records>> res;
    for (std::int64_t h = op_->drain_horizon(time_); time_ < h; h = op_->drain_horizon(time_))
      while (time_ < h) {
        records r = end_batch();
        res.emplace_back(time_, std::move(r));
      }
    records out;
    op_->on_end_of_stream(out);
    res.emplace_back(-1, std::move(out));
    return res;
  }

  // --- checkpoints -------------------------------------------------------------

  /// The operator's state as the runtime takes it at checkpoint
  /// `checkpoint_id`'s barrier: the bytes snapshot_state writes.
  /// @errors whatever snapshot_state throws (pipeline_error).
  std::string snapshot(std::uint64_t checkpoint_id = 1) {
    state_writer w;
    op_->snapshot_state(checkpoint_id, w);
    return w.take();
  }

  /// Resumes from `state` (bytes of snapshot()) as the runtime does on
  /// recovery: restore_state on the opened operator (construct the harness
  /// with restoring_context()), and the batch clock set back to `time_ms`,
  /// the time of the last batch end before the snapshot (the runtime
  /// restores its clock itself).
  /// @errors pipeline_error for a corrupt state.
  void restore(std::string_view state, std::int64_t time_ms, std::uint64_t checkpoint_id = 1) {
    state_reader r(state, "operator under test");
    op_->restore_state(checkpoint_id, r);
    time_ = time_ms;
  }

  /// `ctx` with checkpointing and restoring set, as operators are opened on recovery.
  static operator_context restoring_context(operator_context ctx = {}) {
    ctx.checkpointing = true;
    ctx.restoring = true;
    return ctx;
  }

  /// Time of the last batch end (0 before the first).
  std::int64_t time() const noexcept { return time_; }
  stream_operator& op() noexcept { return *op_; }

  /// The context push() and processing_time() pass, as the runtime's:
  /// set `origin` (a source's provenance) or `key_hashes` (a keyed edge's
  /// hashes of the next push's records, valid until reset) before a call;
  /// its watermark output is the harness's (take_watermarks()).
  process_context& context() noexcept { return call_; }

private:
  operator_ptr op_;
  operator_context ctx_;
  process_context call_;
  std::vector<watermark_mark> marks_;
  std::int64_t forwarded_ = no_watermark;
  std::int64_t time_ = 0;
};

/// Sorts records (for comparing outputs whose order is unspecified as multisets).
inline records sorted(records r) {
  std::sort(r.begin(), r.end());
  return r;
}

}  // namespace weir
