// weir — the checkpoint store: framing (format.hpp), writing with fsync and
// an atomic manifest, validation, retention, loading with fallback.
#include "weir/checkpoint/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <zstd.h>

#include "weir/checkpoint/format.hpp"
#include "weir/common/errno_text.hpp"
#include "weir/common/hash.hpp"
#include "weir/operators/snapshot.hpp"

namespace weir::checkpoint {

static_assert(format_version >= 1);
namespace fs = std::filesystem;

// ---------------------------------------------------------------- framing

namespace format {

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

/// The 40-byte header of a file whose content is `raw` bytes, stored as
/// `stored` bytes with `flags` (layout in format.hpp).
static std::string header(std::uint64_t raw, std::uint64_t stored, std::uint32_t flags) {
  std::string out(header_size, '\0');
  std::memcpy(out.data(), magic, 8);
  put_u32(out.data() + 8, format_version);
  put_u32(out.data() + 12, flags);
  put_u64(out.data() + 16, raw);
  put_u64(out.data() + 24, stored);
  put_u64(out.data() + 32, checksum(std::string_view(out.data(), 32)));
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
  char sum[8];
  put_u64(sum, checksum(body));
  out.append(sum, 8);
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

}  // namespace format

// ---------------------------------------------------------------- helpers

namespace {

constexpr std::uint64_t max_id = 999'999'999'999ULL;  // 12 digits
constexpr std::uint64_t max_manifest_bytes = 64ULL << 20;
constexpr const char* manifest_name = "MANIFEST";
constexpr const char* manifest_tmp_name = "MANIFEST.tmp";

std::string folder_name(std::uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "chk-%012" PRIu64, id);
  return buf;
}

/// The id of a folder name "chk-" + 12 digits, or nullopt.
std::optional<std::uint64_t> parse_folder_name(const std::string& n) {
  if (n.size() != 16 || n.compare(0, 4, "chk-") != 0) return std::nullopt;
  std::uint64_t id = 0;
  for (std::size_t i = 4; i < n.size(); ++i) {
    if (n[i] < '0' || n[i] > '9') return std::nullopt;
    id = id * 10 + static_cast<std::uint64_t>(n[i] - '0');
  }
  return id;
}

std::string task_file_name(int stage, int instance) {
  return "task-" + std::to_string(stage) + "-" + std::to_string(instance) + ".bin";
}

/// "task-S-I.bin" with S, I decimal ints (no sign, no path separators).
bool parse_task_file_name(const std::string& n, int& stage, int& instance) {
  if (n.size() < 10 || n.compare(0, 5, "task-") != 0 || n.compare(n.size() - 4, 4, ".bin") != 0) return false;
  std::string mid = n.substr(5, n.size() - 9);
  auto dash = mid.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == mid.size()) return false;
  auto num = [](const std::string& s, int& out) {
    if (s.size() > 9) return false;
    long v = 0;
    for (char ch : s) {
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + (ch - '0');
    }
    out = static_cast<int>(v);
    return true;
  };
  return num(mid.substr(0, dash), stage) && num(mid.substr(dash + 1), instance);
}

/// Reads a whole file, refusing one larger than `limit` bytes.
/// @errors checkpoint_error "NAME missing" / "NAME: <strerror>" / too large.
std::string read_file(const fs::path& p, const std::string& name, std::uint64_t limit) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) throw checkpoint_error(name + " missing");
    throw checkpoint_error(name + ": " + errno_text(e));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw checkpoint_error(name + ": not a regular file");
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > limit) {
    ::close(fd);
    throw checkpoint_error(name + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(limit) +
                           " expected");
  }
  std::string buf(static_cast<std::size_t>(size), '\0');
  std::size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      throw checkpoint_error(name + ": " + errno_text(e));
    }
    if (n == 0) break;  // shrank meanwhile
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buf.resize(got);
  return buf;
}

struct manifest_entry {
  std::string file;
  std::uint64_t size = 0;
  std::uint64_t sum = 0;
};

struct manifest {
  std::uint64_t id = 0;
  std::int64_t timestamp_ms = 0;
  std::string plan;
  bool final = false;
  std::vector<manifest_entry> files;
};

std::string encode_manifest(const manifest& m) {
  state_writer w;
  w.u64(m.id);
  w.i64(m.timestamp_ms);
  w.str(m.plan);
  w.boolean(m.final);
  w.varint(m.files.size());
  for (auto& f : m.files) {
    w.str(f.file);
    w.u64(f.size);
    w.u64(f.sum);
  }
  return w.take();
}

