#include "weir/io/detail/epoch_file.hpp"

#include <algorithm>
#include <cerrno>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weir/common/errno_text.hpp"
#include "weir/common/test_hooks.hpp"
#include "weir/io/detail/file_writer.hpp"
#include "weir/operators/snapshot.hpp"
#include "weir/operators/stream_operator.hpp"

namespace weir::io::detail {
namespace {

constexpr std::uint8_t state_version = 1;

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

void fsync_dir(const std::string& dir) {
  int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d >= 0) {
    ::fsync(d);
    ::close(d);
  }
}

epoch_file::epoch_file(std::string path, std::string label)
    : path_(std::move(path)), dir_(path_ + ".weir-pending"), label_(std::move(label)) {}

epoch_file::~epoch_file() {
  if (fd_ >= 0) ::close(fd_);
}

void epoch_file::fail(const std::string& what, const std::string& file, int err) const {
  throw pipeline_error(label_ + ": " + what + " \"" + file + "\": " + errno_text(err));
}

std::string epoch_file::epoch_path(std::uint64_t seq) const { return dir_ + "/epoch-" + std::to_string(seq); }

void epoch_file::open(bool restoring) {
  if (!lock_) lock_ = lock_output(path_, label_);
  buf_.clear();
  buf_.reserve(buffer_bytes + (64u << 10));
  pending_.clear();
  size_ = 0;
  seq_ = 1;
  if (restoring) {
    // restore() decides what OUT keeps; until then (and if no state comes)
    // commits append after what OUT holds
    struct stat st {};
    committed_ = ::stat(path_.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    return;
  }
  remove_pending_except({});
  ::rmdir(dir_.c_str());
  int fd;
  do fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("cannot create", path_, errno);
  ::close(fd);
  committed_ = 0;
}

void epoch_file::flush() {
  if (buf_.empty()) return;
  if (fd_ < 0) {
    if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) fail("cannot create", dir_, errno);
    std::string p = epoch_path(seq_);
    do fd_ = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) fail("cannot create", p, errno);
  }
  if (!write_all(fd_, buf_.data(), buf_.size())) {
    // undo the partial write, so that a retry (the next flush) appends whole
    int err = errno;
    if (::ftruncate(fd_, static_cast<off_t>(size_)) == 0) ::lseek(fd_, static_cast<off_t>(size_), SEEK_SET);
    fail("cannot write", epoch_path(seq_), err);
  }
  size_ += buf_.size();
  buf_.clear();
}

void epoch_file::precommit_current(std::uint64_t id) {
  flush();
  if (fd_ < 0) return;  // nothing written in this epoch: nothing to commit
  if (::fsync(fd_) != 0) fail("cannot write", epoch_path(seq_), errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("cannot write", epoch_path(seq_), errno);
  fsync_dir(dir_);  // the pending file's name must survive a crash too
  pending_.push_back({seq_, id, size_});
  ++seq_;
  size_ = 0;
}

void epoch_file::snapshot(std::uint64_t id, state_writer& w) {
  precommit_current(id);
  for (auto& e : pending_)
    if (e.checkpoint == 0) e.checkpoint = id;
  w.u8(state_version);
  w.u64(committed_);
  w.varint(seq_);
  w.varint(pending_.size());
  for (auto& e : pending_) {
    w.varint(e.seq);
    w.varint(e.checkpoint);
    w.varint(e.size);
  }
}

void epoch_file::end_of_stream() { precommit_current(0); }

int epoch_file::open_out() {
  int fd;
  do fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("cannot open", path_, errno);
  return fd;
}

void epoch_file::append_epoch(const epoch& e, std::uint64_t at, bool crash_midway) {
  const std::string src = epoch_path(e.seq);
  int in;
  do in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  while (in < 0 && errno == EINTR);
  if (in < 0) fail("cannot open", src, errno);
  int out = open_out();
  auto close_both = [&] {
    ::close(in);
    ::close(out);
  };
  struct stat st {};
  if (::fstat(out, &st) != 0) {
    int err = errno;
    close_both();
    fail("cannot stat", path_, err);
  }
  if (static_cast<std::uint64_t>(st.st_size) != at && ::ftruncate(out, static_cast<off_t>(at)) != 0) {
    int err = errno;
    close_both();
    fail("cannot truncate", path_, err);
  }
  if (::lseek(out, static_cast<off_t>(at), SEEK_SET) < 0) {
    int err = errno;
    close_both();
    fail("cannot seek in", path_, err);
  }
  std::string chunk(std::min<std::uint64_t>(e.size, 1u << 20), '\0');
  const std::uint64_t half = e.size / 2;
  std::uint64_t done = 0;
  bool crashed_check = !crash_midway;
  while (done < e.size) {
    // stop at the half once, for the crash point
    std::uint64_t limit = (!crashed_check && done < half) ? half : e.size;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), limit - done));
    ssize_t n = ::pread(in, chunk.data(), want, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      close_both();
      fail(n < 0 ? "cannot read" : "pending file shorter than recorded:", src, err);
    }
    if (!write_all(out, chunk.data(), static_cast<std::size_t>(n))) {
      int err = errno;
      close_both();
      fail("cannot write", path_, err);
    }
    done += static_cast<std::uint64_t>(n);
    if (!crashed_check && done >= half) {
      crashed_check = true;
      crash_point("during_sink_commit");  // half of the epoch is in OUT, not synced
    }
  }
  if (::fsync(out) != 0) {
    int err = errno;
    close_both();
    fail("cannot write", path_, err);
  }
  close_both();
  committed_ = at + e.size;
  // only now: the bytes are durable in OUT
  if (::unlink(src.c_str()) != 0 && errno != ENOENT) fail("cannot remove", src, errno);
}

