// weir — buffered output to <path>.tmp, made visible under <path> by commit()
// (fsync, rename, fsync of the directory): a crash never leaves a
// half-written file under the final name.
#pragma once

#include <string>

namespace weir::io::detail {

/// @errors every method throws pipeline_error "<label>: <what>: <strerror>".
/// @thread Not thread-safe.
class file_writer {
public:
  file_writer(std::string path, std::string label);
  ~file_writer();  ///< an uncommitted file stays as <path>.tmp
  file_writer(const file_writer&) = delete;
  file_writer& operator=(const file_writer&) = delete;

  /// Creates (truncates) <path>.tmp.
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
  [[noreturn]] void fail(const std::string& what, int err) const;

private:
  static constexpr std::size_t buffer_bytes = 1u << 20;
  std::string path_, tmp_, label_;
  int fd_ = -1;
  std::string buf_;
  bool committed_ = false;
};

}  // namespace weir::io::detail
