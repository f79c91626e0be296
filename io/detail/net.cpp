#include "weir/io/detail/net.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include "weir/common/errno_text.hpp"
#include "weir/operators/log.hpp"

namespace weir::io {

std::string endpoint::str() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

endpoint parse_endpoint(std::string_view a, bool allow_empty_host, const std::string& what) {
  auto bad = [&]() -> pipeline_error {
    return pipeline_error(what + ": expected " + (allow_empty_host ? "host:port or :port" : "host:port") +
                          " (e.g. \"" + (allow_empty_host ? ":9999" : "localhost:9999") + "\"), got \"" +
                          std::string(a) + "\"");
  };
  endpoint ep;
  std::string_view port;
  if (!a.empty() && a.front() == '[') {
    auto close = a.find(']');
    if (close == std::string_view::npos || close + 1 >= a.size() || a[close + 1] != ':') throw bad();
    ep.host = std::string(a.substr(1, close - 1));
    if (ep.host.empty()) throw bad();
    port = a.substr(close + 2);
  } else {
    auto colon = a.rfind(':');
    if (colon == std::string_view::npos) throw bad();
    ep.host = std::string(a.substr(0, colon));
    if (ep.host.find(':') != std::string::npos) throw bad();  // IPv6 needs brackets
    port = a.substr(colon + 1);
  }
  if (ep.host.empty() && !allow_empty_host) throw bad();
  if (port.empty()) throw bad();
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc() || p != port.data() + port.size() || v > 65535 || (v == 0 && !allow_empty_host))
    throw pipeline_error(what + ": bad port \"" + std::string(port) + "\" in \"" + std::string(a) +
                         "\" (expected " + (allow_empty_host ? "0-65535" : "1-65535") + ")");
  ep.port = static_cast<std::uint16_t>(v);
  return ep;
}

}  // namespace weir::io

