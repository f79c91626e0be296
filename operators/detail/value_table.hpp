// weir — open-addressing hash table keyed by weir::value (xxh3 hashes,
// linear probing, stored hashes). The keyed-state table of reduce operators.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "weir/operators/value.hpp"

namespace weir::detail {

/// Map value -> V. Not thread-safe. Iteration order is unspecified.
template <class V>
class value_table {
public:
  struct slot {
    std::uint64_t hash = 0;
    value key;
    V val{};
    bool used = false;
  };

  explicit value_table(std::size_t initial_capacity = 16) { rehash(round_up(initial_capacity)); }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Finds `k` (hash `h` = k.hash()); nullptr if absent.
  V* find(const value& k, std::uint64_t h) noexcept {
    std::size_t i = h & mask_;
    for (;;) {
      slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.hash == h && same_key(s.key, k)) return &s.val;
      i = (i + 1) & mask_;
    }
  }

  /// The stored key equal to `k` (hash `h`); nullptr if absent.
  const value* find_key(const value& k, std::uint64_t h) const noexcept {
    std::size_t i = h & mask_;
    for (;;) {
      const slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.hash == h && same_key(s.key, k)) return &s.key;
      i = (i + 1) & mask_;
    }
  }

  /// Returns the slot's value and whether it was inserted (default-constructed V).
  std::pair<V*, bool> try_emplace(const value& k, std::uint64_t h) {
    if ((size_ + 1) * 10 > slots_.size() * 7) rehash(slots_.size() * 2);
    std::size_t i = h & mask_;
    for (;;) {
      slot& s = slots_[i];
      if (!s.used) {
        s.used = true;
        s.hash = h;
        s.key = k;
        ++size_;
        return {&s.val, true};
      }
      if (s.hash == h && same_key(s.key, k)) return {&s.val, false};
      i = (i + 1) & mask_;
    }
  }

  /// Calls f(key, val) for every entry.
  template <class F>
  void for_each(F&& f) {
    for (auto& s : slots_)
      if (s.used) f(s.key, s.val);
  }
  template <class F>
  void for_each(F&& f) const {
    for (auto& s : slots_)
      if (s.used) f(s.key, s.val);
  }

  /// Calls f(key, hash, val) for every entry, in slot order (as for_each).
  template <class F>
  void for_each_hashed(F&& f) const {
    for (auto& s : slots_)
      if (s.used) f(s.key, s.hash, s.val);
  }

  /// Appends every entry to `out` as a pair (key, value), moving the values
  /// out, then clears the table. The per-batch output of keyed aggregations.
  template <class Out>
  void drain_pairs(Out& out) {
    out.reserve(out.size() + size_);
    for (auto& s : slots_)
      if (s.used) out.push_back(value::pair(s.key, std::move(s.val)));
    clear();
  }

  /// Removes every entry, keeping the capacity (up to a bound).
  void clear() {
    if (slots_.size() > 4096 && size_ * 8 < slots_.size()) {
      // shrink: a fresh, smaller table (the entries are dropped, not moved)
      const std::size_t cap = round_up(size_ * 2 + 16);
      slots_.clear();
      slots_.resize(cap);
      mask_ = cap - 1;
      size_ = 0;
      return;
    }
    for (auto& s : slots_)
      if (s.used) s = slot{};
    size_ = 0;
  }

  // --- checkpoints (detail/state_codec.hpp) ---------------------------------

  /// Number of slots (a power of two, >= 16).
  std::size_t capacity() const noexcept { return slots_.size(); }

  /// Calls f(key, val) for every entry, in slot order starting after an empty
  /// slot and wrapping around. Inserting the entries in this order with
  /// try_emplace into an empty table of the same capacity rebuilds the same
  /// slot layout (linear probing: every slot between an entry's home and its
  /// slot is filled before it), hence the same iteration order.
  /// ahead(key, val) is called first for the entry `distance` slots further
  /// on, if any: there it can prefetch what f will read from the heap (a walk
  /// over a large table otherwise waits for memory at every entry).
  template <class F, class Ahead>
  void for_each_replayable(F&& f, Ahead&& ahead) const {
    constexpr std::size_t distance = 8;
    std::size_t start = 0;
    while (slots_[start].used) ++start;  // exists: the load factor stays <= 0.7
    for (std::size_t j = 1; j <= slots_.size(); ++j) {
      const slot& a = slots_[(start + j + distance) & mask_];
      if (a.used) ahead(a.key, a.val);
      const slot& s = slots_[(start + j) & mask_];
      if (s.used) f(s.key, s.val);
    }
  }
  template <class F>
  void for_each_replayable(F&& f) const {
    for_each_replayable(std::forward<F>(f), [](const value&, const V&) {});
  }

private:
  /// Equal keys; the same 16 bytes (the same heap block, or an equal inline
  /// string or int) decide without comparing contents (doubles: NaN != NaN).
  static bool same_key(const value& a, const value& b) noexcept {
    return (!b.is_real() && std::memcmp(static_cast<const void*>(&a), static_cast<const void*>(&b), sizeof(value)) == 0) ||
           a == b;
  }

  static std::size_t round_up(std::size_t n) {
    std::size_t c = 16;
    while (c < n) c <<= 1;
    return c;
  }

  void rehash(std::size_t cap) {
    std::vector<slot> old = std::move(slots_);
    slots_.clear();
    slots_.resize(cap);
    mask_ = cap - 1;
    for (auto& s : old) {
      if (!s.used) continue;
      std::size_t i = s.hash & mask_;
      while (slots_[i].used) i = (i + 1) & mask_;
      slots_[i] = std::move(s);
    }
  }

  std::vector<slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace weir::detail
