// weir — internal: the two-phase-commit writer of a single-file sink
// (write_jsonl, write_csv) in a checkpointed run. Not part of the public API.
//
// The output between two checkpoint barriers is an *epoch*. It is written to
// a pending file beside the output, `OUT.weir-pending/epoch-S` (S = a
// sequence number of the sink instance), never to OUT itself:
//
//   pre-commit (snapshot_state n): flush + fsync the epoch's pending file,
//     record {S, n, size}; a new epoch starts. The state written for
//     checkpoint n holds the committed length of OUT and every pre-committed,
//     not yet committed epoch with its size.
//   commit (notify_checkpoint_complete n): for every pre-committed epoch of
//     a checkpoint <= n, in order, append its pending file to OUT, fsync OUT,
//     then remove the pending file. Idempotent.
//   recover (restore_state n): truncate OUT to what checkpoint n committed
//     and append the pre-committed epochs that are not (fully) in OUT yet;
//     delete every other pending file.
//
// Recovery is the truncate-based recovery of Flink's RecoverableWriter
// (RecoverableFsDataOutputStream: a ResumeRecoverable/CommitRecoverable holds
// the file and the valid length; recoverForCommit truncates to it), as used
// by the TwoPhaseCommitSinkFunction's recoverAndCommit. It relies on two
// invariants: a pending file is removed only after its bytes were fsynced
// into OUT, and epochs are appended in order, so OUT is always "the committed
// prefix" followed by at most one partially appended epoch and, after a
// fallback to an older checkpoint, bytes of later epochs (which the replay
// writes again).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "weir/common/file_lock.hpp"

namespace weir {
class state_writer;
class state_reader;
}  // namespace weir

namespace weir::io::detail {

/// @errors every method throws pipeline_error "<label>: <what> \"<file>\":
///         <strerror>" when a file cannot be created, written (ENOSPC, EFBIG),
///         synced, truncated or removed; restore throws pipeline_error when
///         OUT is shorter than the state says was committed or a pending file
///         needed for the commit is missing.
/// @thread Not thread-safe (one sink instance).
class epoch_file {
public:
  epoch_file(std::string path, std::string label);
  ~epoch_file();
  epoch_file(const epoch_file&) = delete;
  epoch_file& operator=(const epoch_file&) = delete;

  /// Locks OUT (lock_output in file_writer.hpp). Fresh run (`restoring`
  /// false): OUT is created empty (truncated) and stale pending files are
  /// removed. Restoring: OUT is left as it is (restore() decides what it keeps).
  void open(bool restoring);

  /// The buffer to append output to; call maybe_flush() after appending.
  std::string& buffer() noexcept { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= buffer_bytes) flush();
  }
  /// Hands the buffer to the kernel (the current epoch's pending file,
  /// created on first use).
  void flush();

  /// Pre-commits the current epoch and every epoch pre-committed at end of
  /// stream for checkpoint `id`, then writes the commit information.
  void snapshot(std::uint64_t id, state_writer& w);
  /// End of stream: pre-commits the current epoch; the next snapshot()
  /// (the final checkpoint) assigns it its checkpoint id. Cheap to repeat.
  void end_of_stream();
  /// Commits every epoch pre-committed for a checkpoint <= id. Idempotent.
  /// Calls crash_point("during_sink_commit") in the middle of each non-empty
  /// epoch's append (half of its bytes are in OUT, not synced).
  void commit(std::uint64_t id);
  /// Flink's recoverAndCommit for checkpoint `id` (see the file comment).
  void restore(std::uint64_t id, state_reader& r);

  const std::string& path() const noexcept { return path_; }
  const std::string& pending_dir() const noexcept { return dir_; }
  /// Bytes of OUT committed (as known by this instance).
  std::uint64_t committed_length() const noexcept { return committed_; }
  /// Pre-committed epochs not yet committed.
  std::size_t pending_epochs() const noexcept { return pending_.size(); }

private:
  struct epoch {
    std::uint64_t seq = 0;
    std::uint64_t checkpoint = 0;  ///< 0: pre-committed at end of stream, id given by the next snapshot
    std::uint64_t size = 0;
  };
  static constexpr std::size_t buffer_bytes = 1u << 20;

  [[noreturn]] void fail(const std::string& what, const std::string& file, int err) const;
  std::string epoch_path(std::uint64_t seq) const;
  void precommit_current(std::uint64_t id);
  /// Appends the pending file of `e` to OUT at offset `at` (truncating OUT
  /// there first), fsyncs OUT, removes the pending file.
  void append_epoch(const epoch& e, std::uint64_t at, bool crash_midway);
  int open_out();
  void remove_pending_except(const std::vector<std::uint64_t>& keep);

  std::string path_, dir_, label_;
  std::string buf_;
  int fd_ = -1;                 ///< current epoch's pending file, -1 = not created yet
  std::uint64_t seq_ = 1;       ///< sequence number of the current epoch
  std::uint64_t size_ = 0;      ///< bytes written to the current epoch
  std::uint64_t committed_ = 0; ///< committed length of OUT
  std::vector<epoch> pending_;  ///< pre-committed, not committed, in order
  std::unique_ptr<file_lock> lock_;
};

/// fsync of a directory (best effort: some file systems refuse it).
void fsync_dir(const std::string& dir);

}  // namespace weir::io::detail
