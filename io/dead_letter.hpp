// weir — the dead-letter file of the `on_error = dead_letter(path)` policy
// (docs/architecture.md §9): one JSON line per bad record.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "weir/operators/error_policy.hpp"

namespace weir::io {

/// Appends bad records to a file, one JSON object per line:
///   {"raw": "<the raw bytes>", "reason": "<why>", "provenance": "<where>"}\n
/// `raw` keeps the record's bytes; when they are not valid UTF-8 (which a
/// JSON string cannot hold: `raw` then shows U+FFFD for each invalid byte,
/// as in every JSON weir writes) the line also has "raw_base64": the exact
/// bytes, base64 (RFC 4648, with padding). `provenance` is file:line,
/// topic/partition/offset, a peer address or "record N".
///
/// The file is created (truncated) at the first bad record — a run without
/// bad records leaves no file — and each line is handed to the kernel with a
/// single write(2) as soon as it is recorded, so a crash loses no record
/// already reported and never leaves a partial line except on a failing disk.
/// fdatasync at destruction. Not a transactional sink: records are
/// at-least-once across restarts.
/// @thread write() is safe from several operator instances at once (a mutex).
/// @errors write() throws pipeline_error "dead_letter(\"PATH\"): ..." when the
///         file cannot be created or written (the pipeline stops).
class dead_letter_file {
public:
  explicit dead_letter_file(std::string path);
  ~dead_letter_file();
  dead_letter_file(const dead_letter_file&) = delete;
  dead_letter_file& operator=(const dead_letter_file&) = delete;

  void write(const bad_record& r);
  /// Records written so far.
  std::uint64_t written() const;
  const std::string& path() const noexcept { return path_; }

private:
  std::string path_;
  mutable std::mutex mu_;
  int fd_ = -1;
  std::uint64_t written_ = 0;
  std::string line_;
};

/// The policy `on_error = dead_letter(path)`, writing to `file`. Share one
/// dead_letter_file between all decoders that name the same path.
error_policy dead_letter_policy(std::shared_ptr<dead_letter_file> file);

/// Convenience: a policy with a new dead_letter_file for `path`.
error_policy dead_letter_policy(std::string path);

}  // namespace weir::io
