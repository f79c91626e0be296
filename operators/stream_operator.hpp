// weir — the operator interface (CAF-free).
//
// An operator consumes the records of the current batch and control signals
// (batch end, watermark, end of stream) and appends its results to an output
// vector. It is driven by the actor runtime (`actors/`) or, in tests, by
// `operator_harness` — the shape of Flink's `OneInputStreamOperator` with
// Spark's micro-batch boundaries as the time signal. What a call needs to
// know about its input (where the records came from, their key hashes) and
// where generated watermarks go travel with the call in a process_context
// (DuckDB's `PhysicalOperator::Execute(ExecutionContext&, …)`), not in fields
// the driver sets on the operator. docs/architecture.md §1 (Operators)
// describes the contract.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weir/operators/errors.hpp"
#include "weir/operators/value.hpp"

namespace weir {

class state_writer;
class state_reader;

/// The records of (part of) one batch.
using records = std::vector<value>;

/// Watermark value before any event time was seen, and after the end of the
/// input (every event-time window fires: Flink's MAX_WATERMARK). Event times
/// are ms since the epoch.
inline constexpr std::int64_t no_watermark = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t end_watermark = std::numeric_limits<std::int64_t>::max();

/// Whether an input holds back event time (Flink's `WatermarkStatus`): an
/// idle input (no records for its idle timeout) does not count in the
/// minimum over inputs until it delivers data again.
enum class watermark_status : std::uint8_t { active, idle };

/// A watermark, or a change to the idle status, inside a run of records: it
/// takes effect after the first `pos` records (Flink's in-band watermark,
/// here positioned inside a wire batch so that watermarks cost no message of
/// their own). 16 bytes; no per-record cost.
struct watermark_mark {
  std::uint32_t pos = 0;
  watermark_status status = watermark_status::active;
  std::int64_t wm = no_watermark;  ///< ms; meaningful when active

  watermark_mark() = default;
  /// Watermark `wm` (or status `st`) after `pos` records.
  watermark_mark(std::uint32_t pos_, std::int64_t wm_, watermark_status st = watermark_status::active) noexcept
      : pos(pos_), status(st), wm(wm_) {}
  /// The input goes idle after `pos` records.
  static watermark_mark idle_at(std::uint32_t pos_) noexcept { return {pos_, no_watermark, watermark_status::idle}; }
  bool idle() const noexcept { return status == watermark_status::idle; }
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

/// Where the records of the current process() call came from, when the
/// source knows (e.g. "apache_logs:4719" for record i of a file read).
class record_origin {
public:
  virtual ~record_origin() = default;
  /// Provenance of record `i` (0-based) of the current input.
  virtual std::string describe(std::size_t i) const = 0;
  /// Which part of a many-file input record `i` comes from — a file of
  /// `file("dir/*.csv")` or of `dir(...)` — as an identity that stays the
  /// same for one file (also across a checkpoint and restore) and differs
  /// between files; 0 for a single-file or other input. A decoder that keeps
  /// per-file state (parse_csv's header) starts over when it changes.
  virtual std::uint64_t part(std::size_t i) const {
    (void)i;
    return 0;
  }
};

/// What the driver passes with each call that carries records or may
/// generate watermarks (process, process_input, on_processing_time). The
/// driver owns it; the pointers are valid during the call only.
struct process_context {
  /// Provenance of the input records when the operator directly follows a
  /// source, else nullptr.
  const record_origin* origin = nullptr;
  /// When the input records came over a keyed edge (routed by the hash of
  /// their key): `key_hashes[i]` is value::hash() of the key (the pair's
  /// first item) of record i of `in`, computed once for routing, so that a
  /// keyed operator need not hash it again; else nullptr. Only meaningful
  /// for operators that read their records as (key, value) pairs.
  const std::uint64_t* key_hashes = nullptr;
  /// Where an operator that generates watermarks (a timestamp assigner)
  /// records them, positioned in its output; nullptr = the driver takes none.
  std::vector<watermark_mark>* watermarks = nullptr;

