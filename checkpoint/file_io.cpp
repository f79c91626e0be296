// weir — the checkpoint store's file I/O (detail/file_io.hpp): bounded
// reads, writes with fsync, O_DIRECT task files written straight from the
// snapshot's buffers, and the quota that makes a write fail as a full disk.
#include "weir/checkpoint/detail/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "weir/checkpoint/detail/contents.hpp"
#include "weir/checkpoint/format.hpp"
#include "weir/common/errno_text.hpp"
#include "weir/common/hash.hpp"

namespace weir::checkpoint::detail {

namespace {

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

}  // namespace

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

void write_whole_file(const fs::path& p, std::string_view data, quota& q, bool durable) {
  write_pieces(p, {data}, q, durable);
}

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
  const std::string head = format::header(raw, raw, 0);
  const std::string trailer = format::trailer(content_sum);
  // the whole file's checksum (the manifest's), over header, content, trailer
  cs.reset();
  cs.update(head);
  for (auto c : content) cs.update(c);
  cs.update(trailer);
  const std::uint64_t file_sum = cs.digest();
  std::vector<std::string_view> pieces;
  pieces.reserve(content.size() + 2);
  pieces.push_back(head);
  pieces.insert(pieces.end(), content.begin(), content.end());
  pieces.push_back(trailer);
  write_pieces(p, pieces, q, durable, /*direct=*/true);
  return {format::header_size + raw + format::trailer_size, file_sum};
}

}  // namespace weir::checkpoint::detail
