#include "weir/io/detail/line_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <unistd.h>

namespace weir::io::detail {

line_reader::line_reader(std::string label, std::string name, std::size_t max_line_bytes,
                         std::size_t chunk_bytes)
    : label_(std::move(label)),
      name_(std::move(name)),
      max_line_(max_line_bytes),
      chunk_(std::max<std::size_t>(chunk_bytes, 16)) {}

void line_reader::too_long() const {
  throw record_error(name_ + ":" + std::to_string(line_no_ + 1) + ": line longer than " +
                     std::to_string(max_line_) + " bytes");
}

bool line_reader::next_line(records& out, std::size_t& bytes) {
  const char* base = buf_.get();
  std::size_t avail = end_ - scan_;
  const void* nl = avail ? std::memchr(base + scan_, '\n', avail) : nullptr;
  std::size_t len;
  std::size_t next;
  if (nl) {
    std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
    len = pos - begin_;
    if (len > 0 && base[pos - 1] == '\r') --len;
    next = pos + 1;
  } else {
    scan_ = end_;
    // Fail early on a partial line that can no longer fit (+1 for a '\r').
    if (end_ - begin_ > max_line_ + 1 || (eof_ && end_ - begin_ > max_line_)) too_long();
    if (!eof_ || begin_ == end_) return false;
    len = end_ - begin_;  // last line without terminator
    next = end_;
  }
  if (len > max_line_) too_long();
  if (lend_) {
    out.emplace_back();
    lent_.emplace_back(base + begin_, len);
  } else {
    out.emplace_back(std::string_view(base + begin_, len));
  }
  ++line_no_;
  bytes += len;
  begin_ = scan_ = next;
  return true;
}

void line_reader::make_room() {
  // Move the partial line to the front, grow if still short.
  if (begin_ > 0) {
    base_ += begin_;
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    scan_ -= begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  if (cap_ - end_ < chunk_) {
    std::size_t ncap = std::max(cap_ * 2, end_ + chunk_);
    auto nbuf = std::make_unique<char[]>(ncap + padding);  // zeroed: the padding is defined
    if (end_) std::memcpy(nbuf.get(), buf_.get(), end_);
    buf_ = std::move(nbuf);
    cap_ = ncap;
  }
}

bool line_reader::make_room_lending() {
  // The text before begin_ is lent until the next read: the partial line
  // goes to the front of the other buffer instead, once per read.
  if (swapped_) return false;
  const std::size_t partial = end_ - begin_;
  const std::size_t need = std::max(cap_, partial + chunk_);
  if (spare_cap_ < need) {
    spare_ = std::make_unique<char[]>(need + padding);
    spare_cap_ = need;
  }
  if (partial) std::memcpy(spare_.get(), buf_.get() + begin_, partial);
  std::swap(buf_, spare_);
  std::swap(cap_, spare_cap_);
  base_ += begin_;
  scan_ -= begin_;
  end_ = partial;
  begin_ = 0;
  swapped_ = true;
  return true;
}

line_reader::fill_status line_reader::fill(bool poll_first) {
  if (poll_first) {
    pollfd p{fd_, POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) throw pipeline_error(label_ + ": poll error: " + errno_text(errno));
    if (r == 0) return fill_status::not_ready;
    // POLLIN, POLLHUP or POLLERR: read(2) tells which.
  }
  if (lent_.empty()) {
    if (begin_ == end_) {
      base_ += end_;
      begin_ = scan_ = end_ = 0;
    }
    if (cap_ - end_ < chunk_) make_room();
  } else if (cap_ - end_ < chunk_ && !make_room_lending()) {
    return fill_status::full;
  }
  ssize_t n;
  do n = ::read(fd_, buf_.get() + end_, cap_ - end_);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return fill_status::not_ready;
    throw pipeline_error(label_ + ": read error: " + errno_text(errno));
  }
  if (n == 0) {
    eof_ = true;
    return fill_status::eof;
  }
  end_ += static_cast<std::size_t>(n);
  return fill_status::data;
}

read_result line_reader::read(records& out, std::size_t max, bool poll_first,
                              std::chrono::nanoseconds idle_retry) {
  std::size_t got = 0, bytes = 0;
  lent_.clear();  // the previous read's text is no longer used
  swapped_ = false;
  while (got < max) {
    if (at_stop()) break;
    if (next_line(out, bytes)) {
      ++got;
      if (bytes >= read_bytes_bound && got < max) return {read_result::status::more, {}, true};
      continue;
    }
    if (eof_) break;
    const fill_status f = fill(poll_first);
    if (f == fill_status::full) break;  // got > 0: lent text fills both buffers
    if (f == fill_status::not_ready) {
      if (got > 0) break;
      return {read_result::status::idle, idle_retry};
    }
  }
  if (got == 0 && (at_stop() || (eof_ && begin_ == end_))) return {read_result::status::end, {}};
  return {read_result::status::more, {}};
}

}  // namespace weir::io::detail
