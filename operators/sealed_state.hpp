// weir — a versioned, checksummed frame around one operator's, source's or
// decoder's checkpoint state, so that a truncated or bit-flipped state is
// always detected (pipeline_error), never decoded into wrong state. Every
// module that snapshots state (operators/, io/) frames it with these.
//
// Frame: u8 format version, the payload as a length-prefixed string, then
// the payload's FNV-1a 64 (common/hash.hpp) as 8 bytes little-endian (every
// step of FNV-1a is a bijection of its state, so any change of a single byte
// changes the sum).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "weir/common/hash.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir {

/// Writes `body(inner)` into `w` as one sealed frame of format `version`.
/// @thread Not thread-safe (as state_writer).
template <class F>
void write_sealed(state_writer& w, std::uint8_t version, F&& body) {
  state_writer inner;
  body(inner);
  const std::string& p = inner.bytes();
  w.u8(version);
  w.str(p);
  w.u64(fnv1a64(p));
}

/// Reads a frame written by write_sealed and calls `body(inner)` on its
/// payload; every payload byte must be read.
/// @errors pipeline_error "corrupt checkpoint state of <what>: ..." for a
///         truncated frame, a checksum mismatch, an unknown version (one from
///         a newer weir) or a payload `body` does not read exactly.
template <class F>
void read_sealed(state_reader& r, std::uint8_t version, const std::string& what, F&& body) {
  const std::uint8_t v = r.u8();
  if (v != version)
    r.fail(error_code::state_version,
           "format version " + std::to_string(v) + ", expected " + std::to_string(version));
  const std::string p = r.str();
  const std::uint64_t sum = r.u64();
  if (sum != fnv1a64(p)) r.fail("checksum mismatch");
  state_reader inner(p, what);
  body(inner);
  inner.expect_end();
}

}  // namespace weir