void epoch_file::commit(std::uint64_t id) {
  std::size_t done = 0;
  while (done < pending_.size() && pending_[done].checkpoint != 0 && pending_[done].checkpoint <= id) {
    if (pending_[done].size > 0) append_epoch(pending_[done], committed_, true);
    ++done;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
  if (pending_.empty() && fd_ < 0) ::rmdir(dir_.c_str());  // nothing pending: no folder left beside OUT
}

void epoch_file::restore(std::uint64_t id, state_reader& r) {
  std::uint8_t version = r.u8();
  if (version != state_version)
    r.fail("sink state version " + std::to_string(version) + ", expected " + std::to_string(state_version));
  const std::uint64_t base = r.u64();
  const std::uint64_t next_seq = r.varint();
  const std::uint64_t count = r.varint();
  std::vector<epoch> list;
  for (std::uint64_t i = 0; i < count; ++i) {
    epoch e;
    e.seq = r.varint();
    e.checkpoint = r.varint();
    e.size = r.varint();
    if (e.seq >= next_seq || e.checkpoint == 0 || e.checkpoint > id) r.fail("bad pre-committed epoch entry");
    list.push_back(e);
  }

  struct stat st {};
  std::uint64_t len = 0;
  if (::stat(path_.c_str(), &st) == 0) {
    len = static_cast<std::uint64_t>(st.st_size);
  } else if (errno != ENOENT) {
    fail("cannot stat", path_, errno);
  } else if (base > 0) {
    throw pipeline_error(label_ + ": \"" + path_ + "\" is missing; checkpoint " + std::to_string(id) +
                         " committed " + std::to_string(base) + " bytes to it");
  }
  if (len < base)
    throw pipeline_error(label_ + ": \"" + path_ + "\" holds " + std::to_string(len) + " bytes, fewer than the " +
                         std::to_string(base) + " committed by checkpoint " + std::to_string(id) +
                         " (was it modified?)");
  std::uint64_t pos = base;
  for (auto& e : list) {
    if (e.size == 0) continue;
    const std::string src = epoch_path(e.seq);
    struct stat ps {};
    if (::stat(src.c_str(), &ps) == 0) {
      if (static_cast<std::uint64_t>(ps.st_size) != e.size)
        throw pipeline_error(label_ + ": pending file \"" + src + "\" holds " + std::to_string(ps.st_size) +
                             " bytes, checkpoint " + std::to_string(id) + " pre-committed " +
                             std::to_string(e.size));
      append_epoch(e, pos, false);  // truncates OUT to pos first
      len = pos + e.size;
    } else if (errno != ENOENT) {
      fail("cannot stat", src, errno);
    } else if (len < pos + e.size) {
      throw pipeline_error(label_ + ": pending file \"" + src + "\" of checkpoint " + std::to_string(id) +
                           " is missing and \"" + path_ + "\" does not hold its " + std::to_string(e.size) +
                           " bytes");
    }
    // else: committed (fsynced into OUT) and removed before the crash
    pos += e.size;
  }
  int fd = open_out();
  if (len != pos && ::ftruncate(fd, static_cast<off_t>(pos)) != 0) {
    int err = errno;
    ::close(fd);
    fail("cannot truncate", path_, err);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    fail("cannot write", path_, err);
  }
  ::close(fd);
  committed_ = pos;
  pending_.clear();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  seq_ = next_seq;
  size_ = 0;
  buf_.clear();
  remove_pending_except({});  // epochs after checkpoint `id`: the replay writes them again
  ::rmdir(dir_.c_str());
}

void epoch_file::remove_pending_except(const std::vector<std::uint64_t>& keep) {
  DIR* d = ::opendir(dir_.c_str());
  if (!d) {
    if (errno == ENOENT) return;
    fail("cannot list", dir_, errno);
  }
  std::vector<std::string> doomed;
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name.rfind("epoch-", 0) != 0) continue;
    bool kept = false;
    for (auto s : keep) kept = kept || name == "epoch-" + std::to_string(s);
    if (!kept) doomed.push_back(dir_ + "/" + name);
  }
  ::closedir(d);
  for (auto& p : doomed)
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) fail("cannot remove", p, errno);
}

}  // namespace weir::io::detail
