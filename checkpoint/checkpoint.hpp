// weir — checkpoints: what a checkpoint holds and the store that writes,
// keeps and loads them (docs/architecture.md §6: the asynchronous barrier
// snapshots of Carbone et al. 2015, "Lightweight Asynchronous Snapshots for
// Distributed Dataflows"; recovery is Spark's `StreamingContext.getOrCreate`).
// The store knows nothing of actors, barriers or timing: the runtime's
// checkpoint_coordinator (actors/checkpoint_coordinator.hpp, on a thread of
// its own) triggers checkpoints on its interval, collects a checkpoint_data
// from the tasks' snapshots (actors/task_snapshot.hpp) and calls
// store::write, which also prunes beyond `retain`; the job
// (actors/job.cpp) restores from store::load_latest at start.
//
// Layout of `--checkpoint DIR`:
//   DIR/chk-000000000007/          one folder per checkpoint (id, 12 digits)
//     task-S-I.bin                 one file per task (stage S, instance I)
//     MANIFEST                     written last (temp + fsync + rename)
//   DIR/weir.lock                  held (flock) by the run using DIR (store::claim)
// A checkpoint folder without a valid MANIFEST does not exist. Every file
// starts with a header (magic, format version, flags, sizes, header
// checksum) and ends with the xxh3-64 checksum of its content; task files
// may be zstd-compressed. The byte layout is in checkpoint/format.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace weir {
class file_lock;
}

namespace weir::checkpoint {

/// Storage format version written into every checkpoint file header. A
/// checkpoint with a higher version is refused with a clear error.
inline constexpr std::uint32_t format_version = 1;

/// A checkpoint that cannot be written (disk full, permissions) or read
/// (corrupt, from a newer weir). `what()` names the file and the reason.
class checkpoint_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The state of one operator of a task's chain, encoded by its
/// snapshot_state (see operators/snapshot.hpp).
struct operator_section {
  std::string name;   ///< node name, e.g. "reduce_by_key"
  std::string bytes;  ///< the operator's encoded state (may be empty)
};

/// The snapshot of one task (one parallel instance of a stage).
struct task_snapshot {
  int stage = 0;                ///< stage id in the physical plan
  int instance = 0;             ///< parallel instance
  std::string name;             ///< "file -> parse_log[0]" (for inspect and errors)
  bool finished = false;        ///< the task had ended its stream (final state)
  std::string runtime;          ///< the runtime's own state (batch clock, watermarks), encoded by actors/task_snapshot.cpp
  std::string source_position;  ///< the source's encoded position; empty without a source
  std::string source_describe;  ///< human-readable position, e.g. "x.txt: line 12, byte 345"
  std::vector<operator_section> operators;  ///< one per chain operator, in chain order
};

/// A complete checkpoint.
struct checkpoint_data {
  std::uint64_t id = 0;          ///< strictly increasing within a checkpoint directory
  std::int64_t timestamp_ms = 0; ///< when the coordinator triggered it (ms since the epoch)
  std::string plan;              ///< fingerprint of the physical plan (stage names and parallelism)
  bool final = false;            ///< taken at the end of a bounded run: every task finished
  std::vector<task_snapshot> tasks;
};

/// What `weir checkpoints list` shows of one checkpoint folder.
struct checkpoint_info {
  std::uint64_t id = 0;
  std::int64_t timestamp_ms = 0;
  std::uint64_t bytes = 0;       ///< total size of its files on disk
  std::size_t tasks = 0;
  bool final = false;
  bool valid = false;            ///< manifest and every file check out
  bool manifest = false;         ///< the MANIFEST was readable: timestamp_ms, tasks and final come from it
  std::string problem;           ///< why not valid ("MANIFEST missing", "task-1-0.bin: checksum mismatch")
  std::string path;              ///< the folder
};

struct store_options {
  std::string dir;        ///< the checkpoint directory (created if missing)
  int retain = 3;         ///< keep the newest K complete checkpoints (>= 1)
  bool compress = false;  ///< zstd level 1 for task files
  /// Quota on the bytes of all files under `dir` (0 = none): a write that
  /// would exceed it writes what fits, then fails as a full disk does
  /// (checkpoint_error "...: No space left on device (quota ...)"). When 0,
  /// a test program's test_hooks::checkpoint_quota may set one
  /// (common/test_hooks.hpp: full-disk tests without root).
  std::uint64_t max_bytes = 0;
  /// fsync every file and the directories (power-cut safe). false skips
  /// every fsync: a checkpoint still survives the process being killed
  /// (kill -9: the page cache stays), not a power cut or a kernel crash;
  /// for tests and benchmarks (an fsync costs 2-80 ms on a busy VM).
  bool durable = true;
};

/// The lock file of a checkpoint directory (store::claim).
inline constexpr const char* lock_file_name = "weir.lock";
/// The name store::claim's write probe starts with, on a file system
/// without O_TMPFILE (the probe is removed at once; a kill can leave one).
inline constexpr const char* probe_prefix = ".weir-probe-";
/// True for the lock file and the write probe: what claim() leaves in a
/// directory that holds no checkpoint.
bool is_lock_file(const std::string& name);

/// The checkpoint directory.
/// @thread One store per directory and process; not thread-safe.
class store {
public:
  /// @errors checkpoint_error when `dir` exists and is not a directory.
  explicit store(store_options o);
  ~store();
  store(store&&) noexcept;
  store& operator=(store&&) noexcept;