/// Reads and checks DIR/chk-N/MANIFEST (not the task files).
manifest read_manifest(const fs::path& folder, std::uint64_t id) {
  std::string file = read_file(folder / manifest_name, manifest_name, max_manifest_bytes);
  std::string content = format::unframe(file, format::flag_manifest, manifest_name);
  manifest m;
  try {
    state_reader r(content, "MANIFEST");
    m.id = r.u64();
    m.timestamp_ms = r.i64();
    m.plan = r.str();
    m.final = r.boolean();
    std::uint64_t n = r.varint();
    if (n > content.size()) r.fail("count of " + std::to_string(n) + " task files runs past the end");
    std::set<std::string> seen;
    for (std::uint64_t i = 0; i < n; ++i) {
      manifest_entry e;
      e.file = r.str();
      e.size = r.u64();
      e.sum = r.u64();
      int s = 0, in = 0;
      if (!parse_task_file_name(e.file, s, in)) r.fail("bad task file name '" + e.file + "'");
      if (!seen.insert(e.file).second) r.fail("task file '" + e.file + "' listed twice");
      m.files.push_back(std::move(e));
    }
    r.expect_end();
  } catch (const pipeline_error& e) {
    throw checkpoint_error(std::string("MANIFEST: ") + e.what());
  }
  if (m.id != id)
    throw checkpoint_error("MANIFEST: belongs to checkpoint " + std::to_string(m.id) + ", found in the folder of " +
                           std::to_string(id));
  return m;
}

/// Task `t`'s content (format.hpp) in pieces: small encoded parts, kept in
/// `owned`, and views of the operator states between them (not copied).
std::vector<std::string_view> task_pieces(const task_snapshot& t, std::vector<std::string>& owned) {
  owned.clear();
  owned.reserve(t.operators.size() + 1);  // no reallocation: the views stay valid
  std::vector<std::string_view> content;
  state_writer w;
  w.varint(static_cast<std::uint64_t>(t.stage));
  w.varint(static_cast<std::uint64_t>(t.instance));
  w.str(t.name);
  w.boolean(t.finished);
  w.str(t.runtime);
  w.str(t.source_position);
  w.str(t.source_describe);
  w.varint(t.operators.size());
  for (auto& o : t.operators) {
    w.str(o.name);
    w.varint(o.bytes.size());
    owned.push_back(w.take());
    content.push_back(owned.back());
    content.push_back(o.bytes);
    w = state_writer();
  }
  if (w.size()) {
    owned.push_back(w.take());
    content.push_back(owned.back());
  }
  return content;
}

std::string encode_task(const task_snapshot& t) {
  std::vector<std::string> owned;
  auto pieces = task_pieces(t, owned);
  std::string out;
  std::size_t n = 0;
  for (auto p : pieces) n += p.size();
  out.reserve(n);
  for (auto p : pieces) out.append(p);
  return out;
}

task_snapshot decode_task(const std::string& content, const std::string& name) {
  task_snapshot t;
  try {
    state_reader r(content, name);
    std::uint64_t stage = r.varint(), instance = r.varint();
    if (stage > 0x7fffffff || instance > 0x7fffffff) r.fail("stage or instance out of range");
    t.stage = static_cast<int>(stage);
    t.instance = static_cast<int>(instance);
    t.name = r.str();
    t.finished = r.boolean();
    t.runtime = r.str();
    t.source_position = r.str();
    t.source_describe = r.str();
    std::uint64_t n = r.varint();
    if (n > content.size()) r.fail("count of " + std::to_string(n) + " operators runs past the end");
    t.operators.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      operator_section s;
      s.name = r.str();
      s.bytes = r.str();
      t.operators.push_back(std::move(s));
    }
    r.expect_end();
  } catch (const pipeline_error& e) {
    throw checkpoint_error(e.what());
  }
  return t;
}

