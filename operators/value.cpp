#include "weir/operators/value.hpp"

#include <atomic>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>

#define XXH_INLINE_ALL  // the same XXH3, inlined into value::hash
#include <xxhash.h>

namespace weir {

std::string_view kind_name(kind k) noexcept {
  switch (k) {
    case kind::null: return "null";
    case kind::boolean: return "bool";
    case kind::integer: return "int";
    case kind::real: return "double";
    case kind::string: return "string";
    case kind::array: return "array";
    case kind::object: return "object";
  }
  return "?";
}

// Heap blocks. Each starts with the common header (detail::value_block).
struct heap_str : detail::value_block {
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
};
// Array items live inline after the header: one allocation per array.
struct heap_arr : detail::value_block {
  value* items() noexcept { return reinterpret_cast<value*>(this + 1); }

  static heap_arr* make(std::size_t n, bool tuple) {
    static_assert(sizeof(heap_arr) == sizeof(detail::value_block));
    void* mem = ::operator new(sizeof(heap_arr) + n * sizeof(value));
    auto* h = new (mem) heap_arr;
    h->tuple = tuple;
    return h;
  }
  static void destroy(heap_arr* h) noexcept {
    if (!h->flat) std::destroy_n(h->items(), h->size);
    h->~heap_arr();
    ::operator delete(static_cast<void*>(h));
  }
};
// Object fields live inline after the header too (`size` of them).
struct heap_obj : detail::value_block {
  field* fields() noexcept { return reinterpret_cast<field*>(this + 1); }

