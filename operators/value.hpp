// weir — the dynamic record type of the pipeline DSL.
//
// A `value` is what flows through an untyped (DSL) pipeline: null, boolean,
// 64-bit integer, double, string (bytes, normally UTF-8), array (a tuple when
// written `(a, b)` in the DSL; a pair is a key-value record), or object (JSON
// object with ordered fields).
//
// Representation: 16 bytes. Strings of up to 14 bytes are stored inline (no
// allocation: most words and keys); longer strings, arrays and objects live in
// an immutable, reference-counted heap block, so copying a value is O(1).
// Reference counts are atomic, so values may be shared between actors.
//
// @thread A value is immutable once built; distinct copies may be used from
//         different threads concurrently.
#pragma once

#include <atomic>
#include <bit>
#include <cassert>
#include <compare>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir {

class value;

namespace detail {
/// The header every heap block of a value starts with (strings and arrays
/// also use `size`: bytes or items, stored right after the header). Exposed
/// only so that the hot accessors below can be inlined.
struct value_block {
  std::atomic<std::uint32_t> rc{1};
  bool tuple = false;
  /// Arrays: no item lives on the heap (all null, bool, number or inline
  /// string), so freeing the block releases no item.
  bool flat = false;
  std::size_t size = 0;
};
}  // namespace detail

/// One field of an object value: a name and a value.
struct field;

/// The kinds a value can hold.
enum class kind : std::uint8_t { null, boolean, integer, real, string, array, object };

/// Name of a kind for error messages ("null", "bool", "int", "double", "string", "array", "object").
std::string_view kind_name(kind k) noexcept;

/// Length in bytes (1 to 4) of the well-formed UTF-8 character that starts at
/// byte `i` of `s` (RFC 3629: no overlong forms, no surrogates, at most
/// U+10FFFF), or 0 if the bytes there are not one. `i` < s.size().
std::size_t utf8_char_length(std::string_view s, std::size_t i) noexcept;

class value {
public:
  /// null.
  value() noexcept { raw_[15] = tag_null; }
  value(std::nullptr_t) noexcept : value() {}
  value(bool b) noexcept {
    raw_[0] = b ? 1 : 0;
    raw_[15] = tag_bool;
  }
  value(int i) noexcept : value(static_cast<std::int64_t>(i)) {}
  value(std::int64_t i) noexcept {  // int64_t is `long` on this platform
    std::memcpy(raw_, &i, sizeof(i));
    raw_[15] = tag_int;
  }
  value(long long i) noexcept : value(static_cast<std::int64_t>(i)) {}
  value(unsigned i) noexcept : value(static_cast<std::int64_t>(i)) {}
  /// Precondition: i <= INT64_MAX (larger values wrap).
  value(unsigned long i) noexcept : value(static_cast<std::int64_t>(i)) {}
  value(double d) noexcept {
    std::memcpy(raw_, &d, sizeof(d));
    raw_[15] = tag_real;
  }
  /// A string (bytes, normally UTF-8). Up to 14 bytes inline (no
  /// allocation, padding zeroed: equal strings have equal bytes).
  value(std::string_view s) {
    if (s.size() <= sso_max)
      set_inline_string(s.data(), s.size());
    else
      set_heap_string(s);
  }
  value(const char* s) : value(std::string_view{s}) {}
  value(const std::string& s) : value(std::string_view{s}) {}

  /// An array. `tuple` marks a DSL tuple `(a, b)`; it prints as `(a,b)` in
  /// Spark's layout and as a JSON array everywhere else.
  static value array(std::vector<value> items, bool tuple = false);
  /// A 2-tuple (key, value): the key-value record of keyed operators.
  static value pair(value k, value v);
  /// An object with fields in the given order (names should be distinct).
  static value object(std::vector<field> fields);
  /// An array of `items`, which are moved from (left null): one allocation,
  /// no intermediate vector. Same result as array(vector(items), tuple).
  static value array_moved(std::span<value> items, bool tuple = false);
  /// An array of integers (e.g. a binary record): the same value as
  /// array() of value(int)s, built with one allocation and no copies.
  static value int_array(std::span<const std::int64_t> items, bool tuple = false);
  /// An object of `fields`, which are moved from: one allocation, no
  /// intermediate vector. Same result as object(vector(fields)).
  static value object_moved(std::span<field> fields);

  value(const value& o) noexcept {
    std::memcpy(raw_, o.raw_, sizeof(raw_));
    retain();
  }
  value(value&& o) noexcept {
    std::memcpy(raw_, o.raw_, sizeof(raw_));
    o.raw_[15] = tag_null;
  }
  value& operator=(const value& o) noexcept {
    if (this != &o) {
      o.retain();
      release();
      std::memcpy(raw_, o.raw_, sizeof(raw_));
    }
    return *this;
  }
  value& operator=(value&& o) noexcept {
    if (this != &o) {
      release();
      std::memcpy(raw_, o.raw_, sizeof(raw_));
      o.raw_[15] = tag_null;
    }
    return *this;
  }
  ~value() { release(); }

  kind type() const noexcept;
  bool is_null() const noexcept { return raw_[15] == tag_null; }
  bool is_bool() const noexcept { return raw_[15] == tag_bool; }
  bool is_int() const noexcept { return raw_[15] == tag_int; }
  bool is_real() const noexcept { return raw_[15] == tag_real; }
  bool is_number() const noexcept { return is_int() || is_real(); }
  bool is_string() const noexcept { return raw_[15] == tag_sso || raw_[15] == tag_str; }
  bool is_array() const noexcept { return raw_[15] == tag_arr; }
  bool is_object() const noexcept { return raw_[15] == tag_obj; }
  /// True for arrays built as DSL tuples (`value::pair`, `value::array(.., true)`).
  bool is_tuple() const noexcept { return is_array() && ptr()->tuple; }

