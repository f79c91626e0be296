// weir — internal: buffered line splitting over a file descriptor, shared by
// the file and stdin receivers. Not part of the public API.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "weir/common/errno_text.hpp"
#include "weir/io/source.hpp"

namespace weir::io::detail {

/// Splits the bytes read from a file descriptor into lines.
///
/// Lines end with "\n" or "\r\n"; the terminator is stripped, every other byte
/// is kept unchanged (invalid UTF-8 included). A last line without a
/// terminator is still a line. Input is read with read(2) in chunks of
/// `chunk_bytes` (default 256 KiB) into one buffer that grows only as far as
/// the longest line needs (bounded by `max_line_bytes` plus two chunks).
///
/// The reader does not own the descriptor: the caller opens and closes it.
///
/// @errors `read` throws record_error "<name>:<line>: line longer than N bytes"
///         when a line (without terminator) exceeds max_line_bytes, and
///         pipeline_error "<label>: read error: <strerror>" when read(2) fails.
/// @thread Not thread-safe; one caller at a time.
class line_reader {
public:
  /// `label` prefixes pipeline errors (e.g. `file("x.txt")`); `name` is the
  /// input's name in record errors (e.g. `x.txt` → "x.txt:12: ...").
  line_reader(std::string label, std::string name, std::size_t max_line_bytes,
              std::size_t chunk_bytes = 256u << 10);

  /// Starts reading `fd` from its current position.
  void attach(int fd) noexcept { fd_ = fd; }

  /// Appends up to `max` lines to `out`.
  /// With `poll_first`, each read(2) is preceded by a zero-timeout poll(2) and
  /// skipped if the descriptor is not readable (stdin must never block).
  /// Returns `more` if at least one line was appended, `idle` (retry after
  /// `idle_retry`) if none was and no data is ready, and `end` once the input
  /// is exhausted and every line has been returned.
  read_result read(records& out, std::size_t max, bool poll_first,
                   std::chrono::nanoseconds idle_retry = std::chrono::milliseconds(2));

  /// Number of lines returned so far.
  std::uint64_t lines() const noexcept { return line_no_; }

  /// Byte offset (in the descriptor's input, counted from where reading
  /// started) just after the last line returned: where a reader positioned
  /// by `restart_at` continues with the next line.
  std::uint64_t offset() const noexcept { return base_ + begin_; }

  /// Drops the buffer and continues at `offset` (the caller has positioned
  /// the descriptor there) as line `lines + 1` (checkpoint restore).
  void restart_at(std::uint64_t offset, std::uint64_t lines) noexcept {
    base_ = offset;
    begin_ = scan_ = end_ = 0;
    eof_ = false;
    line_no_ = lines;
  }

private:
  enum class fill_status { data, eof, not_ready };
  bool next_line(records& out);  // extract one line from the buffer if complete
  fill_status fill(bool poll_first);
  [[noreturn]] void too_long() const;

  std::string label_, name_;
  std::size_t max_line_;
  std::size_t chunk_;
  int fd_ = -1;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;  // first unconsumed byte
  std::size_t scan_ = 0;   // bytes in [begin_, scan_) hold no '\n'
  std::size_t end_ = 0;    // end of valid data
  bool eof_ = false;
  std::uint64_t line_no_ = 0;
  std::uint64_t base_ = 0;  // input offset of buf_[0]
};

}  // namespace weir::io::detail