/// Loads and checks every file of the folder: the manifest, then each task
/// file (size, whole-file checksum, framing, content).
/// @errors checkpoint_error naming the file (format::future_version_error
///         for a manifest from a newer weir).
checkpoint_data load_folder(const fs::path& folder, std::uint64_t id) {
  manifest m = read_manifest(folder, id);
  checkpoint_data c;
  c.id = m.id;
  c.timestamp_ms = m.timestamp_ms;
  c.plan = m.plan;
  c.final = m.final;
  for (auto& e : m.files) {
    std::error_code ec;
    auto on_disk = fs::file_size(folder / e.file, ec);
    if (!ec && on_disk != e.size)
      throw checkpoint_error(e.file + ": " + (on_disk < e.size ? "truncated (" : "") + std::to_string(on_disk) +
                             " bytes, the MANIFEST says " + std::to_string(e.size) + (on_disk < e.size ? ")" : ""));
    std::string file = read_file(folder / e.file, e.file, e.size);
    if (file.size() != e.size)
      throw checkpoint_error(e.file + ": truncated (" + std::to_string(file.size()) + " bytes, the MANIFEST says " +
                             std::to_string(e.size) + ")");
    if (format::checksum(file) != e.sum) throw checkpoint_error(e.file + ": checksum mismatch");
    std::string content;
    try {
      content = format::unframe(file, 0, e.file);
    } catch (const format::future_version_error& fe) {
      throw checkpoint_error(fe.what());  // a task file alone from the future: corrupt
    }
    task_snapshot t = decode_task(content, e.file);
    int s = 0, in = 0;
    parse_task_file_name(e.file, s, in);
    if (t.stage != s || t.instance != in)
      throw checkpoint_error(e.file + ": holds the state of task " + std::to_string(t.stage) + "-" +
                             std::to_string(t.instance));
    c.tasks.push_back(std::move(t));
  }
  return c;
}

/// Checkpoint folders (and stray files with a checkpoint name) by id.
std::map<std::uint64_t, fs::path> scan(const std::string& dir) {
  std::map<std::uint64_t, fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) return out;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    if (auto id = parse_folder_name(it->path().filename().string())) out[*id] = it->path();
  }
  return out;
}

std::uint64_t folder_bytes(const fs::path& p) {
  std::uint64_t total = 0;
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return fs::file_size(p, ec);
  fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return 0;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    std::error_code e2;
    if (it->is_regular_file(e2)) {
      auto s = it->file_size(e2);
      if (!e2) total += s;
    }
  }
  return total;
}

