// Test helpers for the receivers: TCP servers and clients on 127.0.0.1, and a
// driver that pulls a source_reader as the runtime does (sleeping on idle).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>

#include "weir/io/source.hpp"

namespace weir::test {

/// A listening TCP socket on 127.0.0.1 (port chosen by the kernel).
struct tcp_server {
  int fd = -1;
  std::uint16_t port = 0;
  tcp_server() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0)
      throw std::runtime_error("test server: bind/listen failed");
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~tcp_server() {
    if (fd >= 0) ::close(fd);
  }
  /// Blocks until a client connects; returns its descriptor.
  int accept_one() const { return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

/// A port that was free a moment ago (bound to port 0, then released).
inline std::uint16_t free_port() {
  tcp_server s;
  return s.port;
}

/// A blocking client connection to 127.0.0.1:port (retries while refused, up to ~10 s).
inline int connect_to(std::uint16_t port) {
  for (int i = 0; i < 1000; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("test client: cannot connect to port " + std::to_string(port));
}

/// Writes all of `s` (blocking). Returns false if the peer went away.
inline bool write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

/// Pulls `src` as the runtime does until it returns end or `want` records
/// were read (0 = until end), sleeping retry_after on idle. Fails (throws)
/// after `guard` — a hang guard, not a timing assertion.
inline io::read_result::status pull(io::source_reader& src, records& out, std::size_t want = 0,
                                    std::size_t max = 1024,
                                    std::chrono::seconds guard = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + guard;
  for (;;) {
    auto r = src.read(out, max);
    if (r.st == io::read_result::status::end) return r.st;
    if (want > 0 && out.size() >= want) return r.st;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("pull: no end after the guard time; got " + std::to_string(out.size()));
    if (r.st == io::read_result::status::idle) std::this_thread::sleep_for(r.retry_after);
  }
}

}  // namespace weir::test