  static heap_obj* make(std::size_t n) {
    static_assert(sizeof(heap_obj) % alignof(field) == 0);
    void* mem = ::operator new(sizeof(heap_obj) + n * sizeof(field));
    return new (mem) heap_obj;
  }
  static void destroy(heap_obj* h) noexcept {
    std::destroy_n(h->fields(), h->size);
    h->~heap_obj();
    ::operator delete(static_cast<void*>(h));
  }
};

void value::set_ptr(heap* h, std::uint8_t tag) noexcept {
  std::memcpy(raw_, &h, sizeof(h));
  raw_[15] = tag;
}

void value::destroy() noexcept {
  heap* h = ptr();
  switch (raw_[15]) {
    case tag_str: {
      auto* s = reinterpret_cast<heap_str*>(h);
      s->~heap_str();
      ::operator delete(static_cast<void*>(s));
      break;
    }
    case tag_arr: heap_arr::destroy(reinterpret_cast<heap_arr*>(h)); break;
    case tag_obj: heap_obj::destroy(reinterpret_cast<heap_obj*>(h)); break;
    default: break;
  }
}

void value::set_heap_string(std::string_view s) {
  void* mem = ::operator new(sizeof(heap_str) + s.size());
  auto* h = new (mem) heap_str;
  h->size = s.size();
  std::memcpy(h->data(), s.data(), s.size());
  set_ptr(reinterpret_cast<heap*>(h), tag_str);
}

value value::array(std::vector<value> items, bool tuple) { return array_moved(items, tuple); }

value value::array_moved(std::span<value> items, bool tuple) {
  auto* h = heap_arr::make(items.size(), tuple);
  for (auto& it : items) new (h->items() + h->size++) value(std::move(it));
  value v;
  v.set_ptr(reinterpret_cast<heap*>(h), tag_arr);
  return v;
}

value value::int_array(std::span<const std::int64_t> items, bool tuple) {
  auto* h = heap_arr::make(items.size(), tuple);
  value* to = h->items();
  const std::size_t n = items.size();
  for (std::size_t i = 0; i < n; ++i) new (to + i) value(items[i]);
  h->size = n;
  h->flat = true;  // ints only: nothing to release when the block goes
  value v;
  v.set_ptr(reinterpret_cast<heap*>(h), tag_arr);
  return v;
}

value value::pair(value k, value v) {
  auto* h = heap_arr::make(2, true);
  h->flat = !k.on_heap() && !v.on_heap();  // e.g. (word, time): freed without releasing the items
  new (h->items()) value(std::move(k));
  new (h->items() + 1) value(std::move(v));
  h->size = 2;
  value r;
  r.set_ptr(reinterpret_cast<heap*>(h), tag_arr);
  return r;
}

value value::object(std::vector<field> fields) { return object_moved(fields); }

value value::object_moved(std::span<field> fields) {
  auto* h = heap_obj::make(fields.size());
  for (auto& f : fields) new (h->fields() + h->size++) field(std::move(f));
  value v;
  v.set_ptr(reinterpret_cast<heap*>(h), tag_obj);
  return v;
}

kind value::type() const noexcept {
  switch (raw_[15]) {
    case tag_bool: return kind::boolean;
    case tag_int: return kind::integer;
    case tag_real: return kind::real;
    case tag_sso:
    case tag_str: return kind::string;
    case tag_arr: return kind::array;
    case tag_obj: return kind::object;
    default: return kind::null;
  }
}

std::span<const field> value::as_object() const noexcept {
  assert(is_object());
  auto* h = reinterpret_cast<heap_obj*>(ptr());
  return {h->fields(), h->size};
}

const value* value::find(std::string_view name) const noexcept {
  if (!is_object()) return nullptr;
  for (auto& f : as_object())
    if (f.name.as_string() == name) return &f.val;
  return nullptr;
}

namespace {

constexpr std::uint64_t seed_null = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t seed_array = 0x51ed270b2d3a4f1bULL;
constexpr std::uint64_t seed_object = 0x2545f4914f6cdd1dULL;

std::uint64_t hash_int(std::int64_t i) noexcept { return XXH3_64bits(&i, sizeof(i)); }

int rank(kind k) noexcept {
  switch (k) {
    case kind::null: return 0;
    case kind::boolean: return 1;
    case kind::integer:
    case kind::real: return 2;
    case kind::string: return 3;
    case kind::array: return 4;
    case kind::object: return 5;
  }
  return 6;
}

// Exact comparison of an integer with a double (no rounding of the integer).
std::strong_ordering compare_int_real(std::int64_t i, double d) noexcept {
  if (std::isnan(d)) return std::strong_ordering::greater;  // NaN sorts first
  if (d >= 9223372036854775808.0) return std::strong_ordering::less;
  if (d < -9223372036854775808.0) return std::strong_ordering::greater;
  double t = std::trunc(d);
  auto ti = static_cast<std::int64_t>(t);
  if (i != ti) return i <=> ti;
  if (d > t) return std::strong_ordering::less;
  if (d < t) return std::strong_ordering::greater;
  return std::strong_ordering::equal;
}

std::strong_ordering compare_numbers(const value& a, const value& b) noexcept {
  if (a.is_int() && b.is_int()) return a.as_int() <=> b.as_int();
  if (a.is_int()) return compare_int_real(a.as_int(), b.as_real());
  if (b.is_int()) return 0 <=> compare_int_real(b.as_int(), a.as_real());
  double x = a.as_real(), y = b.as_real();
  bool xn = std::isnan(x), yn = std::isnan(y);
  if (xn || yn) return yn <=> xn;  // NaN sorts first, equal to itself
  if (x < y) return std::strong_ordering::less;
  if (x > y) return std::strong_ordering::greater;
  return std::strong_ordering::equal;
}

}  // namespace

namespace {

/// value::hash of the kinds other than inline strings and ints (out of line,
/// so that the frequent kinds need no stack frame).
[[gnu::noinline]] std::uint64_t hash_other(const value& v) noexcept {
  switch (v.type()) {
    case kind::null: return seed_null;
    case kind::boolean: return v.as_bool() ? 0x1ULL : 0x2ULL;
    case kind::integer: return hash_int(v.as_int());
    case kind::real: {
      double d = v.as_real();
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18)
        return hash_int(static_cast<std::int64_t>(d));
      return XXH3_64bits(&d, sizeof(d));
    }
    case kind::string: {
      auto s = v.as_string();
      return XXH3_64bits(s.data(), s.size());
    }
    case kind::array: {
      std::uint64_t h = seed_array;
      for (auto& x : v.as_array()) {
        std::uint64_t y = x.hash();
        h = XXH3_64bits_withSeed(&y, sizeof(y), h);
      }
      return h;
    }
    case kind::object: {
      std::uint64_t h = seed_object;
      for (auto& f : v.as_object()) {
        std::uint64_t x[2] = {f.name.hash(), f.val.hash()};
        h = XXH3_64bits_withSeed(x, sizeof(x), h);
      }
      return h;
    }
  }
  return 0;
}

}  // namespace

