#include "weir/io/detail/file_writer.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "weir/common/errno_text.hpp"
#include "weir/common/hash.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::io::detail {

std::unique_ptr<file_lock> lock_output(const std::string& path, const std::string& label) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  if (auto parent = fs::weakly_canonical(abs.parent_path(), ec); !ec) abs = parent / abs.filename();
  // one directory of lock files for the machine, named by a hash of the
  // output's absolute path: nothing appears beside the output
  const fs::path dir = fs::temp_directory_path(ec) / "weir-output-locks";
  if (::mkdir(dir.c_str(), 01777) == 0) ::chmod(dir.c_str(), 01777);  // every user's runs lock here
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.lock", static_cast<unsigned long long>(fnv1a64(abs.string())));
  try {
    return std::make_unique<file_lock>((dir / name).string(), /*remove_at_release=*/true);
  } catch (const file_lock::busy& e) {
    throw pipeline_error(label + ": \"" + path + "\" is being written by another weir process" +
                         (e.pid > 0 ? " (pid " + std::to_string(e.pid) + ")" : std::string()));
  } catch (const std::exception&) {
    return nullptr;  // no usable lock directory (another user's lock file): write unlocked
  }
}

file_writer::file_writer(std::string path, std::string label)
    : path_(std::move(path)), tmp_(path_ + ".tmp"), label_(std::move(label)) {}

file_writer::~file_writer() {
  if (fd_ >= 0) ::close(fd_);
}

void file_writer::fail(const std::string& what, int err) const {
  throw pipeline_error(label_ + ": " + what + ": " + errno_text(err));
}

void file_writer::fail_discarding(const std::string& what, int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  fail(what, err);
}

void file_writer::open() {
  if (!lock_) lock_ = lock_output(path_, label_);
  if (fd_ >= 0) ::close(fd_);
  do fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) fail("cannot create \"" + tmp_ + "\"", errno);
  buf_.clear();
  buf_.reserve(buffer_bytes + (64u << 10));
  committed_ = false;
}

void file_writer::flush() {
  if (fd_ < 0) throw pipeline_error(label_ + ": not open");
  std::size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_discarding("cannot write \"" + tmp_ + "\"", errno);
    }
    off += static_cast<std::size_t>(n);
  }
  buf_.clear();
}

void file_writer::commit() {
  if (committed_) return;
  flush();
  if (::fsync(fd_) != 0) fail_discarding("cannot write \"" + tmp_ + "\"", errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    fail("cannot write \"" + tmp_ + "\"", err);
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail("cannot rename \"" + tmp_ + "\" to \"" + path_ + "\"", errno);
  committed_ = true;
  // make the rename durable (some file systems refuse fsync on a directory)
  auto slash = path_.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d >= 0) {
    ::fsync(d);
    ::close(d);
  }
}

}  // namespace weir::io::detail
