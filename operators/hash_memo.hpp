// weir — a small memo of value hashes by value identity, for the code that
// hashes the same keys over and over: keyed windows (a few campaigns or the
// frequent words of a text) and the runtime's keyed edges.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "weir/operators/value.hpp"

namespace weir {

/// True when `a` and `b` have the same 16-byte representation: then they are
/// equal values with equal hashes, provided neither is a double (NaN !=
/// NaN). A heap string/array/object is immutable and alive while referenced,
/// so the same block pointer means the same content. Different bytes say
/// nothing (compare with ==).
inline bool same_bytes(const value& a, const value& b) noexcept {
  return std::memcmp(static_cast<const void*>(&a), static_cast<const void*>(&b), sizeof(value)) == 0;
}

/// Set-associative memo value → value::hash(), keyed by the value's 16 bytes.
/// Each entry holds a copy of its value (a reference on a heap block), so a
/// block cannot be freed and its address reused by another value while the
/// entry maps it. Only ints, doubles and strings of up to 256 bytes are
/// kept (no large block is kept alive). 256 entries in 128 sets of 2 (a
/// new key replaces the older of its set), about 8 KiB. When
/// fewer than 3/4 of 1024 lookups hit (many distinct keys), it steps aside
/// for the next 64 Ki keys, then tries again. Not thread-safe (one per operator instance).
class hash_memo {
public:
  [[gnu::always_inline]] std::uint64_t operator()(const value& k) {
    if (skip_ > 0) {  // the memo did not pay lately
      --skip_;
      return k.hash();
    }
    if (++tries_ == probe) [[unlikely]] {  // fewer than 3/4 hits over the last `probe` keys: bypass it for a while
      if (hits_ < probe / 4 * 3) skip_ = bypass;
      tries_ = hits_ = 0;
    }
    std::uint64_t a, b;
    std::memcpy(&a, static_cast<const void*>(&k), 8);
    std::memcpy(&b, reinterpret_cast<const unsigned char*>(static_cast<const void*>(&k)) + 8, 8);
    const std::uint64_t m = (a ^ (b * 0x9E3779B97F4A7C15ULL)) * 0xD6E8FEB86659FD93ULL;
    entry* set = &e_[(m >> 57) * ways];  // 2-way: two keys that share a set do not evict each other
    if (set[0].used && same_bytes(set[0].key, k)) {
      ++hits_;
      return set[0].hash;
    }
    if (set[1].used && same_bytes(set[1].key, k)) {
      ++hits_;
      return set[1].hash;
    }
    return miss(k, set);
  }

private:
  struct entry;
  /// Hashes `k` and keeps it in `set` (out of line: the hit path is inlined).
  [[gnu::noinline]] std::uint64_t miss(const value& k, entry* set) {
    const std::uint64_t h = k.hash();
    if (k.is_int() || k.is_real() || (k.is_string() && k.as_string().size() <= 256)) {
      set[1] = std::move(set[0]);  // the older entry of the set goes
      set[0].key = k;
      set[0].hash = h;
      set[0].used = true;
    }
    return h;
  }
  static constexpr std::size_t size = 256, ways = 2;  // 128 sets, indexed by the top 7 bits of a mix
  static constexpr std::uint32_t probe = 1024, bypass = 64 * 1024;  // keys
  std::uint32_t tries_ = 0, hits_ = 0, skip_ = 0;
  struct entry {
    value key;
    std::uint64_t hash = 0;
    bool used = false;
  };
  std::array<entry, size> e_{};
};

}  // namespace weir