  /// Takes the directory for this process until the store is destroyed, as
  /// a run must before it restores or writes: creates the directory if
  /// missing, checks that a file can be created in it (a read-only directory
  /// fails the run at start, not at its first checkpoint), and takes an
  /// exclusive flock on DIR/weir.lock (holding the pid), which the kernel
  /// releases when the process ends in any way, kill -9 included. Listing
  /// and inspecting (`weir checkpoints`) need no claim.
  /// @errors checkpoint_error "checkpoint directory D is in use by another
  ///         weir process (pid N)", "checkpoint directory D is not writable:
  ///         <errno text>", "cannot create checkpoint directory D: ...".
  void claim();

  /// Writes checkpoint `c`: each task file (write, fsync), then the MANIFEST
  /// (temp, fsync, rename, fsync of the directory), then deletes checkpoints
  /// beyond the newest `retain` and folders of failed attempts. Retention
  /// counts "complete" folders (a readable MANIFEST of this format version,
  /// every listed file present with its size; checksums are not re-read) and
  /// deletes every other chk- folder older than the newest complete one,
  /// except one whose MANIFEST comes from a newer weir; nothing else in the
  /// directory is touched. `c.id` must be new (next_id()), tasks' (stage,
  /// instance) pairs distinct and >= 0.
  /// Crash points: "after_snapshot_write" (task files written, no manifest),
  /// "before_manifest_rename".
  /// @returns bytes written.
  /// @errors checkpoint_error (ENOSPC, EIO...) naming the file; the partial
  ///         folder is removed and earlier checkpoints are untouched.
  std::uint64_t write(const checkpoint_data& c);

  /// The newest valid checkpoint. A newer folder that is invalid (manifest
  /// missing, checksum mismatch, truncated) is skipped and reported through
  /// `warn` ("checkpoint 7 is corrupt (task-1-0.bin: checksum mismatch); using 6").
  /// @returns nullopt when no folder has a valid manifest.
  /// @errors checkpoint_error when the newest checkpoint with a manifest has a
  ///         format version from the future (refusing is safer than falling back).
  std::optional<checkpoint_data> load_latest(const std::function<void(const std::string&)>& warn);

  /// Every checkpoint folder, oldest first, validated (reads every file).
  /// A file with a checkpoint folder's name is listed, invalid ("not a
  /// directory"); entries with other names are ignored.
  std::vector<checkpoint_info> list() const;

  /// Loads one checkpoint by id, validated. @errors checkpoint_error.
  checkpoint_data load(std::uint64_t id) const;

  /// True when the directory is missing or holds nothing but its lock file
  /// (is_lock_file).
  bool empty() const;

  /// Id the next checkpoint should get: one more than the newest folder
  /// whose MANIFEST can be read (checkpoints, and also corrupt or newer-
  /// format ones), then past every folder name in use, so ids never repeat
  /// within a directory. A folder without a readable MANIFEST — a crashed
  /// attempt, or one named by hand like chk-999999999999 — never decides
  /// it (load_latest warns about such folders and skips them), so no such
  /// folder can push the ids past the 12-digit limit and wedge every later
  /// checkpoint.
  std::uint64_t next_id() const;
  /// The smallest id >= `id` that no folder (nor file) of the directory is
  /// named after: a run that restored past a gap of aborted attempts
  /// (chk-13 absent, chk-14 a crashed attempt) steps over chk-14 instead of
  /// failing on "already exists". Reads the directory on every call.
  std::uint64_t free_id_from(std::uint64_t id) const;

  const store_options& options() const noexcept { return o_; }

private:
  store_options o_;
  std::unique_ptr<file_lock> lock_;  // claim()
};

/// The physical plan's fingerprint for checkpoint_data::plan.
std::string plan_fingerprint(const std::vector<std::pair<std::string, int>>& stages);

/// Why checkpoint `cp` does not fit a run whose stages are `stages` (name,
/// parallelism), read from the tasks it holds: e.g. "stage 0 (file ->
/// flat_map) ran at parallelism 2 in the checkpoint, this run has 4", or
/// "the checkpoint has 3 stages, this run 4"; "stages or parallelism
/// changed" when the tasks do not tell.
std::string plan_difference(const checkpoint_data& cp, const std::vector<std::pair<std::string, int>>& stages);

}  // namespace weir::checkpoint