  /// Emits watermark `wm` after the records already in `out`.
  void emit_watermark(const records& out, std::int64_t wm) const {
    if (watermarks) watermarks->emplace_back(static_cast<std::uint32_t>(out.size()), wm);
  }
  /// The input goes idle after the records already in `out`.
  void emit_idle(const records& out) const {
    if (watermarks) watermarks->push_back(watermark_mark::idle_at(static_cast<std::uint32_t>(out.size())));
  }
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
  /// Records travel one by one (`--mode record`); else micro-batch mode,
  /// where an operator may hold a batch's records until its end (union).
  bool record_mode = false;
};

/// One operator of a chain. Lifecycle: open → (process* on_batch_end)* →
/// on_end_of_stream, with on_watermark and on_processing_time between the
/// calls and snapshot_state at checkpoint barriers. Batch times are Spark's:
/// batch k has time (k+1)·B ms after the start.
/// @thread Called from one actor at a time; never concurrently.
class stream_operator {
public:
  virtual ~stream_operator() = default;

  /// Called once before any record.
  virtual void open(const operator_context&) {}

  /// Processes records of the current batch. `in` may be consumed (moved
  /// from); results are appended to `out`; `ctx` describes the input.
  /// @errors throws record_error for a record it cannot process.
  virtual void process(const process_context& ctx, records& in, records& out) = 0;

  /// Records of input `input` (0-based) of a multi-input operator (join,
  /// cogroup, union). Single-input operators need not override it.
  virtual void process_input(const process_context& ctx, int input, records& in, records& out) {
    (void)input;
    process(ctx, in, out);
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
  /// here. Returns the watermark to forward downstream (normally `wm`;
  /// no_watermark forwards nothing). An idle input is not a watermark: the
  /// driver passes the idle status on by itself.
  virtual std::int64_t on_watermark(std::int64_t wm, records& /*out*/) { return wm; }

  // --- processing-time timers ----------------------------------------------

  /// Earliest processing time (wall clock, ms since the epoch) at which the
  /// operator wants on_processing_time, or none. Asked after every
  /// activation of the operator's actor.
  virtual std::optional<std::int64_t> next_timer() const { return std::nullopt; }
  /// Processing time (wall clock, ms since the epoch) reached `now_ms`.
  virtual void on_processing_time(const process_context& /*ctx*/, std::int64_t /*now_ms*/, records& /*out*/) {}

  // --- checkpoints (docs/architecture.md §6; Carbone et al. 2015) ---------------------------

  /// Checkpoint `checkpoint_id`'s barrier reached the operator: every record
  /// and signal before it has been processed, none after it. Write the state
  /// a restarted operator needs to continue exactly from here (keyed state,
  /// windows, timers, buffered batches, counters) with `w`, framed with the
  /// operator's own tag and format version (detail/state_codec.hpp,
  /// detail/sealed_state.hpp) so that a state of another operator or format
  /// is refused, never misread. A sink pre-commits here (two-phase commit:
  /// make the epoch's output durable but invisible, record what commit will
  /// need in `w`, start the next epoch). Stateless operators write nothing.
  /// @errors throws pipeline_error when it cannot (e.g. ENOSPC pre-committing):
  ///         the checkpoint is aborted and counted, processing goes on.
  virtual void snapshot_state(std::uint64_t /*checkpoint_id*/, state_writer& /*w*/) {}

  /// After open() (with operator_context::restoring): load the state written
  /// by snapshot_state of checkpoint `checkpoint_id`, which completed. A sink
  /// commits here what that checkpoint pre-committed and discards output
  /// written after it (Flink's recoverAndCommit).
  /// @errors throws pipeline_error for a corrupt state (error_code::corrupt_state,
  ///         state_mismatch or state_version; state_reader does).
  virtual void restore_state(std::uint64_t /*checkpoint_id*/, state_reader& /*r*/) {}

  /// Checkpoint `checkpoint_id` completed (its manifest is durable): a sink
  /// commits the epochs pre-committed up to it. Idempotent.
  virtual void notify_checkpoint_complete(std::uint64_t /*checkpoint_id*/) {}

  /// Malformed and late record counts (summed into run statistics and
  /// metrics by the driver after each activation).
  const operator_counters& counters() const noexcept { return counters_; }

protected:
  /// Kept by the operator: it counts, snapshots and restores them.
  operator_counters counters_;
};

using operator_ptr = std::unique_ptr<stream_operator>;

}  // namespace weir
