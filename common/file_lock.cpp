// weir::file_lock (file_lock.hpp): a POSIX record lock on the whole of a lock file.
#include "weir/common/file_lock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace weir {

file_lock::file_lock(std::string path, bool remove_at_release) : path_(std::move(path)), remove_(remove_at_release) {
  // A holder that removes its lock file at release may do so between our
  // open and our lock: then we hold a lock on a file no longer at `path`,
  // and open it again.
  for (int attempt = 0;; ++attempt) {
    int fd;
    do fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + path_);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    int r;
    do r = ::fcntl(fd, F_SETLK, &fl);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
      const int err = errno;
      if (err == EACCES || err == EAGAIN) {
        struct flock who {};
        who.l_type = F_WRLCK;
        who.l_whence = SEEK_SET;
        const long holder = ::fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK ? who.l_pid : 0;
        ::close(fd);
        throw busy(path_ + " is locked by " + (holder > 0 ? "pid " + std::to_string(holder) : "another process"),
                   holder);
      }
      ::close(fd);
      throw std::system_error(err, std::generic_category(), "cannot lock " + path_);
    }
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino) {
      fd_ = fd;
      return;
    }
    ::close(fd);
    if (attempt >= 100) throw std::runtime_error("cannot lock " + path_ + ": it keeps being replaced");
  }
}

file_lock::~file_lock() {
  if (fd_ < 0) return;
  if (remove_) ::unlink(path_.c_str());  // before the release: no one can lock the old file meanwhile
  ::close(fd_);
}

}  // namespace weir
