// weir — the on-disk framing of checkpoint files (task files and MANIFEST),
// docs/architecture.md §6. Implemented in format.cpp and used by the store;
// public so that tools and tests can read the layout.
//
// Every checkpoint file is, all integers little-endian:
//
//   offset  size  field
//   0       8     magic "WEIRCKPT"
//   8       4     format_version (u32; checkpoint::format_version when written)
//   12      4     flags (u32): bit 0 = content is zstd-compressed (level 1),
//                 bit 1 = this file is a MANIFEST (else a task file);
//                 other bits must be 0
//   16      8     raw_size: bytes of the content once decompressed
//   24      8     stored_size: bytes of content that follow the header
//   32      8     xxh3-64 of bytes 0..31 (the header checksum: a flipped bit in
//                 the header reads as corruption, never as another version)
//   40      S     the stored content (S = stored_size)
//   40+S    8     xxh3-64 of the stored content
//
// The first 40 bytes keep this layout in every future format version, so an
// older weir can tell "written by a newer weir" from "corrupt".
//
// Task file content (operators/snapshot.hpp's state_writer encoding):
//   varint stage, varint instance, str name, bool finished, str runtime,
//   str source_position, str source_describe, varint n, n x (str name, str bytes)
// MANIFEST content:
//   u64 id, i64 timestamp_ms, str plan, bool final,
//   varint n, n x (str file name "task-S-I.bin", u64 file size, u64 xxh3-64 of the whole file)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "weir/checkpoint/checkpoint.hpp"

namespace weir::checkpoint::format {

inline constexpr char magic[8] = {'W', 'E', 'I', 'R', 'C', 'K', 'P', 'T'};
inline constexpr std::size_t header_size = 40;
inline constexpr std::size_t trailer_size = 8;
inline constexpr std::uint32_t flag_zstd = 1u << 0;
inline constexpr std::uint32_t flag_manifest = 1u << 1;
inline constexpr std::uint32_t known_flags = flag_zstd | flag_manifest;

/// Thrown (a checkpoint_error) by unframe() for a file whose valid header
/// carries a format version above checkpoint::format_version.
class future_version_error : public checkpoint_error {
public:
  future_version_error(const std::string& what, std::uint32_t v) : checkpoint_error(what), version(v) {}
  std::uint32_t version;
};

/// The 40-byte header of a file whose content is `raw` bytes, stored as
/// `stored` bytes with `flags` (flag_zstd, flag_manifest), this build's
/// format_version and the header checksum.
std::string header(std::uint64_t raw, std::uint64_t stored, std::uint32_t flags);

/// The 8-byte trailer: `content_checksum` (checksum() of the stored content),
/// little-endian.
std::string trailer(std::uint64_t content_checksum);

/// Frames `content` into a whole file: header, content (zstd level 1 when
/// `compress`), checksum. `kind` is 0 for a task file or flag_manifest.
/// @errors checkpoint_error when zstd fails.
std::string frame(std::string_view content, std::uint32_t kind, bool compress);

/// Checks and unframes a whole file's bytes; returns the (decompressed)
/// content. `name` prefixes every error ("task-1-0.bin: checksum mismatch").
/// Never reads out of bounds; allocates no more than the file's size, or
/// for zstd content no more than the decompressed bytes actually produced
/// (bounded by raw_size).
/// @errors future_version_error (valid header, version > format_version);
///         checkpoint_error for anything else (truncated, bad magic,
///         header or content checksum mismatch, unknown flags, wrong kind,
///         zstd error, size mismatch).
std::string unframe(std::string_view file, std::uint32_t kind, const std::string& name);

/// xxh3-64 of `bytes` (the checksum used everywhere in the format).
std::uint64_t checksum(std::string_view bytes) noexcept;

}  // namespace weir::checkpoint::format
