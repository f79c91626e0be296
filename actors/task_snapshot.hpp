// weir — a task's snapshot (docs/architecture.md §6): the encoding and the
// decoding of the runtime's own state of a task (batch clock, watermarks of
// its inputs and operators) side by side, and the assembly of a
// checkpoint::task_snapshot from it, the source position and the state of
// each chain operator. CAF-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/actors/protocol.hpp"
#include "weir/io/source.hpp"
#include "weir/operators/operator_chain.hpp"

namespace weir::actors {

/// The runtime's own state of a task (what a restored task resumes with).
/// Times and watermarks in ms.
struct runtime_state {
  std::int64_t last_mark = 0;              ///< last batch end fired
  std::int64_t next_mark = 0;              ///< sources: next batch end to fire
  std::int64_t in_wm = no_watermark;       ///< combined watermark of the inputs
  bool in_idle = false;                    ///< every live input was idle
  std::int64_t out_wm = no_watermark;      ///< last watermark sent downstream
  bool eos_drain = true;                   ///< the drain flag of its end of stream
  std::vector<std::int64_t> delivered;     ///< last watermark delivered to each chain operator
  std::vector<std::pair<std::int64_t, bool>> channels;  ///< per input channel: watermark, idle
};

/// Encodes `s` (layout version 1).
std::string encode_runtime_state(const runtime_state& s);
/// Decodes what encode_runtime_state wrote, for a task with `chain_length`
/// operators and `channels` input channels.
/// @errors pipeline_error naming `what` when the bytes are corrupt, of an
///         unknown layout, or of a task with another chain or inputs.
runtime_state decode_runtime_state(std::string_view bytes, const std::string& what, std::size_t chain_length,
                                   std::size_t channels);

/// Who a snapshot belongs to.
struct task_identity {
  int stage = 0, instance = 0;
  std::string name;
};

/// Reused operator buffers of a task's snapshots: the previous snapshot,
/// handed back by the coordinator once written (no fresh allocation and page
/// faults per checkpoint), and each operator's last size.
struct snapshot_buffers {
  snapshot_ptr recycled;
  std::vector<std::size_t> bytes;
};

/// The snapshot of a task for checkpoint `id`: `runtime` (encoded), the
/// position of `source` (may be null), each chain operator's state.
/// @errors what snapshot_state / snapshot_position throw.
snapshot_ptr take_task_snapshot(const task_identity& who, std::uint64_t id, bool finished, std::string runtime,
                                io::source_reader* source, operator_chain& chain, snapshot_buffers& buffers);

}  // namespace weir::actors
