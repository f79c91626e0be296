// weir — buffered output to <path>.tmp, made visible under <path> by commit()
// (fsync, rename, fsync of the directory): a crash never leaves a
// half-written file under the final name, and a write that fails (a full
// disk) removes <path>.tmp, so the disk is not left full by it.
#pragma once

#include <memory>
#include <string>

#include "weir/common/file_lock.hpp"

namespace weir::io::detail {

/// Locks `path` as the output of the sink `label` for the life of the
/// returned lock (file_lock), so that no two weir processes write the same
/// output. The lock file is not beside the output: it is
/// TMPDIR/weir-output-locks/<hash of the absolute path>.lock, removed at
/// release. Returns nullptr when no lock can be taken there (e.g. another
/// user's lock file): the sink then writes unlocked.
/// @errors pipeline_error "<label>: \"<path>\" is being written by another
///         weir process (pid N)".
std::unique_ptr<file_lock> lock_output(const std::string& path, const std::string& label);

/// @errors every method throws pipeline_error "<label>: <what>: <strerror>".
/// @thread Not thread-safe.
class file_writer {
public:
  file_writer(std::string path, std::string label);
  ~file_writer();  ///< an uncommitted file stays as <path>.tmp
  file_writer(const file_writer&) = delete;
  file_writer& operator=(const file_writer&) = delete;

  /// Locks <path> (lock_output) and creates (truncates) <path>.tmp.
  void open();
  bool is_open() const noexcept { return fd_ >= 0; }
  /// The buffer to append to; call maybe_flush() after appending.
  std::string& buffer() noexcept { return buf_; }
  /// Writes the buffer out once it holds 1 MiB or more.
  void maybe_flush() {
    if (buf_.size() >= buffer_bytes) flush();
  }
  /// Hands the buffer to the kernel.
  void flush();
  /// flush, fsync, close, rename to <path>, fsync the directory (best
  /// effort). Once committed, further calls do nothing.
  void commit();
  /// Throws "<label>: <what>: <strerror>".
  [[noreturn]] void fail(const std::string& what, int err) const;

private:
  [[noreturn]] void fail_discarding(const std::string& what, int err);
  static constexpr std::size_t buffer_bytes = 1u << 20;
  std::string path_, tmp_, label_;
  int fd_ = -1;
  std::string buf_;
  bool committed_ = false;
  std::unique_ptr<file_lock> lock_;
};

}  // namespace weir::io::detail
