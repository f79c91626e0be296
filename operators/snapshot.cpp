// weir — binary encoding of checkpoint state (see snapshot.hpp).
#include "weir/operators/snapshot.hpp"

#include <cstring>
#include <vector>

namespace weir {

void state_writer::f64(double v) {
  std::uint64_t u;
  std::memcpy(&u, &v, 8);
  u64(u);
}


void state_writer::val_other(const value& v) {
  switch (v.type()) {
    case kind::null: u8(0); break;
    case kind::boolean: u8(v.as_bool() ? 2 : 1); break;
    case kind::integer:
      u8(3);
      i64(v.as_int());
      break;
    case kind::real:
      u8(4);
      f64(v.as_real());
      break;
    case kind::string:
      u8(5);
      str(v.as_string());
      break;
    case kind::array: {
      u8(v.is_tuple() ? 7 : 6);
      auto items = v.as_array();
      varint(items.size());
      for (auto& x : items) val(x);
      break;
    }
    case kind::object: {
      u8(8);
      auto fields = v.as_object();
      varint(fields.size());
      for (auto& f : fields) {
        str(f.name.as_string());
        val(f.val);
      }
      break;
    }
  }
}

void state_reader::fail(const std::string& detail) const { fail(error_code::corrupt_state, detail); }

void state_reader::fail(error_code code, const std::string& detail) const {
  throw pipeline_error(code,
                       "corrupt checkpoint state of " + what_ + ": " + detail + " at byte " + std::to_string(pos_));
}

void state_reader::need(std::size_t n) const {
  if (data_.size() - pos_ < n) fail("truncated (" + std::to_string(n) + " more bytes expected)");
}

void state_reader::expect_end() const {
  if (!at_end()) fail(std::to_string(data_.size() - pos_) + " unexpected trailing bytes");
}

std::uint8_t state_reader::u8() {
  need(1);
  return static_cast<std::uint8_t>(data_[pos_++]);
}

bool state_reader::boolean() {
  std::uint8_t b = u8();
  if (b > 1) fail("expected a boolean (0 or 1), got " + std::to_string(b));
  return b == 1;
}

std::uint64_t state_reader::varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    std::uint8_t b = u8();
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  fail("varint longer than 10 bytes");
}

std::int64_t state_reader::i64() {
  need(8);
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(data_[pos_ + static_cast<std::size_t>(i)])) << (8 * i);
  pos_ += 8;
  return static_cast<std::int64_t>(u);
}

double state_reader::f64() {
  std::uint64_t u = u64();
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}

std::string state_reader::str() {
  std::uint64_t n = varint();
  if (n > data_.size() - pos_) fail("string of " + std::to_string(n) + " bytes runs past the end");
  std::string s(data_.substr(pos_, static_cast<std::size_t>(n)));
  pos_ += static_cast<std::size_t>(n);
  return s;
}

value state_reader::val() { return val_depth(0); }

value state_reader::val_depth(int depth) {
  if (depth > 256) fail("values nested deeper than 256");
  std::uint8_t tag = u8();
  switch (tag) {
    case 0: return value();
    case 1: return value(false);
    case 2: return value(true);
    case 3: return value(i64());
    case 4: return value(f64());
    case 5: return value(str());
    case 6:
    case 7: {
      std::uint64_t n = varint();
      if (n > data_.size() - pos_) fail("array of " + std::to_string(n) + " items runs past the end");
      std::vector<value> items;
      items.reserve(static_cast<std::size_t>(n));
      for (std::uint64_t i = 0; i < n; ++i) items.push_back(val_depth(depth + 1));
      return value::array(std::move(items), tag == 7);
    }
    case 8: {
      std::uint64_t n = varint();
      if (n > data_.size() - pos_) fail("object of " + std::to_string(n) + " fields runs past the end");
      std::vector<field> fields;
      fields.reserve(static_cast<std::size_t>(n));
      for (std::uint64_t i = 0; i < n; ++i) {
        value name(str());
        value v = val_depth(depth + 1);
        fields.push_back({std::move(name), std::move(v)});
      }
      return value::object(std::move(fields));
    }
    default: fail("unknown value tag " + std::to_string(tag));
  }
}

}  // namespace weir
