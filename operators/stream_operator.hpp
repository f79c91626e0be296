// weir — the operator interface (CAF-free).
//
// An operator consumes the records of the current batch and control signals
// (batch end, end of stream) and appends its results to an output vector. It
// is driven by the actor runtime (`actors/`) or, in tests, by
// `operator_harness` — the shape of Flink's `OneInputStreamOperator` with
// Spark's micro-batch boundaries as the time signal.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "weir/operators/value.hpp"

namespace weir {

class state_writer;
class state_reader;

/// The records of (part of) one batch.
using records = std::vector<value>;

/// A record an operator, decoder or expression cannot process (wrong type,
/// missing field, malformed input). Thrown on the record path; the runtime
/// catches it at batch granularity and stops the pipeline with the message.
class record_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A pipeline that cannot be built or run (bad configuration, missing input
/// file, failed operator). `what()` is a one-line message for the user.
class pipeline_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Watermark value before any event time was seen, and after the end of the
/// input (every event-time window fires). Event times are ms since the epoch.
inline constexpr std::int64_t no_watermark = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t end_watermark = std::numeric_limits<std::int64_t>::max();
/// In a watermark_mark: the input went idle (Flink's WatermarkStatus.IDLE):
/// it no longer holds back the minimum over inputs until it delivers data.
inline constexpr std::int64_t idle_watermark = no_watermark + 1;

/// A watermark inside a run of records: it takes effect after the first `pos`
/// records (Flink's in-band watermark, here positioned inside a wire batch so
/// that watermarks cost no message of their own).
struct watermark_mark {
  std::uint32_t pos = 0;
  std::int64_t wm = no_watermark;
};

/// Counters an operator keeps for metrics and run statistics.
struct operator_counters {
  std::uint64_t malformed_records = 0;  ///< skipped or dead-lettered by the on_error policy
  std::uint64_t late_records = 0;       ///< event-time records that arrived after their window closed
};

/// The checkpoint id of the final snapshot a bounded run takes when every
/// task has finished (after on_end_of_stream): sinks pre-commit their last
/// epoch under it, and notify_checkpoint_complete(final_checkpoint_id)
/// commits every pre-committed epoch. restore_state of a final checkpoint
/// gets this id too.
inline constexpr std::uint64_t final_checkpoint_id = std::numeric_limits<std::uint64_t>::max();

/// Where the records of the current process() call came from: set by the
/// runtime for the first operator after a source, when the source knows
/// (e.g. "apache_logs:4719" for record i of a file read).
class record_origin {
public:
  virtual ~record_origin() = default;
  /// Provenance of record `i` (0-based) of the current input.
  virtual std::string describe(std::size_t i) const = 0;
};

/// What an operator instance knows about where it runs.
struct operator_context {
  std::chrono::milliseconds batch_interval{1000};  ///< Spark's batch interval B
  /// Slide of the operator's input stream (Spark `slideDuration`): batch ends
  /// arrive only at its multiples. 0 = the batch interval.
  std::chrono::milliseconds slide{0};
  std::chrono::milliseconds input_slide() const { return slide.count() > 0 ? slide : batch_interval; }
  int instance = 0;                                ///< index of this parallel instance
  int parallelism = 1;                             ///< number of parallel instances
  /// The run takes checkpoints (`--checkpoint DIR`): sinks write each epoch
  /// by two-phase commit (pending until notify_checkpoint_complete).
  bool checkpointing = false;
  /// The run resumes from a checkpoint: restore_state follows open(), so
  /// open() must not reset existing output (e.g. truncate a sink's file).
  bool restoring = false;
};

/// One operator of a chain. Lifecycle: open → (process* on_batch_end)* →
/// on_end_of_stream. Batch times are Spark's: batch k has time (k+1)·B ms
/// after the start.
/// @thread Called from one actor at a time; never concurrently.
class stream_operator {
public:
  virtual ~stream_operator() = default;

  /// Called once before any record.
  virtual void open(const operator_context&) {}

  /// Processes records of the current batch. `in` may be consumed (moved
  /// from); results are appended to `out`.
  /// @errors throws record_error for a record it cannot process.
  virtual void process(records& in, records& out) = 0;

  /// Records of input `input` (0-based) of a multi-input operator (join,
  /// cogroup, union). Single-input operators need not override it.
  virtual void process_input(int input, records& in, records& out) {
    (void)input;
    process(in, out);
  }

  /// Batch `time_ms` is complete on every input: emit what the batch (or
  /// window ending at it) produces.
  virtual void on_batch_end(std::int64_t /*time_ms*/, records& /*out*/) {}

  /// After end of stream, the runtime keeps ending logical batches (without
  /// waiting for the clock) up to the returned time, so that windows holding
  /// the last data are emitted. `last_ms` is the last batch time seen.
  virtual std::int64_t drain_horizon(std::int64_t last_ms) const { return last_ms; }

  /// All input processed and drained: flush (sinks write out buffered data).
  virtual void on_end_of_stream(records& /*out*/) {}

  /// True for operators without state between records (map, filter, …): the
  /// planner chains them into the actor before them.
  virtual bool stateless() const { return false; }

  // --- event time (docs/architecture.md §5) -----------------------------------------------

  /// The watermark of this operator's input advanced to `wm` (ms; every
  /// later record with event time <= wm is late). Event-time windows fire
  /// here. Returns the watermark to forward downstream (normally `wm`).
  virtual std::int64_t on_watermark(std::int64_t wm, records& /*out*/) { return wm; }

  // --- processing-time timers ----------------------------------------------

  /// Earliest processing time (wall clock, ms since the epoch) at which the
  /// operator wants on_processing_time; end_watermark = none. Asked after
  /// every activation of the operator's actor.
  virtual std::int64_t next_timer() const { return end_watermark; }
  /// Processing time (wall clock, ms since the epoch) reached `now_ms`.
  virtual void on_processing_time(std::int64_t /*now_ms*/, records& /*out*/) {}

  // --- checkpoints (docs/architecture.md §6; Carbone et al. 2015) ---------------------------

  /// Checkpoint `checkpoint_id`'s barrier reached the operator: every record
  /// and signal before it has been processed, none after it. Write the state
  /// a restarted operator needs to continue exactly from here (keyed state,
  /// windows, timers, buffered batches, counters) with `w`. A sink
  /// pre-commits here (two-phase commit: make the epoch's output durable but
  /// invisible, record what commit will need in `w`, start the next epoch).
  /// Stateless operators write nothing.
  /// @errors throws pipeline_error when it cannot (e.g. ENOSPC pre-committing):
  ///         the checkpoint is aborted and counted, processing goes on.
  virtual void snapshot_state(std::uint64_t /*checkpoint_id*/, state_writer& /*w*/) {}

  /// After open() (with operator_context::restoring): load the state written
  /// by snapshot_state of checkpoint `checkpoint_id`, which completed. A sink
  /// commits here what that checkpoint pre-committed and discards output
  /// written after it (Flink's recoverAndCommit).
  /// @errors throws pipeline_error for a corrupt state (state_reader does).
  virtual void restore_state(std::uint64_t /*checkpoint_id*/, state_reader& /*r*/) {}

  /// Checkpoint `checkpoint_id` completed (its manifest is durable): a sink
  /// commits the epochs pre-committed up to it. Idempotent.
  virtual void notify_checkpoint_complete(std::uint64_t /*checkpoint_id*/) {}

  /// Malformed and late record counts (summed into run statistics and metrics).
  operator_counters counters;

  /// Set by the driver before process(): provenance of the input records when
  /// the operator directly follows a source, else nullptr.
  const record_origin* input_origin = nullptr;

  /// Set by the driver before process(): when the input records came over a
  /// keyed edge (routed by the hash of their key), `input_key_hashes[i]` is
  /// value::hash() of the key (the pair's first item) of record i of `in`,
  /// computed once for routing, so that a keyed operator need not hash it
  /// again; else nullptr. Valid during that process() call only. Only
  /// meaningful for operators that read their records as (key, value) pairs.
  const std::uint64_t* input_key_hashes = nullptr;

  /// Set by the driver: where an operator that generates watermarks (a
  /// timestamp assigner) records them. Call emit_watermark() inside process().
  std::vector<watermark_mark>* watermark_out = nullptr;

protected:
  /// Emits watermark `wm` after the records already in `out`.
  void emit_watermark(const records& out, std::int64_t wm) {
    if (watermark_out) watermark_out->push_back({static_cast<std::uint32_t>(out.size()), wm});
  }
};

using operator_ptr = std::unique_ptr<stream_operator>;

}  // namespace weir
