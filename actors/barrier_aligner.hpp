// weir — checkpoint barrier alignment on a task's input gate (Flink's
// aligned checkpoints, docs/architecture.md §6): a channel that delivered
// the barrier being aligned is blocked (its later items wait) until every
// live channel has delivered it; then the task snapshots. Tracks the aborted
// checkpoints whose late barriers are dropped. CAF-free.
#pragma once

#include <cstdint>

#include "weir/actors/input_gate.hpp"
#include "weir/actors/protocol.hpp"

namespace weir::actors {

/// What the aligner decided after a change on the gate.
struct alignment {
  enum class kind : std::uint8_t {
    pending,  ///< nothing being aligned, or some live channel still owes the barrier
    aligned,  ///< every live channel delivered barrier `id`: snapshot now (channels released)
    aborted,  ///< barrier `id` cannot align: abort it for `reason` (channels released)
  };
  kind k = kind::pending;
  std::uint64_t id = 0;
  abort_reason reason = abort_reason::misaligned;
};

/// Barrier alignment of one task.
/// @thread Single-threaded (the task's).
class barrier_aligner {
public:
  /// Barrier `id` arrived on channel `ch` of `gate`: blocks the channel and
  /// aligns on `id`. Returns false (and blocks nothing) for a barrier of an
  /// aborted checkpoint, which is dropped.
  bool on_barrier(input_gate& gate, std::size_t ch, std::uint64_t id);

  /// Checks the gate after a barrier, batch end or end of stream: aligned
  /// when every live channel delivered the barrier; aborted (misaligned)
  /// when every live channel is held, some by the barrier and the others by
  /// a batch end that needs the held ones (the sources put the barrier
  /// after different batches).
  alignment check(input_gate& gate);

  /// Checkpoint `id` was aborted (by the coordinator, e.g. timed out, or by
  /// this task): its barriers and those of older ones are dropped from now
  /// on. Returns true when the barrier being aligned was released (the
  /// caller resumes consuming its input); `reason` is kept as last_abort().
  bool cancel(input_gate& gate, std::uint64_t id, abort_reason reason);

  /// The checkpoint being aligned (0 = none).
  std::uint64_t aligning() const noexcept { return aligning_; }
  /// Barriers with an id <= this are dropped.
  std::uint64_t dropped_up_to() const noexcept { return dead_; }
  /// Why the last checkpoint this task saw aborted was aborted.
  abort_reason last_abort() const noexcept { return last_reason_; }

private:
  void release(input_gate& gate);

  std::uint64_t aligning_ = 0;
  std::uint64_t dead_ = 0;
  abort_reason last_reason_ = abort_reason::misaligned;
};

}  // namespace weir::actors
