// weir — internal: buffered line splitting over a file descriptor, shared by
// the file and stdin receivers. Not part of the public API.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
/// Lent lines (lend_lines()): the records a read appends are null
/// placeholders and the text of record i is lent()[i], in place in the
/// buffer, until the next read (or restart_at): no string value, no copy per
/// line. The first operator after a file source asks for this through
/// lines_origin when it never reads nor forwards the records themselves
/// (parse_json). Every line is followed by at least `padding` readable bytes
/// (the next lines, or zeros), the padding simdjson reads past a document.
/// The buffers are reused; a read that would have to move lent text to make
/// room swaps to a second buffer once, and otherwise ends early.
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

  /// Readable bytes after each lent line's end (at least SIMDJSON_PADDING).
  static constexpr std::size_t padding = 64;

  /// Starts reading `fd` from its current position.
  void attach(int fd) noexcept { fd_ = fd; }

  /// Appends up to `max` lines to `out`, stopping after the line that
  /// brings the text appended by this call to `read_bytes_bound` bytes
  /// (the result's bytes_full is then set).
  /// With `poll_first`, each read(2) is preceded by a zero-timeout poll(2) and
  /// skipped if the descriptor is not readable (stdin must never block).
  /// Returns `more` if at least one line was appended, `idle` (retry after
  /// `idle_retry`) if none was and no data is ready, and `end` once the input
  /// is exhausted (or the next line starts at the `stop_at` offset) and every
  /// line before has been returned.
  read_result read(records& out, std::size_t max, bool poll_first,
                   std::chrono::nanoseconds idle_retry = std::chrono::milliseconds(2));

  /// From the next read on, lend the lines in place (see the class comment).
  void lend_lines() noexcept { lend_ = true; }
  /// The text of each record of the last read when its lines were lent,
  /// else empty. Valid until the next read or restart_at.
  std::span<const std::string_view> lent() const noexcept { return lent_; }

  /// Number of lines returned so far.
  std::uint64_t lines() const noexcept { return line_no_; }

  /// Byte offset (in the descriptor's input, counted from where reading
  /// started) just after the last line returned: where a reader positioned
  /// by `restart_at` continues with the next line.
  std::uint64_t offset() const noexcept { return base_ + begin_; }

  /// Lines starting at or after byte `offset` (counted as offset() is) are
  /// not returned: read() ends there (a byte-range split of a file, Hadoop's
  /// TextInputFormat: a split owns the lines that start in it; its last
  /// line is read to its end past the split). Default: no limit.
  void stop_at(std::uint64_t offset) noexcept { stop_ = offset; }

  /// Drops the buffer and continues at `offset` (the caller has positioned
  /// the descriptor there) as line `lines + 1` (checkpoint restore).
  void restart_at(std::uint64_t offset, std::uint64_t lines) noexcept {
    base_ = offset;
    begin_ = scan_ = end_ = 0;
    eof_ = false;
    line_no_ = lines;
    lent_.clear();
  }

private:
  enum class fill_status { data, eof, not_ready, full };
  bool next_line(records& out, std::size_t& bytes);  // extract one line from the buffer if complete
  bool at_stop() const noexcept { return base_ + begin_ >= stop_; }
  fill_status fill(bool poll_first);
  [[noreturn]] void too_long() const;
  void make_room();         // room for a chunk after end_: compacts or grows the buffer
  bool make_room_lending();  // the same, keeping the text lent by this read; false if it cannot

  std::string label_, name_;
  std::size_t max_line_;
  std::size_t chunk_;
  int fd_ = -1;
  std::unique_ptr<char[]> buf_;  // cap_ + padding bytes
  std::size_t cap_ = 0;
  std::unique_ptr<char[]> spare_;  // lending: the buffer before a swap (holds lent text)
  std::size_t spare_cap_ = 0;
  bool lend_ = false;
  bool swapped_ = false;  // lending: this read swapped buffers once already
  std::vector<std::string_view> lent_;
  std::size_t begin_ = 0;  // first unconsumed byte
  std::size_t scan_ = 0;   // bytes in [begin_, scan_) hold no '\n'
  std::size_t end_ = 0;    // end of valid data
  bool eof_ = false;
  std::uint64_t stop_ = ~std::uint64_t{0};  // stop_at
  std::uint64_t line_no_ = 0;
  std::uint64_t base_ = 0;  // input offset of buf_[0]
};

/// The record_origin of a source whose records are lines of a line_reader
/// (file(...)): the first operator after the source may take the lines'
/// text in place instead of the records (line_reader::lend_lines). Only an
/// operator that never reads nor keeps the records themselves may ask.
/// @thread Called by the source's actor, between reads.
class lines_origin : public record_origin {
public:
  /// From the next read on, the records are placeholders and lent() holds
  /// their text. Idempotent.
  virtual void lend_lines() const = 0;
  /// The text of each record of the last read, when it was lent; else empty.
  virtual std::span<const std::string_view> lent() const = 0;
};

}  // namespace weir::io::detail
