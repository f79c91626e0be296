// weir — encoding helpers for operator checkpoint state (docs/architecture.md §6), on top of
// state_writer / state_reader (snapshot.hpp). Used only at barriers and on
// recovery, never on the record path.
//
// Every operator state is framed the same way:
//   str(operator name) u8(format version) <body> u64(xxh3 of the frame before it)
// so a state restored into the wrong operator, from another format version,
// or with any byte changed fails with a one-line pipeline_error before any of
// it is used. The body is decoded defensively as well (counts bounded by the
// bytes left, table capacities bounded, duplicate keys rejected), so even a
// corrupt body with a matching checksum throws instead of crashing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "weir/common/hash.hpp"
#include "weir/operators/detail/value_table.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir::detail {

/// Starts the state of operator `op` (format `version`); pass the returned
/// offset to end_state().
inline std::size_t begin_state(state_writer& w, std::string_view op, std::uint8_t version) {
  const std::size_t start = w.size();
  w.str(op);
  w.u8(version);
  return start;
}

/// Closes a state begun at `start`: appends the xxh3 checksum of its bytes.
inline void end_state(state_writer& w, std::size_t start) {
  const std::string& b = w.bytes();
  w.u64(xxh3_64(std::string_view(b).substr(start)));
}

/// Checks the frame of operator `op`'s state (the reader holds exactly the
/// bytes begin_state..end_state wrote): checksum first, then name and version.
/// @errors pipeline_error (state_reader::fail) naming what does not match.
inline void open_state(state_reader& r, std::string_view op, std::uint8_t version) {
  const std::size_t start = r.position();
  if (r.remaining() < 8 + 1 + op.size() + 1)
    r.fail("truncated: " + std::to_string(r.remaining()) + " bytes cannot hold the state of " + std::string(op));
  const std::string_view d = r.data();
  const std::size_t end = d.size() - 8;
  std::uint64_t stored = 0;
  for (int i = 0; i < 8; ++i)
    stored |= static_cast<std::uint64_t>(static_cast<unsigned char>(d[end + static_cast<std::size_t>(i)])) << (8 * i);
  if (stored != xxh3_64(d.substr(start, end - start))) r.fail("checksum mismatch (damaged or truncated state)");
  const std::string name = r.str();
  if (name != op) {
    std::string shown = name.size() > 40 ? name.substr(0, 40) + "..." : name;
    r.fail(error_code::state_mismatch,
           "state written by operator '" + shown + "', restored into '" + std::string(op) + "'");
  }
  const std::uint8_t v = r.u8();
  if (v != version)
    r.fail(error_code::state_version,
           "state format version " + std::to_string(v) + ", this build reads version " + std::to_string(version));
}

/// Reads the checksum (checked by open_state) and requires the end of the bytes.
inline void close_state(state_reader& r) {
  (void)r.u64();
  r.expect_end();
}

/// Recomputes the checksum of one framed state in place (tests: decoding
/// corrupt bodies that pass the checksum).
inline void reseal_state(std::string& bytes) {
  if (bytes.size() < 8) return;
  const std::size_t end = bytes.size() - 8;
  std::uint64_t h = xxh3_64(std::string_view(bytes).substr(0, end));
  for (int i = 0; i < 8; ++i) bytes[end + static_cast<std::size_t>(i)] = static_cast<char>((h >> (8 * i)) & 0xff);
}

/// Writes operator `op`'s framed state: begin_state, body(w), end_state.
template <class Body>
void write_state(state_writer& w, std::string_view op, std::uint8_t version, Body&& body) {
  const std::size_t start = begin_state(w, op, version);
  body(w);
  end_state(w, start);
}

/// Reads operator `op`'s framed state: open_state, body(r), close_state. The
/// body should decode into locals that the caller installs afterwards, so a
/// failed restore leaves the operator as it was.
template <class Body>
void read_state(state_reader& r, std::string_view op, std::uint8_t version, Body&& body) {
  open_state(r, op, version);
  body(r);
  close_state(r);
}

/// Reads a count of items that take at least `min_bytes` each.
/// @errors pipeline_error when they cannot fit in the bytes left.
inline std::size_t read_count(state_reader& r, std::size_t min_bytes, const char* what) {
  const std::uint64_t n = r.varint();
  if (n > r.remaining() / (min_bytes ? min_bytes : 1))
    r.fail(std::to_string(n) + " " + what + " cannot fit in the " + std::to_string(r.remaining()) + " bytes left");
  return static_cast<std::size_t>(n);
}

inline void write_records(state_writer& w, const records& rs) {
  w.varint(rs.size());
  for (auto& v : rs) w.val(v);
}

inline records read_records(state_reader& r) {
  const std::size_t n = read_count(r, 1, "records");
  records out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(r.val());
  return out;
}