  /// Accessors. Precondition: the value has that kind (asserted in debug builds).
  bool as_bool() const noexcept {
    assert(is_bool());
    return raw_[0] != 0;
  }
  std::int64_t as_int() const noexcept {
    assert(is_int());
    std::int64_t i;
    std::memcpy(&i, raw_, sizeof(i));
    return i;
  }
  double as_real() const noexcept {
    assert(is_real());
    double d;
    std::memcpy(&d, raw_, sizeof(d));
    return d;
  }
  /// Integer or double as double. Precondition: is_number().
  double as_number() const noexcept { return is_int() ? static_cast<double>(as_int()) : as_real(); }
  std::string_view as_string() const noexcept;
  std::span<const value> as_array() const noexcept;
  std::span<const field> as_object() const noexcept;

  /// Field of an object by name; nullptr if absent or if this is not an object.
  const value* find(std::string_view name) const noexcept;

  /// xxh3-based hash, consistent with operator== (an integral double hashes
  /// like the equal integer).
  std::uint64_t hash() const noexcept;

  /// Equality: same kind and content; an integer and a double compare exactly
  /// by numeric value (2^53+1 != 2^53 as double).
  friend bool operator==(const value& a, const value& b) noexcept;
  /// Total order: null < bool < numbers < string < array < object; numbers
  /// numerically, strings bytewise, arrays lexicographically.
  friend std::strong_ordering operator<=>(const value& a, const value& b) noexcept;

  /// Compact JSON text. Invalid UTF-8 in strings is written as U+FFFD, so the
  /// output is always valid JSON. Doubles that are not finite become null.
  std::string to_json() const;
  void append_json(std::string& out) const;
  /// Spark's toString layout (used by `print`): strings raw, tuples `(a,b)`,
  /// doubles with a fractional part (`2.0`), null as `null`, arrays/objects as JSON.
  std::string to_text() const;
  void append_text(std::string& out) const;

private:
  static constexpr std::uint8_t tag_null = 0x80, tag_bool = 0x81, tag_int = 0x82,
                                tag_real = 0x83, tag_str = 0x84, tag_arr = 0x85,
                                tag_obj = 0x86;
  // Inline string: raw_[15] = tag_sso, raw_[14] = length (0..14).
  static constexpr std::uint8_t tag_sso = 0x87;
  static constexpr std::size_t sso_max = 14;

  using heap = detail::value_block;
  heap* ptr() const noexcept {
    heap* h;
    std::memcpy(&h, raw_, sizeof(h));
    return h;
  }
  void set_ptr(heap* h, std::uint8_t tag) noexcept;
  void set_heap_string(std::string_view s);
  /// An inline string of n <= 14 bytes, with word loads and stores (no
  /// library call: the most frequent value built, e.g. words of a text).
  void set_inline_string(const char* p, std::size_t n) noexcept {
    std::uint64_t lo = 0, hi = 0;
    if (n >= 8) {
      std::memcpy(&lo, p, 8);
      if (n > 8) {  // bytes 8..n-1: the top n-8 bytes of the last 8 (little-endian)
        std::uint64_t last;
        std::memcpy(&last, p + n - 8, 8);
        hi = last >> (8 * (16 - n));
      }
    } else if (n >= 4) {
      std::uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      lo = a | (static_cast<std::uint64_t>(b) << (8 * (n - 4)));
    } else if (n > 0) {
      const auto* u = reinterpret_cast<const unsigned char*>(p);
      lo = static_cast<std::uint64_t>(u[0]) | (static_cast<std::uint64_t>(u[n / 2]) << (8 * (n / 2))) |
           (static_cast<std::uint64_t>(u[n - 1]) << (8 * (n - 1)));
    }
    static_assert(std::endian::native == std::endian::little, "inline strings assume little-endian");
    std::memcpy(raw_, &lo, 8);
    std::memcpy(raw_ + 8, &hi, 8);
    raw_[14] = static_cast<unsigned char>(n);
    raw_[15] = tag_sso;
  }
  bool on_heap() const noexcept { return raw_[15] == tag_str || raw_[15] == tag_arr || raw_[15] == tag_obj; }
  void retain() const noexcept {
    if (on_heap()) ptr()->rc.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    if (!on_heap()) return;
    heap* h = ptr();
    // The only owner needs no atomic decrement: no other thread can hold
    // (and so copy) this block.
    if (h->rc.load(std::memory_order_acquire) == 1 || h->rc.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }
  void destroy() noexcept;  ///< frees the heap block (its count reached 0)

  alignas(8) unsigned char raw_[16];
};

struct field {
  value name;  ///< always a string
  value val;
};

static_assert(sizeof(value) == 16);
static_assert(sizeof(detail::value_block) % alignof(value) == 0);

inline std::string_view value::as_string() const noexcept {
  assert(is_string());
  if (raw_[15] == tag_sso) return {reinterpret_cast<const char*>(raw_), raw_[14]};
  const heap* h = ptr();
  return {reinterpret_cast<const char*>(h + 1), h->size};
}

inline std::span<const value> value::as_array() const noexcept {
  assert(is_array());
  const heap* h = ptr();
  return {reinterpret_cast<const value*>(h + 1), h->size};
}

/// Hash functor for hash tables keyed by value.
struct value_hash {
  std::size_t operator()(const value& v) const noexcept { return v.hash(); }
};

}  // namespace weir
