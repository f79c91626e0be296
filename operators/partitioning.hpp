// weir — how keyed records are spread over parallel instances.
#pragma once

#include <cstdint>

#include "weir/operators/value.hpp"

namespace weir {

/// The instance (0 .. parallelism-1) that records whose key hashes to
/// `key_hash` (value::hash, xxh3) are routed to. Uses the high 32 bits, so
/// the low bits the hash tables index by stay uniform within an instance.
inline int partition_of(std::uint64_t key_hash, int parallelism) noexcept {
  return static_cast<int>(static_cast<std::uint32_t>(key_hash >> 32) %
                          static_cast<std::uint32_t>(parallelism));
}

}  // namespace weir
