// weir — binary encoding of operator and source state for checkpoints
// (CAF-free). The checkpoint store (checkpoint/) frames, checksums and
// compresses the bytes; this header only encodes them.
//
// Encoding: little-endian fixed-width integers, LEB128 varints for sizes and
// counts, length-prefixed strings; a value is its kind byte followed by its
// content (arrays and objects recursively, the tuple flag kept).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "weir/common/test_hooks.hpp"  // crash_point, for the code that takes and restores snapshots
#include "weir/operators/stream_operator.hpp"
#include "weir/operators/value.hpp"

namespace weir {

/// Appends encoded state to a byte string.
/// @thread Not thread-safe; one writer per task snapshot.
class state_writer {
public:
  state_writer() = default;
  /// Writes into `reuse`'s storage (cleared first): a snapshot taken every
  /// checkpoint can recycle the previous one's buffer instead of allocating
  /// (and page-faulting in) ~100 MB afresh.
  explicit state_writer(std::string reuse) : buf_(std::move(reuse)) { buf_.clear(); }
  /// Reserves room for `bytes` in all.
  void reserve(std::size_t bytes) { buf_.reserve(bytes); }
  std::size_t capacity() const noexcept { return buf_.capacity(); }
  void u8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  /// Unsigned LEB128 (sizes, counts, ids).
  void varint(std::uint64_t v) {
    char b[10];
    std::size_t n = 0;
    while (v >= 0x80) {
      b[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    b[n++] = static_cast<char>(v);
    buf_.append(b, n);
  }
  /// Fixed 8 bytes, little-endian (times in ms, watermarks, offsets).
  void i64(std::int64_t v) {
    auto u = static_cast<std::uint64_t>(v);
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((u >> (8 * i)) & 0xff);
    buf_.append(b, 8);
  }
  void u64(std::uint64_t v) { i64(static_cast<std::int64_t>(v)); }
  void f64(double v);
  /// Length-prefixed bytes.
  void str(std::string_view s) {
    varint(s.size());
    buf_.append(s.data(), s.size());
  }
  /// A record value (recursively), with its tuple flag.
  void val(const value& v) {
    if (v.type() == kind::string) {  // the common key and state: inline
      u8(5);
      str(v.as_string());
    } else {
      val_other(v);
    }
  }

  const std::string& bytes() const noexcept { return buf_; }
  std::string take() { return std::move(buf_); }
  std::size_t size() const noexcept { return buf_.size(); }

private:
  void val_other(const value& v);
  std::string buf_;
};

/// Decodes state written by state_writer.
/// @errors every read throws pipeline_error "corrupt checkpoint state of
///         <what>: <detail> at byte N" (error_code::corrupt_state) on
///         truncated or invalid input (it never reads out of bounds).
class state_reader {
public:
  /// `what` names the state in errors (e.g. "operator reduce_by_key[1]").
  state_reader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}

  std::uint8_t u8();
  bool boolean();
  std::uint64_t varint();
  std::int64_t i64();
  std::uint64_t u64() { return static_cast<std::uint64_t>(i64()); }
  double f64();
  std::string str();
  value val();

  bool at_end() const noexcept { return pos_ == data_.size(); }
  std::size_t position() const noexcept { return pos_; }
  /// Bytes not read yet.
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  /// Every byte being decoded (checksums over a range already read).
  std::string_view data() const noexcept { return data_; }
  /// Throws the corrupt-state error with `detail` (error_code::corrupt_state).
  [[noreturn]] void fail(const std::string& detail) const;
  /// The same with another code: state_mismatch (a state of another
  /// operator or configuration), state_version (a format this build does not read).
  [[noreturn]] void fail(error_code code, const std::string& detail) const;
  /// Throws unless every byte was read (trailing garbage = corrupt).
  void expect_end() const;

private:
  void need(std::size_t n) const;
  value val_depth(int depth);
  std::string_view data_;
  std::size_t pos_ = 0;
  std::string what_;
};

}  // namespace weir
