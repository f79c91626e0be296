// weir — an exclusive lock on a path for the life of a run, so that two weir
// processes never write the same checkpoint directory or output file: a
// POSIX record lock (fcntl F_SETLK) on the whole of a lock file, which the
// kernel releases when the process ends in any way (kill -9 included), so a
// crash never leaves a stale lock behind, and which names its holder's pid
// (F_GETLK).
#pragma once

#include <stdexcept>
#include <string>

namespace weir {

/// Holds an exclusive lock on the file `path` (created if missing) from
/// construction to destruction. Never blocks. The lock belongs to the
/// process (POSIX record locks): two file_lock objects of one process on
/// one path do not exclude each other, and the first destroyed releases
/// both — one process is one weir run.
/// @thread One object per lock; not shared between threads.
class file_lock {
public:
  /// Another process holds the lock.
  class busy : public std::runtime_error {
  public:
    busy(const std::string& what, long holder) : std::runtime_error(what), pid(holder) {}
    long pid;  ///< the holder's pid as its lock file says, 0 if unknown
  };

  /// Takes the lock. `remove_at_release`: the destructor removes the lock
  /// file (a lock file beside a user's output should not outlive the run).
  /// @errors file_lock::busy "PATH is locked by pid N" when another process
  ///         holds it; std::system_error ("cannot create PATH", the errno)
  ///         when the file cannot be created or opened (e.g. a read-only
  ///         directory) or locked.
  explicit file_lock(std::string path, bool remove_at_release = false);
  ~file_lock();
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;

  const std::string& path() const noexcept { return path_; }

private:
  std::string path_;
  int fd_ = -1;
  bool remove_ = false;
};

}  // namespace weir