namespace weir::io::detail {

void segment_origin::add(std::shared_ptr<const std::string> name, std::uint64_t first_line,
                         std::size_t count) {
  if (count == 0) return;
  if (!segs_.empty() && segs_.back().name == name &&
      segs_.back().first_line + segs_.back().count == first_line) {
    segs_.back().count += count;
    return;
  }
  segs_.push_back({std::move(name), first_line, count});
}

std::string segment_origin::describe(std::size_t i) const {
  for (auto& s : segs_) {
    if (i < s.count) return *s.name + sep_ + std::to_string(s.first_line + i);
    i -= s.count;
  }
  return "unknown record";
}

conn_lines::conn_lines(std::string name, std::size_t max_line_bytes, std::size_t chunk_bytes)
    : name_(std::move(name)), max_line_(max_line_bytes), chunk_(std::max<std::size_t>(chunk_bytes, 16)) {}

std::size_t conn_lines::take(records& out, std::size_t max) {
  std::size_t got = 0;
  const char* base = buf_.get();
  if (discarding_) {  // the rest of a dropped over-long line
    const void* nl = std::memchr(base + begin_, '\n', end_ - begin_);
    if (!nl) {
      begin_ = scan_ = end_;
      return 0;
    }
    begin_ = scan_ = static_cast<std::size_t>(static_cast<const char*>(nl) - base) + 1;
    discarding_ = false;
  }
  while (got < max && scan_ < end_) {
    const void* nl = std::memchr(base + scan_, '\n', end_ - scan_);
    if (!nl) {
      scan_ = end_;
      break;
    }
    std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
    std::size_t len = pos - begin_;
    if (len > 0 && base[pos - 1] == '\r') --len;
    if (len > max_line_) {
      overlong_ = true;
      return got;
    }
    out.emplace_back(std::string_view(base + begin_, len));
    ++line_no_;
    ++got;
    begin_ = scan_ = pos + 1;
  }
  // a partial line (no '\n' in [begin_, end_)) that can no longer fit (+1 for a '\r')
  if (scan_ == end_ && end_ - begin_ > max_line_ + 1) overlong_ = true;
  return got;
}

void conn_lines::drop_overlong() {
  overlong_ = false;
  ++line_no_;
  const char* base = buf_.get();
  const void* nl = std::memchr(base + begin_, '\n', end_ - begin_);
  if (nl) {
    begin_ = scan_ = static_cast<std::size_t>(static_cast<const char*>(nl) - base) + 1;
  } else {
    begin_ = scan_ = end_;
    discarding_ = true;
  }
}

std::string conn_lines::overlong_reason() const {
  return "line longer than " + std::to_string(max_line_) + " bytes";
}

bool handle_overlong(conn_lines& l, const error_policy& p, const std::string& label, std::uint64_t& malformed) {
  const std::string where = l.name() + " line " + std::to_string(l.lines() + 1);
  if (p.action == on_error::fail) {
    ++malformed;
    warn(label + ": " + where + ": " + l.overlong_reason() + "; closing that connection");
    return false;
  }
  handle_bad_record(p, bad_record{l.overlong_head(), l.overlong_reason() + " (raw: its first " +
                                                         std::to_string(l.max_line_bytes()) + " bytes)", where},
                    malformed);
  l.drop_overlong();
  return true;
}

conn_lines::fill_status conn_lines::fill(int fd, const std::string& label) {
  if (begin_ == end_) begin_ = scan_ = end_ = 0;
  if (cap_ - end_ < chunk_) {
    if (begin_ > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      scan_ -= begin_;
      end_ -= begin_;
      begin_ = 0;
    }
    if (cap_ - end_ < chunk_) {
      std::size_t ncap = std::max(cap_ * 2, end_ + chunk_);
      auto nbuf = std::make_unique<char[]>(ncap);
      if (end_) std::memcpy(nbuf.get(), buf_.get(), end_);
      buf_ = std::move(nbuf);
      cap_ = ncap;
    }
  }
  // Read at most one chunk at a time: the buffer holds little beyond a line.
  std::size_t room = std::min(cap_ - end_, chunk_);
  ssize_t n;
  do n = ::recv(fd, buf_.get() + end_, room, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return fill_status::not_ready;
    throw pipeline_error(label + ": read error from " + name_ + ": " + errno_text(errno));
  }
  if (n == 0) return fill_status::eof;
  end_ += static_cast<std::size_t>(n);
  return fill_status::data;
}

std::string format_address(const sockaddr* sa, socklen_t len) {
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (::getnameinfo(sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "unknown peer";
  if (sa->sa_family == AF_INET6) return std::string("[") + host + "]:" + serv;
  return std::string(host) + ":" + serv;
}

std::vector<resolved> resolve(const endpoint& ep, bool passive, const std::string& what) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  std::string port = std::to_string(ep.port);
  int rc = ::getaddrinfo(ep.host.empty() ? nullptr : ep.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    std::string msg = rc == EAI_SYSTEM ? errno_text(errno) : ::gai_strerror(rc);
    throw pipeline_error(what + ": cannot resolve host '" + ep.host + "': " + msg);
  }
  std::vector<resolved> out;
  for (addrinfo* p = res; p; p = p->ai_next) {
    resolved r;
    std::memcpy(&r.addr, p->ai_addr, p->ai_addrlen);
    r.len = p->ai_addrlen;
    r.family = p->ai_family;
    out.push_back(r);
  }
  ::freeaddrinfo(res);
  // Passive with no host: prefer IPv4 0.0.0.0 (one socket; `[::]:p` for IPv6).
  if (passive && ep.host.empty())
    std::stable_partition(out.begin(), out.end(), [](const resolved& r) { return r.family == AF_INET; });
  if (out.empty()) throw pipeline_error(what + ": cannot resolve host '" + ep.host + "': no address");
  return out;
}

void warn(const std::string& msg) { weir::log_message(weir::log_level::warning, msg); }

}  // namespace weir::io::detail