/// Cheap completeness check for retention: a readable manifest of our
/// version and every listed file present with its size (no checksums).
bool complete(const fs::path& folder, std::uint64_t id) {
  try {
    manifest m = read_manifest(folder, id);
    for (auto& e : m.files) {
      std::error_code ec;
      auto s = fs::file_size(folder / e.file, ec);
      if (ec || s != e.size) return false;
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool manifest_from_future(const fs::path& folder, std::uint64_t id) {
  try {
    read_manifest(folder, id);
  } catch (const format::future_version_error&) {
    return true;
  } catch (const std::exception&) {
  }
  return false;
}

void fsync_path(const fs::path& p, const std::string& what, bool durable) {
  if (!durable) return;
  int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw checkpoint_error("cannot open " + what + " " + p.string() + ": " + errno_text(errno));
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    throw checkpoint_error("cannot fsync " + what + " " + p.string() + ": " + errno_text(e));
  }
  ::close(fd);
}

/// One write() call's byte accounting against the quota.
struct quota {
  std::uint64_t limit = 0;  ///< 0 = none
  std::uint64_t used = 0;
  std::string source;
};

/// Direct I/O (O_DIRECT) alignment of buffers, sizes and offsets, bytes.
constexpr std::size_t direct_align = 4096;
/// Bytes staged per direct write.
constexpr std::size_t direct_chunk = std::size_t{8} << 20;

/// Writes `pieces` to `fd` through the page cache, counting each write()
/// against the quota (which fails the write as a full disk would).
template <class Fail>
void write_buffered(int fd, const std::vector<std::string_view>& pieces, quota& q, Fail&& fail) {
  for (std::string_view data : pieces) {
    std::size_t done = 0;
    while (done < data.size()) {
      std::size_t n = data.size() - done;
      bool over = false;
      if (q.limit) {
        std::uint64_t room = q.used >= q.limit ? 0 : q.limit - q.used;
        if (n > room) {
          n = static_cast<std::size_t>(room);
          over = true;
        }
      }
      if (n == 0 && over)
        fail("write", ENOSPC, " (quota of " + std::to_string(q.limit) + " bytes, " + q.source + ")");
      ssize_t w = ::write(fd, data.data() + done, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail("write", errno, "");
      done += static_cast<std::size_t>(w);
      q.used += static_cast<std::uint64_t>(w);
    }
  }
}

/// Writes `pieces` to `fd`, opened with O_DIRECT: the bytes go from an
/// aligned staging buffer to the disk, bypassing the page cache (no copy
/// into ~100 MB of fresh page-cache pages, no writeback and reclaim of them
/// later: the CPU the pipeline would lose). The last chunk is padded to the
/// alignment, then the file is truncated to its size.
template <class Fail>
void write_direct(int fd, const std::vector<std::string_view>& pieces, Fail&& fail) {
  // one staging buffer per thread (the coordinator's), kept for the next checkpoint
  struct staging {
    char* p = nullptr;
    ~staging() { std::free(p); }
  };
  static thread_local staging buf;
  if (!buf.p) {
    buf.p = static_cast<char*>(std::aligned_alloc(direct_align, direct_chunk));
    if (!buf.p) fail("allocate a staging buffer for", ENOMEM, "");
  }
  std::uint64_t total = 0;
  std::size_t fill = 0;
  auto flush = [&](std::size_t n) {  // n: a multiple of direct_align
    std::size_t done = 0;
    while (done < n) {
      ssize_t w = ::write(fd, buf.p + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail("write", errno, "");
      if (w == 0 || static_cast<std::size_t>(w) % direct_align != 0) fail("write", EIO, " (short direct write)");
      done += static_cast<std::size_t>(w);
    }
  };
  for (std::string_view piece : pieces) {
    total += piece.size();
    while (!piece.empty()) {
      std::size_t n = std::min(piece.size(), direct_chunk - fill);
      std::memcpy(buf.p + fill, piece.data(), n);
      fill += n;
      piece.remove_prefix(n);
      if (fill == direct_chunk) {
        flush(fill);
        fill = 0;
      }
    }
  }
  if (fill) {
    std::size_t padded = (fill + direct_align - 1) / direct_align * direct_align;
    std::memset(buf.p + fill, 0, padded - fill);
    flush(padded);
    if (::ftruncate(fd, static_cast<off_t>(total)) != 0) fail("truncate", errno, "");
  }
}

/// Writes the concatenation of `pieces` as the new file `p` (fsync when
/// durable). `direct`: with O_DIRECT where the file system allows it (not
/// tmpfs) and no quota is set (the quota counts the buffered path's writes).
void write_pieces(const fs::path& p, const std::vector<std::string_view>& pieces, quota& q, bool durable,
                  bool direct = false) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw checkpoint_error("cannot create " + p.string() + ": " + errno_text(errno));
  auto fail = [&](const std::string& what, int e, const std::string& extra) {
    ::close(fd);
    throw checkpoint_error("cannot " + what + " " + p.string() + ": " + errno_text(e) + extra);
  };
  if (direct && q.limit == 0) {
    const int fl = ::fcntl(fd, F_GETFL);
    direct = fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
  } else {
    direct = false;
  }
  if (direct) write_direct(fd, pieces, fail);
  else write_buffered(fd, pieces, q, fail);
  if (durable && ::fsync(fd) != 0) fail("fsync", errno, "");
  if (::close(fd) != 0) throw checkpoint_error("cannot close " + p.string() + ": " + errno_text(errno));
}

void write_whole_file(const fs::path& p, std::string_view data, quota& q, bool durable) {
  write_pieces(p, {data}, q, durable);
}

/// Writes task `t`'s file uncompressed, straight from the snapshot's buffers:
/// the same bytes as frame(encode_task(t), 0, false), without building the
/// ~50 MB content and file strings (two copies and their page faults).
/// @returns {file size, xxh3-64 of the whole file} for the manifest.
std::pair<std::uint64_t, std::uint64_t> write_task_file(const fs::path& p, const task_snapshot& t, quota& q,
                                                        bool durable) {
  std::vector<std::string> owned;
  const auto content = task_pieces(t, owned);
  std::uint64_t raw = 0;
  xxh3_64_stream cs;
  for (auto c : content) {
    raw += c.size();
    cs.update(c);
  }
  const std::uint64_t content_sum = cs.digest();
  std::string head = format::header(raw, raw, 0);
  char trailer[8];
  format::put_u64(trailer, content_sum);
  // the whole file's checksum (the manifest's), over header, content, trailer
  cs.reset();
  cs.update(head);
  for (auto c : content) cs.update(c);
  cs.update(std::string_view(trailer, 8));
  const std::uint64_t file_sum = cs.digest();
  std::vector<std::string_view> pieces;
  pieces.reserve(content.size() + 2);
  pieces.push_back(head);
  pieces.insert(pieces.end(), content.begin(), content.end());
  pieces.push_back(std::string_view(trailer, 8));
  write_pieces(p, pieces, q, durable, /*direct=*/true);
  return {format::header_size + raw + format::trailer_size, file_sum};
}

}  // namespace

// ---------------------------------------------------------------- store

store::store(store_options o) : o_(std::move(o)) {
  if (o_.dir.empty()) throw checkpoint_error("checkpoint directory: empty path");
  if (o_.retain < 1) throw checkpoint_error("checkpoint retention must keep at least 1 checkpoint, got " +
                                            std::to_string(o_.retain));
  std::error_code ec;
  auto st = fs::status(o_.dir, ec);
  if (!ec && fs::exists(st) && !fs::is_directory(st))
    throw checkpoint_error("checkpoint directory " + o_.dir + ": exists and is not a directory");
}

std::uint64_t store::write(const checkpoint_data& c) {
  const std::string label = "checkpoint " + std::to_string(c.id);
  if (c.id > max_id) throw checkpoint_error(label + ": id above " + std::to_string(max_id));
  quota q;
  q.limit = o_.max_bytes;
  q.source = "store_options::max_bytes";
  if (q.limit == 0) {
    if (const char* env = std::getenv("WEIR_CHECKPOINT_QUOTA_BYTES"); env && *env) {
      char* end = nullptr;
      errno = 0;
      unsigned long long v = std::strtoull(env, &end, 10);
      if (errno != 0 || *end != '\0' || env[0] == '-')
        throw checkpoint_error(std::string("WEIR_CHECKPOINT_QUOTA_BYTES: expected a number of bytes, got '") + env +
                               "'");
      q.limit = v;
      q.source = "WEIR_CHECKPOINT_QUOTA_BYTES";
    }
  }

  // Every task file name once (two tasks with one name would overwrite).
  std::set<std::pair<int, int>> ids;
  for (auto& t : c.tasks) {
    if (t.stage < 0 || t.instance < 0)
      throw checkpoint_error(label + ": negative stage or instance in task '" + t.name + "'");
    if (!ids.insert({t.stage, t.instance}).second)
      throw checkpoint_error(label + ": two tasks with stage " + std::to_string(t.stage) + " instance " +
                             std::to_string(t.instance));
  }

  std::error_code ec;
  fs::create_directories(o_.dir, ec);
  if (ec) throw checkpoint_error("cannot create checkpoint directory " + o_.dir + ": " + ec.message());
  if (q.limit) q.used = folder_bytes(o_.dir);

  fs::path folder = fs::path(o_.dir) / folder_name(c.id);
  if (::mkdir(folder.c_str(), 0755) != 0) {
    int e = errno;
    if (e == EEXIST) throw checkpoint_error(label + ": " + folder.string() + " already exists");
    throw checkpoint_error("cannot create " + folder.string() + ": " + errno_text(e));
  }
  std::uint64_t bytes = 0;
  try {
    manifest m;
    m.id = c.id;
    m.timestamp_ms = c.timestamp_ms;
    m.plan = c.plan;
    m.final = c.final;
    for (auto& t : c.tasks) {
      std::string name = task_file_name(t.stage, t.instance);
      if (o_.compress) {
        std::string file = format::frame(encode_task(t), 0, true);
        write_whole_file(folder / name, file, q, o_.durable);
        bytes += file.size();
        m.files.push_back({name, file.size(), format::checksum(file)});
      } else {
        auto [size, sum] = write_task_file(folder / name, t, q, o_.durable);
        bytes += size;
        m.files.push_back({name, size, sum});
      }
    }
    crash_point("after_snapshot_write");
    std::string mf = format::frame(encode_manifest(m), format::flag_manifest, false);
    write_whole_file(folder / manifest_tmp_name, mf, q, o_.durable);
    bytes += mf.size();
    crash_point("before_manifest_rename");
    if (::rename((folder / manifest_tmp_name).c_str(), (folder / manifest_name).c_str()) != 0)
      throw checkpoint_error("cannot rename " + (folder / manifest_tmp_name).string() + " to MANIFEST: " +
                             errno_text(errno));
    // The folder's entries (task files, MANIFEST) and the folder's own entry.
    // No fsync of the folder is needed before the rename: a MANIFEST that
    // became durable before a task file's entry names a missing file, which
    // loading reports as corrupt (never silently wrong).
    fsync_path(folder, "checkpoint folder", o_.durable);
    fsync_path(o_.dir, "checkpoint directory", o_.durable);
  } catch (const checkpoint_error& e) {
    fs::remove_all(folder, ec);
    throw checkpoint_error(label + " failed: " + e.what());
  } catch (...) {
    fs::remove_all(folder, ec);
    throw;
  }

  // Retention: keep the newest `retain` complete checkpoints; delete older
  // complete ones and every incomplete folder older than the newest complete
  // one (failed or crashed attempts). A manifest from a newer weir is left
  // alone. Deletion failures do not fail the checkpoint just written.
  auto folders = scan(o_.dir);
  int kept = 0;
  std::optional<std::uint64_t> newest_complete;
  for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
    auto [id, path] = *it;
    if (complete(path, id)) {
      if (!newest_complete) newest_complete = id;
      if (++kept > o_.retain) fs::remove_all(path, ec);
    } else if (newest_complete && id < *newest_complete && fs::is_directory(path, ec) &&
               !manifest_from_future(path, id)) {
      fs::remove_all(path, ec);
    }
  }
  return bytes;
}

checkpoint_data store::load(std::uint64_t id) const {
  fs::path folder = fs::path(o_.dir) / folder_name(id);
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw checkpoint_error("checkpoint " + std::to_string(id) + " not found in " + o_.dir);
  try {
    return load_folder(folder, id);
  } catch (const format::future_version_error& e) {
    throw format::future_version_error("checkpoint " + std::to_string(id) + " was written by a newer weir (format " +
                                           std::to_string(e.version) + " > " + std::to_string(format_version) + ")",
                                       e.version);
  } catch (const checkpoint_error& e) {
    throw checkpoint_error("checkpoint " + std::to_string(id) + " is invalid: " + e.what());
  }
}

std::optional<checkpoint_data> store::load_latest(const std::function<void(const std::string&)>& warn) {
  auto folders = scan(o_.dir);
  std::vector<std::pair<std::uint64_t, std::string>> skipped;  // id, problem
  std::optional<checkpoint_data> found;
  for (auto it = folders.rbegin(); it != folders.rend() && !found; ++it) {
    auto [id, path] = *it;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      skipped.push_back({id, "not a directory"});
      continue;
    }
    try {
      found = load_folder(path, id);
    } catch (const format::future_version_error& e) {
      throw checkpoint_error("checkpoint " + std::to_string(id) + " was written by a newer weir (format " +
                             std::to_string(e.version) + " > " + std::to_string(format_version) + ")");
    } catch (const checkpoint_error& e) {
      skipped.push_back({id, e.what()});
    }
  }
  if (warn) {
    std::string tail = found ? "; using " + std::to_string(found->id) : "; no valid checkpoint left";
    for (auto& [id, problem] : skipped) {
      bool incomplete = problem == std::string(manifest_name) + " missing";
      warn("checkpoint " + std::to_string(id) + (incomplete ? " is incomplete (" : " is corrupt (") + problem + ")" +
           tail);
    }
  }
  return found;
}