inline void write_optional(state_writer& w, const std::optional<value>& v) {
  w.boolean(v.has_value());
  if (v) w.val(*v);
}

inline std::optional<value> read_optional(state_reader& r) {
  if (!r.boolean()) return std::nullopt;
  return r.val();
}

/// Largest table capacity restored as written when the table is sparse
/// (more slots would be allocated from a few bytes of state).
inline constexpr std::size_t max_sparse_capacity = std::size_t{1} << 16;

/// A capacity value_table can have with `n` entries and that a restore may
/// allocate: a power of two >= 16, load <= 0.7, and at most 8 slots per entry
/// (or max_sparse_capacity).
inline bool table_capacity_ok(std::uint64_t cap, std::uint64_t n) {
  if (cap < 16 || (cap & (cap - 1)) != 0) return false;
  if (cap > max_sparse_capacity && cap / 8 > n) return false;
  return n * 10 <= cap * 7;
}

/// The smallest capacity a table of `n` entries has.
inline std::size_t min_table_capacity(std::size_t n) {
  std::size_t c = 16;
  while (n * 10 > c * 7) c <<= 1;
  return c;
}

/// Prefetches the heap block of a string, array or object value (nothing to
/// do for the others: they are inline). A hint only: it reads nothing.
inline void prefetch_value(const value& v) noexcept {
  switch (v.type()) {
    case kind::string: __builtin_prefetch(v.as_string().data()); break;
    case kind::array: __builtin_prefetch(v.as_array().data()); break;
    case kind::object: __builtin_prefetch(v.as_object().data()); break;
    default: break;
  }
}

/// write_table's default prefetch_val: nothing.
struct no_prefetch {
  template <class V>
  void operator()(const V&) const noexcept {}
};

/// Writes a value_table: capacity, entry count, then (key, write_val(w, val))
/// in replay order, so that read_table rebuilds the same slot layout and the
/// restored operator iterates (and emits) in the same order as the original.
/// A sparse table above max_sparse_capacity slots (a per-batch table after a
/// large batch) is written as the smallest table holding its entries.
/// prefetch_val(val) may prefetch the heap blocks write_val will read (see
/// prefetch_value); keys, and values of a value_table<value>, are prefetched
/// here.
template <class V, class WriteVal, class PrefetchVal = no_prefetch>
void write_table(state_writer& w, const value_table<V>& t, WriteVal&& write_val,
                 PrefetchVal&& prefetch_val = PrefetchVal{}) {
  // A first snapshot has no size to go by (the task presizes later ones from
  // the last): after the first entries, reserve for all at their mean size,
  // instead of doubling a 100 MB buffer six times (copies and page faults).
  constexpr std::size_t sample = 4096;
  const std::size_t n = t.size();
  std::size_t written = 0, start = 0;  // start: where the entries begin
  auto entry = [&](const value& k, const V& v) {
    w.val(k);
    write_val(w, v);
    if (++written == sample && n > 2 * sample) {
      const std::size_t want = w.size() + (w.size() - start) / sample * (n - sample) * 9 / 8;
      if (w.capacity() < want) w.reserve(want);
    }
  };
  auto ahead = [&](const value& k, const V& v) {
    prefetch_value(k);
    if constexpr (std::is_same_v<V, value>) prefetch_value(v);
    prefetch_val(v);
  };
  if (table_capacity_ok(t.capacity(), n)) {
    w.varint(t.capacity());
    w.varint(n);
    start = w.size();
    t.for_each_replayable(entry, ahead);
    return;
  }
  value_table<const V*> small(min_table_capacity(n));
  t.for_each([&](const value& k, const V& v) { *small.try_emplace(k, k.hash()).first = &v; });
  w.varint(small.capacity());
  w.varint(small.size());
  start = w.size();
  small.for_each_replayable([&](const value& k, const V* v) { entry(k, *v); });
}

/// Reads a table written by write_table; read_val(r) returns a V.
/// @errors pipeline_error for an impossible capacity, count or a duplicate key.
template <class V, class ReadVal>
value_table<V> read_table(state_reader& r, ReadVal&& read_val) {
  const std::uint64_t cap = r.varint();
  const std::size_t n = read_count(r, 2, "table entries");
  if (!table_capacity_ok(cap, n))
    r.fail("table of " + std::to_string(n) + " entries with an impossible capacity " + std::to_string(cap));
  value_table<V> t(static_cast<std::size_t>(cap));
  for (std::size_t i = 0; i < n; ++i) {
    value k = r.val();
    V v = read_val(r);
    auto [slot, fresh] = t.try_emplace(k, k.hash());
    // NaN keys never compare equal, so they are always fresh, as when first inserted
    if (!fresh) r.fail("duplicate table key " + k.to_json().substr(0, 60));
    *slot = std::move(v);
  }
  return t;
}

}  // namespace weir::detail
