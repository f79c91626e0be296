// weir — internal to checkpoint/: what a checkpoint folder's files hold before
// framing (format.hpp frames them): the names of folders and files, a task
// file's content and the MANIFEST's. Implemented in contents.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/checkpoint/checkpoint.hpp"

namespace weir::checkpoint::detail {

namespace fs = std::filesystem;

inline constexpr std::uint64_t max_id = 999'999'999'999ULL;  ///< a folder name has 12 digits
inline constexpr std::uint64_t max_manifest_bytes = 64ULL << 20;
inline constexpr const char* manifest_name = "MANIFEST";
inline constexpr const char* manifest_tmp_name = "MANIFEST.tmp";

/// "chk-000000000007" for id 7.
std::string folder_name(std::uint64_t id);
/// The id of a folder name "chk-" + 12 digits, or nullopt.
std::optional<std::uint64_t> parse_folder_name(const std::string& n);
/// "task-S-I.bin".
std::string task_file_name(int stage, int instance);
/// "task-S-I.bin" with S, I decimal ints (no sign, no path separators).
bool parse_task_file_name(const std::string& n, int& stage, int& instance);

/// One task file as the MANIFEST lists it.
struct manifest_entry {
  std::string file;
  std::uint64_t size = 0;  ///< bytes of the whole file
  std::uint64_t sum = 0;   ///< xxh3-64 of the whole file
};

/// The MANIFEST's content (layout in format.hpp).
struct manifest {
  std::uint64_t id = 0;
  std::int64_t timestamp_ms = 0;
  std::string plan;
  bool final = false;
  std::vector<manifest_entry> files;
};

/// The MANIFEST's content, unframed.
std::string encode_manifest(const manifest& m);

/// Reads and checks DIR/chk-N/MANIFEST (not the task files).
/// @errors format::future_version_error for a MANIFEST from a newer weir;
///         checkpoint_error "MANIFEST: ..." for a missing, corrupt or
///         misplaced one (an id other than the folder's).
manifest read_manifest(const fs::path& folder, std::uint64_t id);

/// Task `t`'s content (format.hpp) in pieces: small encoded parts, kept in
/// `owned`, and views of the operator states between them (not copied).
std::vector<std::string_view> task_pieces(const task_snapshot& t, std::vector<std::string>& owned);

/// Task `t`'s content in one string (the pieces concatenated).
std::string encode_task(const task_snapshot& t);

/// Decodes a task file's content; `name` (the file's) prefixes errors.
/// @errors checkpoint_error for content that does not decode exactly.
task_snapshot decode_task(const std::string& content, const std::string& name);

}  // namespace weir::checkpoint::detail