std::vector<checkpoint_info> store::list() const {
  std::vector<checkpoint_info> out;
  for (auto& [id, path] : scan(o_.dir)) {
    checkpoint_info i;
    i.id = id;
    i.path = path.string();
    i.bytes = folder_bytes(path);
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      i.problem = "not a directory";
    } else {
      try {
        checkpoint_data c = load_folder(path, id);
        i.timestamp_ms = c.timestamp_ms;
        i.tasks = c.tasks.size();
        i.final = c.final;
        i.valid = true;
        i.manifest = true;
      } catch (const checkpoint_error& e) {
        i.problem = e.what();
        // What the manifest says, when it is readable (time, tasks).
        try {
          manifest m = read_manifest(path, id);
          i.timestamp_ms = m.timestamp_ms;
          i.tasks = m.files.size();
          i.final = m.final;
          i.manifest = true;
        } catch (const std::exception&) {
        }
      }
    }
    out.push_back(std::move(i));
  }
  return out;
}

bool store::empty() const {
  std::error_code ec;
  if (!fs::exists(o_.dir, ec)) return true;
  return fs::is_empty(o_.dir, ec);
}

std::uint64_t store::next_id() const {
  auto folders = scan(o_.dir);
  return folders.empty() ? 1 : folders.rbegin()->first + 1;
}

std::string plan_fingerprint(const std::vector<std::pair<std::string, int>>& stages) {
  state_writer w;
  w.varint(stages.size());
  for (auto& [name, par] : stages) {
    w.str(name);
    w.varint(static_cast<std::uint64_t>(par < 0 ? 0 : par));
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu stages, xxh3 %016" PRIx64, stages.size(), format::checksum(w.bytes()));
  return buf;
}

}  // namespace weir::checkpoint
