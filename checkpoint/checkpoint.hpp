// weir — checkpoint identifiers and barriers (thin for now; the barrier
// snapshot protocol of Carbone et al. 2015 is built on top of this).
#pragma once

#include <cstdint>

namespace weir::checkpoint {

/// A checkpoint barrier: ids are strictly increasing within a run.
struct checkpoint_barrier {
  std::uint64_t checkpoint_id = 0;
  std::int64_t timestamp_ms = 0;  ///< when the coordinator triggered it
};

/// Storage format version written into every checkpoint file header.
inline constexpr std::uint32_t format_version = 1;

}  // namespace weir::checkpoint
