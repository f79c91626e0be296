// weir — checkpoint barrier alignment (see barrier_aligner.hpp).
#include "weir/actors/barrier_aligner.hpp"

#include <algorithm>

namespace weir::actors {

const char* describe(abort_reason r) noexcept {
  switch (r) {
    case abort_reason::misaligned: return "its barriers follow different batch ends";
    case abort_reason::source_passed: return "a source was past the batch end its barrier follows";
    case abort_reason::snapshot_failed: return "a task could not take its snapshot (see above)";
    case abort_reason::timed_out: return "not complete within the checkpoint timeout";
    case abort_reason::write_failed: return "it could not be written (see above)";
  }
  return "unknown reason";
}

bool barrier_aligner::on_barrier(input_gate& gate, std::size_t ch, std::uint64_t id) {
  if (id <= dead_) return false;  // aborted
  gate.channel(ch).barrier = true;
  aligning_ = id;
  return true;
}

alignment barrier_aligner::check(input_gate& gate) {
  if (aligning_ == 0) return {};
  bool all = true, stuck = true;
  for (auto& c : gate.channels()) {
    if (c.eos || c.barrier) continue;
    all = false;
    if (!c.marked) stuck = false;
  }
  const std::uint64_t id = aligning_;
  if (all) {
    release(gate);
    return {alignment::kind::aligned, id};
  }
  if (stuck) {
    dead_ = std::max(dead_, id);
    last_reason_ = abort_reason::misaligned;
    release(gate);
    return {alignment::kind::aborted, id, abort_reason::misaligned};
  }
  return {};
}

bool barrier_aligner::cancel(input_gate& gate, std::uint64_t id, abort_reason reason) {
  dead_ = std::max(dead_, id);
  last_reason_ = reason;
  if (aligning_ != 0 && aligning_ <= id) {
    release(gate);
    return true;
  }
  return false;
}

void barrier_aligner::release(input_gate& gate) {
  aligning_ = 0;
  for (auto& c : gate.channels()) c.barrier = false;
}

}  // namespace weir::actors
