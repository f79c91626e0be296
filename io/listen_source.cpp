// listen(":port"): a TCP server yielding the lines of every connection,
// never blocking (see sources.hpp).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <vector>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weir/common/errno_text.hpp"
#include "weir/io/detail/net.hpp"
#include "weir/io/sources.hpp"

namespace weir::io {
namespace {

constexpr std::chrono::milliseconds idle_retry{1};

class listen_source final : public source_reader {
public:
  listen_source(std::string address, listen_options o)
      : address_(std::move(address)), opts_(o), origin_(" line ") {}
  ~listen_source() override { close(); }

  void open() override {
    close();
    endpoint ep = parse_endpoint(address_, /*allow_empty_host=*/true, describe());
    auto addrs = detail::resolve(ep, /*passive=*/true, describe());
    const auto& a = addrs.front();
    std::string where = detail::format_address(reinterpret_cast<const sockaddr*>(&a.addr), a.len);
    int fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw pipeline_error(describe() + ": cannot create a socket: " + errno_text(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 || ::listen(fd, 128) != 0) {
      int err = errno;
      ::close(fd);
      throw pipeline_error(describe() + ": cannot listen on " + where + ": " + errno_text(err));
    }
    lfd_ = fd;
  }

  read_result read(records& out, std::size_t max) override {
    origin_.clear();
    accept_pending();
    std::size_t got = 0;
    const std::size_t n = conns_.size();
    if (n > 0) {
      std::vector<pollfd> pfds(n);
      for (std::size_t i = 0; i < n; ++i) pfds[i] = {conns_[i]->fd, POLLIN, 0};
      int r;
      do r = ::poll(pfds.data(), pfds.size(), 0);
      while (r < 0 && errno == EINTR);
      if (r < 0) throw pipeline_error(describe() + ": poll error: " + errno_text(errno));
      rr_ = (rr_ + 1) % n;
      for (std::size_t k = 0; k < n && got < max; ++k) {
        std::size_t i = (rr_ + k) % n;
        got += read_conn(*conns_[i], pfds[i].revents != 0, out, max - got);
      }
      conns_.erase(std::remove_if(conns_.begin(), conns_.end(), [](auto& c) { return c->fd < 0; }),
                   conns_.end());
    }
    if (got > 0) return {read_result::status::more, {}};
    if (opts_.connections > 0 && accepted_ >= opts_.connections && conns_.empty())
      return {read_result::status::end, {}};
    return {read_result::status::idle, idle_retry};
  }

  void close() override {
    for (auto& c : conns_)
      if (c->fd >= 0) ::close(c->fd);
    conns_.clear();
    close_listener();
  }

  const record_origin* origin() const override { return &origin_; }

  std::string describe() const override { return "listen(\"" + address_ + "\")"; }
  std::uint64_t malformed_records() const override { return malformed_; }

private:
  struct conn {
    int fd;
    std::shared_ptr<const std::string> peer;
    detail::conn_lines lines;
  };

  void close_listener() {
    if (lfd_ >= 0) ::close(lfd_);
    lfd_ = -1;
  }

  void accept_pending() {
    while (lfd_ >= 0 && conns_.size() < opts_.max_connections) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      int fd = ::accept4(lfd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EMFILE || errno == ENFILE) {  // out of descriptors: retry later
          detail::warn(describe() + ": cannot accept: " + errno_text(errno));
          return;
        }
        throw pipeline_error(describe() + ": cannot accept: " + errno_text(errno));
      }
      if (opts_.receive_buffer > 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opts_.receive_buffer, sizeof opts_.receive_buffer);
      std::string peer = detail::format_address(reinterpret_cast<const sockaddr*>(&ss), len);
      conns_.push_back(std::make_unique<conn>(
          conn{fd, std::make_shared<const std::string>(peer), detail::conn_lines(peer, opts_.max_line_bytes)}));
      ++accepted_;
      if (opts_.connections > 0 && accepted_ >= opts_.connections) close_listener();
    }
  }

  // Lines of one connection: those already buffered, then (if readable) more.
  std::size_t read_conn(conn& c, bool readable, records& out, std::size_t max) {
    std::size_t got = 0;
    while (got < max) {
      const std::uint64_t first = c.lines.lines() + 1;
      const std::size_t n = c.lines.take(out, max - got);
      origin_.add(c.peer, first, n);
      got += n;
      if (c.lines.overlong()) {
        if (detail::handle_overlong(c.lines, opts_.on_error, describe(), malformed_)) continue;
        end_conn(c);  // `fail`: that connection, not the run
        break;
      }
      if (got == max || !readable) break;
      detail::conn_lines::fill_status f;
      try {
        f = c.lines.fill(c.fd, describe());
      } catch (const pipeline_error& e) {  // e.g. reset by the peer: that connection ends
        detail::warn(e.what());
        f = detail::conn_lines::fill_status::eof;
      }
      if (f == detail::conn_lines::fill_status::not_ready) break;
      if (f == detail::conn_lines::fill_status::eof) {
        if (std::size_t partial = c.lines.partial_bytes(); partial > 0) {
          ++malformed_;
          detail::warn(describe() + ": " + *c.peer + " closed the connection mid-line (line " +
                       std::to_string(c.lines.lines() + 1) + "): dropped " + std::to_string(partial) +
                       " bytes of an incomplete line");
        }
        end_conn(c);
        break;
      }
    }
    return got;
  }

  void end_conn(conn& c) {
    ::close(c.fd);
    c.fd = -1;
  }

  std::string address_;
  listen_options opts_;
  int lfd_ = -1;
  std::vector<std::unique_ptr<conn>> conns_;
  std::size_t rr_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t malformed_ = 0;  // partial lines at a close, over-long lines
  detail::segment_origin origin_;
};

}  // namespace

source_ptr make_listen_source(std::string address, listen_options opts) {
  return std::make_unique<listen_source>(std::move(address), opts);
}

}  // namespace weir::io
