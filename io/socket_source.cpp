// socket("host:port"): Spark's socketTextStream — connect and read lines,
// never blocking, with Spark's restart-on-close policy (see sources.hpp).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weir/common/errno_text.hpp"
#include "weir/io/detail/net.hpp"
#include "weir/io/sources.hpp"

namespace weir::io {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr milliseconds idle_retry{1};

class socket_source final : public source_reader {
public:
  socket_source(std::string address, socket_options o)
      : address_(std::move(address)), opts_(o), origin_(" line ") {}
  ~socket_source() override { close(); }

  void open() override {
    ep_ = parse_endpoint(address_, /*allow_empty_host=*/false, describe());
    addrs_ = detail::resolve(ep_, /*passive=*/false, describe());
    state_ = st::waiting;
    next_attempt_ = clock::now();
    backoff_ = opts_.backoff;
  }

  read_result read(records& out, std::size_t max) override {
    origin_.clear();
    for (;;) {
      switch (state_) {
        case st::waiting: {
          auto now = clock::now();
          if (now < next_attempt_)
            return {read_result::status::idle,
                    std::max<nanoseconds>(next_attempt_ - now, idle_retry)};
          start_connect();
          continue;
        }
        case st::connecting: {
          pollfd p{fd_, POLLOUT, 0};
          int r;
          do r = ::poll(&p, 1, 0);
          while (r < 0 && errno == EINTR);
          if (r < 0) throw pipeline_error(describe() + ": poll error: " + errno_text(errno));
          if (r == 0) {
            if (clock::now() >= deadline_) {
              attempt_failed(ETIMEDOUT);
              continue;
            }
            return {read_result::status::idle, idle_retry};
          }
          int err = 0;
          socklen_t len = sizeof err;
          if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
          if (err != 0) {
            attempt_failed(err);
            continue;
          }
          connected();
          continue;
        }
        case st::connected: return read_lines(out, max);
        case st::ended: return {read_result::status::end, {}};
        case st::closed: throw pipeline_error(describe() + ": read before open");
      }
    }
  }

  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    state_ = st::closed;
  }

  const record_origin* origin() const override { return &origin_; }

  std::string describe() const override { return "socket(\"" + address_ + "\")"; }
  std::uint64_t malformed_records() const override { return malformed_; }

private:
  enum class st { closed, waiting, connecting, connected, ended };

  void start_connect() {
    const auto& a = addrs_[addr_i_ % addrs_.size()];
    int fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw pipeline_error(describe() + ": cannot create a socket: " + errno_text(errno));
    fd_ = fd;
    if (opts_.receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &opts_.receive_buffer, sizeof opts_.receive_buffer);
    peer_ = detail::format_address(reinterpret_cast<const sockaddr*>(&a.addr), a.len);
    int r;
    do r = ::connect(fd_, reinterpret_cast<const sockaddr*>(&a.addr), a.len);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
      connected();
    } else if (errno == EINPROGRESS) {
      state_ = st::connecting;
      deadline_ = clock::now() + opts_.connect_timeout;
    } else {
      attempt_failed(errno);
    }
  }

  void connected() {
    state_ = st::connected;
    failures_ = 0;
    ever_connected_ = true;
    name_ = std::make_shared<const std::string>(peer_);
    lines_.emplace(peer_, opts_.max_line_bytes);
  }

  // One connection attempt failed with `err`: retry after the backoff, or fail.
  void attempt_failed(int err) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ++failures_;
    ++addr_i_;
    if (!ever_connected_ && failures_ >= std::max(1, opts_.retries))
      throw pipeline_error(describe() + ": cannot connect to " + ep_.str() + ": " + errno_text(err) +
                           " (" + std::to_string(failures_) + " attempt" + (failures_ == 1 ? "" : "s") + ")");
    if (ever_connected_ && !opts_.reconnect)
      throw pipeline_error(describe() + ": connection to " + ep_.str() + " lost: " + errno_text(err));
    schedule_retry();
  }

  void schedule_retry() {
    state_ = st::waiting;
    next_attempt_ = clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, std::max(opts_.max_backoff, opts_.backoff));
  }

  read_result read_lines(records& out, std::size_t max) {
    std::size_t got = 0;
    auto name = name_;
    while (got < max) {
      const std::uint64_t first = lines_->lines() + 1;
      const std::size_t n = lines_->take(out, max - got);
      origin_.add(name, first, n);
      got += n;
      if (lines_->overlong()) {
        if (detail::handle_overlong(*lines_, opts_.on_error, describe(), malformed_)) continue;
        // `fail`: the connection ends (the run too, without reconnect)
        if (!opts_.reconnect)
          throw record_error(lines_->name() + " line " + std::to_string(lines_->lines() + 1) + ": " +
                             lines_->overlong_reason());
        disconnected(describe() + ": " + peer_ + " line " + std::to_string(lines_->lines() + 1) + ": " +
                         lines_->overlong_reason(),
                     /*dropping=*/true);
        break;
      }
      if (got == max) break;
      // every complete line is taken: only a partial line may remain
      detail::conn_lines::fill_status f;
      try {
        f = lines_->fill(fd_, describe());
      } catch (const pipeline_error& e) {
        if (!opts_.reconnect) throw;
        disconnected(e.what());  // e.g. connection reset by peer: restart
        break;
      }
      if (f == detail::conn_lines::fill_status::not_ready) break;
      if (f == detail::conn_lines::fill_status::eof) {
        disconnected(describe() + ": " + peer_ + " closed the connection");
        break;
      }
    }
    if (got > 0) return {read_result::status::more, {}};
    if (state_ == st::ended) return {read_result::status::end, {}};
    return {read_result::status::idle, idle_retry};
  }

  // The connection ended (`why`); every complete line has been returned.
  // `dropping`: weir ends it (an over-long line), so what is still buffered
  // is not a line the peer left incomplete.
  void disconnected(const std::string& why, bool dropping = false) {
    if (std::size_t partial = lines_->partial_bytes(); partial > 0 && !dropping) {
      ++malformed_;
      detail::warn(describe() + ": " + peer_ + " closed the connection mid-line (line " +
                   std::to_string(lines_->lines() + 1) + "): dropped " + std::to_string(partial) +
                   " bytes of an incomplete line");
    }
    const bool delivered = lines_->lines() > 0;
    ::close(fd_);
    fd_ = -1;
    lines_.reset();
    if (!opts_.reconnect) {
      state_ = st::ended;
      return;
    }
    detail::warn(why + "; reconnecting (Spark's receiver restart)");
    // A connection that delivered lines restarts the backoff; one that
    // delivered nothing keeps doubling it (up to max_backoff): a server that
    // accepts and closes at once is not hammered.
    if (delivered) backoff_ = opts_.backoff;
    schedule_retry();
  }

  std::string address_;
  socket_options opts_;
  endpoint ep_;
  std::vector<detail::resolved> addrs_;
  std::size_t addr_i_ = 0;
  st state_ = st::closed;
  int fd_ = -1;
  clock::time_point next_attempt_{}, deadline_{};
  milliseconds backoff_{100};
  int failures_ = 0;
  bool ever_connected_ = false;
  std::uint64_t malformed_ = 0;  // partial lines at a disconnect, over-long lines
  std::string peer_;
  std::shared_ptr<const std::string> name_;
  std::optional<detail::conn_lines> lines_;
  detail::segment_origin origin_;
};

}  // namespace

source_ptr make_socket_source(std::string address, socket_options opts) {
  return std::make_unique<socket_source>(std::move(address), opts);
}

}  // namespace weir::io
