// weir — operator test harness (Flink's OneInputStreamOperatorTestHarness,
// with Spark's batch boundaries as time): push records, end batches, read
// the output — no actors involved. The operator runs in a one-operator
// operator_chain, the drain loop the actor runtime uses.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "weir/operators/operator_chain.hpp"
#include "weir/operators/snapshot.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir {

/// Drives one operator. Batch k ends at time (k+1)·B.
/// @thread Single-threaded.
class operator_harness {
public:
  explicit operator_harness(operator_ptr op, operator_context ctx = {}) : op_(op.get()), ctx_(ctx) {
    chain_.add({std::move(op), "operator under test", false, {}});
    chain_.set_output(&out_);
    call_.watermarks = &direct_marks_;
    op_->open(ctx_);
  }
  operator_harness(const operator_harness&) = delete;
  operator_harness& operator=(const operator_harness&) = delete;

  /// Delivers watermark `wm` (ms); returns what the operator emitted (fired
  /// windows). A watermark not past the last one delivered reaches the
  /// operator no more (monotonic watermarks, as in the runtime).
  records watermark(std::int64_t wm) {
    out_.forwarded = no_watermark;
    struct delivering {  // reset however the call ends
      collector& c;
      explicit delivering(collector& c_) : c(c_) { c.delivering = true; }
      ~delivering() { c.delivering = false; }
    } scope{out_};
    chain_.watermark(0, wm);
    forwarded_ = out_.forwarded;
    return take();
  }
  /// The watermark the operator forwarded on the last watermark() call.
  std::int64_t forwarded() const noexcept { return forwarded_; }

  /// Fires processing-time timers due at `now_ms` (wall clock, ms since the epoch).
  records processing_time(std::int64_t now_ms) {
    sync_context();
    chain_.processing_time(now_ms);
    return take();
  }

  /// Watermarks the operator generated (an assigner), positioned in the
  /// output of the push() calls since the last take; cleared by the call.
  std::vector<watermark_mark> take_watermarks() {
    std::vector<watermark_mark> m;
    m.swap(direct_marks_);  // from direct calls with context()
    m.insert(m.end(), out_.marks.begin(), out_.marks.end());
    out_.marks.clear();
    return m;
  }

  /// Processes records of the current batch; returns what the operator emitted at once.
  records push(records in) {
    sync_context();
    chain_.run(in, 0);
    return take();
  }

  /// Processes records of input `input` of a multi-input operator (join, cogroup, union).
  records push_input(int input, records in) {
    sync_context();
    chain_.run(in, input);
    return take();
  }

  /// Ends the current batch; returns what the operator emitted for it.
  records end_batch() {
    time_ += ctx_.batch_interval.count();
    chain_.batch_end(time_, chain_.size(), [] {});
    return take();
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
    for (std::int64_t h = chain_.drain_horizon(time_); time_ < h; h = chain_.drain_horizon(time_))
      while (time_ < h) {
        records r = end_batch();
        res.emplace_back(time_, std::move(r));
      }
    chain_.end_of_stream();
    res.emplace_back(-1, take());
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
  /// Collects the chain's output: records, and the watermarks the operator
  /// generated (positioned in the records collected since the last take).
  struct collector : chain_output {
    records out;
    std::vector<watermark_mark> marks;
    std::int64_t forwarded = no_watermark;
    bool delivering = false;  ///< inside watermark(): what comes out is the forwarded watermark
    void emit(records& r) override {
      out.insert(out.end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
      r.clear();
    }
    void emit_watermark(std::int64_t wm, watermark_status st) override {
      if (delivering)
        forwarded = wm;
      else
        marks.emplace_back(static_cast<std::uint32_t>(out.size()), wm, st);
    }
  };
  /// The chain's operator gets what the test set on context().
  void sync_context() {
    chain_[0].ctx.origin = call_.origin;
    chain_[0].ctx.key_hashes = call_.key_hashes;
  }
  records take() {
    records r;
    r.swap(out_.out);
    return r;
  }

  stream_operator* op_;
  operator_context ctx_;
  operator_chain chain_;
  collector out_;
  process_context call_;                       ///< context(): what the test sets, for chain calls and direct ones
  std::vector<watermark_mark> direct_marks_;   ///< marks of direct calls with context()
  std::int64_t forwarded_ = no_watermark;
  std::int64_t time_ = 0;
};

/// Sorts records (for comparing outputs whose order is unspecified as multisets).
inline records sorted(records r) {
  std::sort(r.begin(), r.end());
  return r;
}

}  // namespace weir
