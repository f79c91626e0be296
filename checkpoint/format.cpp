// weir — the framing of checkpoint files (format.hpp): header, optional zstd
// compression of the content, trailing checksum, and the checks that unframe
// a file read back.
#include "weir/checkpoint/format.hpp"

#include <cstring>

#include <zstd.h>

#include "weir/common/hash.hpp"

namespace weir::checkpoint::format {

static_assert(format_version >= 1);

namespace {

void put_u32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string decompress(std::string_view in, std::uint64_t raw_size, const std::string& name) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (!dctx) throw checkpoint_error(name + ": cannot create a zstd decompression context");
  std::string out;
  // Grow with the output actually produced: a lying raw_size never makes us
  // allocate more than the data decompresses to (plus one chunk).
  constexpr std::size_t chunk = 1 << 20;
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::size_t ret = 1;
  try {
    while (true) {
      std::size_t old = out.size();
      out.resize(old + chunk);
      ZSTD_outBuffer ob{out.data() + old, chunk, 0};
      ret = ZSTD_decompressStream(dctx, &ob, &ib);
      out.resize(old + ob.pos);
      if (ZSTD_isError(ret))
        throw checkpoint_error(name + ": corrupt zstd content (" + ZSTD_getErrorName(ret) + ")");
      if (out.size() > raw_size)
        throw checkpoint_error(name + ": zstd content decompresses to more than the " +
                               std::to_string(raw_size) + " bytes the header announces");
      if (ret == 0) break;  // frame complete
      if (ib.pos == ib.size && ob.pos < chunk)
        throw checkpoint_error(name + ": zstd content is truncated");
    }
  } catch (...) {
    ZSTD_freeDCtx(dctx);
    throw;
  }
  ZSTD_freeDCtx(dctx);
  if (ib.pos != ib.size)
    throw checkpoint_error(name + ": " + std::to_string(ib.size - ib.pos) + " bytes after the zstd frame");
  if (out.size() != raw_size)
    throw checkpoint_error(name + ": zstd content decompresses to " + std::to_string(out.size()) +
                           " bytes, the header announces " + std::to_string(raw_size));
  return out;
}


}  // namespace

std::uint64_t checksum(std::string_view bytes) noexcept { return xxh3_64(bytes); }

std::string header(std::uint64_t raw, std::uint64_t stored, std::uint32_t flags) {
  std::string out(header_size, '\0');
  std::memcpy(out.data(), magic, 8);
  put_u32(out.data() + 8, format_version);
  put_u32(out.data() + 12, flags);
  put_u64(out.data() + 16, raw);
  put_u64(out.data() + 24, stored);
  put_u64(out.data() + 32, checksum(std::string_view(out.data(), 32)));
  return out;
}

std::string trailer(std::uint64_t content_checksum) {
  std::string out(trailer_size, '\0');
  put_u64(out.data(), content_checksum);
  return out;
}

std::string frame(std::string_view content, std::uint32_t kind, bool compress) {
  std::string stored;
  std::uint32_t flags = kind;
  if (compress) {
    stored.resize(ZSTD_compressBound(content.size()));
    std::size_t n = ZSTD_compress(stored.data(), stored.size(), content.data(), content.size(), 1);
    if (ZSTD_isError(n)) throw checkpoint_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
    stored.resize(n);
    flags |= flag_zstd;
  }
  std::string_view body = compress ? std::string_view(stored) : content;
  std::string out = header(content.size(), body.size(), flags);
  out.reserve(header_size + body.size() + trailer_size);
  out.append(body.data(), body.size());
  out += trailer(checksum(body));
  return out;
}

std::string unframe(std::string_view file, std::uint32_t kind, const std::string& name) {
  if (file.size() < header_size + trailer_size)
    throw checkpoint_error(name + ": truncated (" + std::to_string(file.size()) + " bytes, a checkpoint file has at least " +
                           std::to_string(header_size + trailer_size) + ")");
  const char* p = file.data();
  if (std::memcmp(p, magic, 8) != 0) throw checkpoint_error(name + ": not a weir checkpoint file (bad magic)");
  if (get_u64(p + 32) != checksum(file.substr(0, 32))) throw checkpoint_error(name + ": header checksum mismatch");
  std::uint32_t version = get_u32(p + 8);
  if (version > format_version)
    throw future_version_error(name + ": written by a newer weir (format " + std::to_string(version) + " > " +
                                   std::to_string(format_version) + ")",
                               version);
  if (version == 0) throw checkpoint_error(name + ": invalid format version 0");
  std::uint32_t flags = get_u32(p + 12);
  if (flags & ~known_flags) throw checkpoint_error(name + ": unknown flags " + std::to_string(flags));
  if ((flags & flag_manifest) != kind)
    throw checkpoint_error(name + (kind ? ": is a task file, not a MANIFEST" : ": is a MANIFEST, not a task file"));
  std::uint64_t raw_size = get_u64(p + 16), stored_size = get_u64(p + 24);
  std::uint64_t holds = file.size() - header_size - trailer_size;
  if (stored_size != holds)
    throw checkpoint_error(name + ": truncated or extended (the header announces " + std::to_string(stored_size) +
                           " content bytes, the file holds " + std::to_string(holds) + ")");
  std::string_view body = file.substr(header_size, static_cast<std::size_t>(stored_size));
  if (get_u64(p + header_size + stored_size) != checksum(body)) throw checkpoint_error(name + ": checksum mismatch");
  if (flags & flag_zstd) return decompress(body, raw_size, name);
  if (raw_size != stored_size)
    throw checkpoint_error(name + ": uncompressed content of " + std::to_string(stored_size) +
                           " bytes, the header announces " + std::to_string(raw_size));
  return std::string(body);
}


}  // namespace weir::checkpoint::format
