// weir — internal to checkpoint/: the store's file I/O. Reads are bounded,
// writes create new files (O_EXCL) and fsync when durable, and every write
// counts against an optional quota that fails it as a full disk would.
// Implemented in file_io.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "weir/checkpoint/checkpoint.hpp"

namespace weir::checkpoint::detail {

namespace fs = std::filesystem;

/// One store::write's byte accounting against the quota.
struct quota {
  std::uint64_t limit = 0;  ///< bytes; 0 = none
  std::uint64_t used = 0;   ///< bytes under the checkpoint directory so far
  std::string source;       ///< what set the limit, named in the full-disk error
};

/// Reads a whole file, refusing one larger than `limit` bytes.
/// @errors checkpoint_error "NAME missing" / "NAME: <errno text>" / too large.
std::string read_file(const fs::path& p, const std::string& name, std::uint64_t limit);

/// Bytes of the regular files under `p` (or of `p` itself); 0 when unreadable.
std::uint64_t folder_bytes(const fs::path& p);

/// fsync of the directory `p` (nothing when not `durable`).
/// @errors checkpoint_error "cannot open|fsync WHAT P: <errno text>".
void fsync_path(const fs::path& p, const std::string& what, bool durable);

/// Writes `data` as the new file `p` (fsync when durable), against the quota.
/// @errors checkpoint_error "cannot create|write|fsync|close P: <errno text>",
///         ENOSPC with the quota's source when it is exceeded.
void write_whole_file(const fs::path& p, std::string_view data, quota& q, bool durable);

/// Writes task `t`'s file uncompressed, straight from the snapshot's buffers:
/// the same bytes as format::frame(encode_task(t), 0, false), without building
/// the ~50 MB content and file strings (two copies and their page faults).
/// With O_DIRECT where the file system allows it (not tmpfs) and no quota is
/// set: the bytes go from one reused aligned staging buffer per thread to the
/// disk, bypassing the page cache.
/// @returns {file size, xxh3-64 of the whole file} for the manifest.
/// @errors as write_whole_file.
std::pair<std::uint64_t, std::uint64_t> write_task_file(const fs::path& p, const task_snapshot& t, quota& q,
                                                        bool durable);

}  // namespace weir::checkpoint::detail