std::uint64_t value::hash() const noexcept {
  if (raw_[15] == tag_sso) return XXH3_64bits(raw_, raw_[14]);  // words, short keys
  if (raw_[15] == tag_int) return hash_int(as_int());
  return hash_other(*this);
}

bool operator==(const value& a, const value& b) noexcept {
  if (a.raw_[15] == value::tag_sso && b.raw_[15] == value::tag_sso)
    return std::memcmp(a.raw_, b.raw_, sizeof(a.raw_)) == 0;
  return (a <=> b) == 0;
}

std::strong_ordering operator<=>(const value& a, const value& b) noexcept {
  kind ka = a.type(), kb = b.type();
  int ra = rank(ka), rb = rank(kb);
  if (ra != rb) return ra <=> rb;
  switch (ka) {
    case kind::null: return std::strong_ordering::equal;
    case kind::boolean: return a.as_bool() <=> b.as_bool();
    case kind::integer:
    case kind::real: return compare_numbers(a, b);
    case kind::string: {
      int c = a.as_string().compare(b.as_string());
      return c <=> 0;
    }
    case kind::array: {
      auto x = a.as_array(), y = b.as_array();
      for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
        if (auto c = x[i] <=> y[i]; c != 0) return c;
      return x.size() <=> y.size();
    }
    case kind::object: {
      auto x = a.as_object(), y = b.as_object();
      for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (auto c = x[i].name <=> y[i].name; c != 0) return c;
        if (auto c = x[i].val <=> y[i].val; c != 0) return c;
      }
      return x.size() <=> y.size();
    }
  }
  return std::strong_ordering::equal;
}

std::size_t utf8_char_length(std::string_view s, std::size_t i) noexcept {
  auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xF0 && c1 < 0x90) return 0;
    if (c == 0xF4 && c1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

namespace {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      // copy a run of plain ASCII at once
      std::size_t j = i + 1;
      while (j < s.size()) {
        auto d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
        ++j;
      }
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      out += "\\u00";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
      ++i;
      continue;
    }
    std::size_t n = utf8_char_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for an invalid byte
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  out.push_back('"');
}

void append_double(std::string& out, double d, bool json) {
  if (!std::isfinite(d)) {
    if (json) {
      out += "null";
    } else {
      out += std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity");
    }
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), d);
  std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
  out += s;
  if (s.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void append_int(std::string& out, std::int64_t i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), i);
  out.append(buf, r.ptr);
}

}  // namespace

void value::append_json(std::string& out) const {
  switch (raw_[15]) {
    case tag_null: out += "null"; return;
    case tag_bool: out += as_bool() ? "true" : "false"; return;
    case tag_int: append_int(out, as_int()); return;
    case tag_real: append_double(out, as_real(), true); return;
    case tag_sso:
    case tag_str: append_json_string(out, as_string()); return;
    case tag_arr: {
      out.push_back('[');
      bool first = true;
      for (auto& v : as_array()) {
        if (!first) out.push_back(',');
        first = false;
        v.append_json(out);
      }
      out.push_back(']');
      return;
    }
    case tag_obj: {
      out.push_back('{');
      bool first = true;
      for (auto& f : as_object()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, f.name.as_string());
        out.push_back(':');
        f.val.append_json(out);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string value::to_json() const {
  std::string s;
  append_json(s);
  return s;
}

void value::append_text(std::string& out) const {
  switch (raw_[15]) {
    case tag_real: append_double(out, as_real(), false); return;
    case tag_sso:
    case tag_str: out += as_string(); return;
    case tag_arr:
      if (is_tuple()) {
        out.push_back('(');
        bool first = true;
        for (auto& v : as_array()) {
          if (!first) out.push_back(',');
          first = false;
          v.append_text(out);
        }
        out.push_back(')');
        return;
      }
      append_json(out);
      return;
    default: append_json(out); return;
  }
}

std::string value::to_text() const {
  std::string s;
  append_text(s);
  return s;
}

}  // namespace weir
