// weir — the runtime's wire protocol, CAF-free: what travels between tasks
// (wire batches and the in-band control signals ordered with them), what a
// task reports to the job and the checkpoint coordinator, why a checkpoint
// is aborted, and the clocks the runtime reads. The CAF atoms that carry
// these are in actors/caf_protocol.hpp.
//
// Per channel (one sender instance → one receiver instance), in order:
//   data(batch)     needs one credit; the receiver returns it once consumed
//   mark(t)         batch end at t ms (Spark batch boundary), no credit
//   barrier(id)     checkpoint barrier id (Flink's aligned barriers), no credit
//   eos(drain)      end of stream, no credit
// and back from receiver to sender: credit(edge, channel, n).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "weir/actors/latency_histogram.hpp"
#include "weir/operators/value.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::checkpoint {
struct task_snapshot;
}

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
using snapshot_ptr = std::shared_ptr<checkpoint::task_snapshot>;

enum class item_kind : std::uint8_t { data, mark, eos, barrier };

/// A message on a channel, queued by the sender (outbox) or the receiver
/// (input queue): data (needs credit to send) or a control signal (ordered
/// with data, no credit).
struct item {
  item_kind kind = item_kind::data;
  std::int64_t time = 0;  ///< mark: the batch time (ms); eos: 1 = drain windows, 0 = do not; barrier: checkpoint id
  batch_ptr data;
};

/// Why a checkpoint was aborted (counted in checkpoint_stats::aborted).
enum class abort_reason : std::uint8_t {
  misaligned,      ///< a task's inputs put the barrier after different batch ends
  source_passed,   ///< a source was already past the batch end the barrier follows
  snapshot_failed, ///< a task could not take its snapshot (e.g. a sink could not pre-commit)
  timed_out,       ///< not complete within checkpoint_options::timeout
  write_failed,    ///< the coordinator could not write it (disk full, I/O error)
};
/// A short English description ("not complete within the timeout", ...).
const char* describe(abort_reason r) noexcept;

/// What a task reports to the job when it has finished.
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
  snapshot_ptr final_state;
};

using steady = std::chrono::steady_clock;

/// The steady clock, ns (ingestion times, latency).
inline std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
}
/// The wall clock, ms since the epoch (processing-time timers, checkpoint times).
inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace weir::actors
