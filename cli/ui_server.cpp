// weir — the HTTP server of `weir run --ui` / `--metrics` (ui_server.hpp);
// the only file that includes <httplib.h>.
#include "weir/cli/ui_server.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <httplib.h>

#include "weir/cli/metrics_server.hpp"

namespace weir::cli {

struct ui_server::impl {
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::string host;
  int port = 0;
};

namespace {

/// Why `host:port` cannot be bound: a probe bind (httplib does not keep errno).
std::string bind_failure(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return fmt::format("cannot resolve host '{}': {}", host, ::gai_strerror(rc));
  std::string why = "cannot bind";
  for (addrinfo* p = res; p; p = p->ai_next) {
    int fd = ::socket(p->ai_family, p->ai_socktype, p->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, p->ai_addr, p->ai_addrlen) != 0) why = std::strerror(errno);
    else if (::listen(fd, 1) != 0) why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return why;
}

}  // namespace

ui_server::ui_server(const std::string& address, std::vector<route> routes, const std::string& what)
    : impl_(std::make_unique<impl>()) {
  std::string host;
  int port = -1;
  if (!parse_host_port(address, host, port))
    throw metrics_error(fmt::format("expected HOST:PORT like 127.0.0.1:9464 (port 0-65535), got '{}'", address));
  impl_->host = host;
  auto& svr = impl_->server;
  svr.new_task_queue = [] { return new httplib::ThreadPool(2); };
  for (auto& r : routes)
    svr.Get(r.path, [r](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(r.render(), r.content_type.c_str());
    });
  bool ok = false;
  if (port == 0) {
    int p = svr.bind_to_any_port(host);
    ok = p > 0;
    port = p;
  } else {
    ok = svr.bind_to_port(host, port);
  }
  if (!ok)
    throw metrics_error(fmt::format("cannot serve {} on {}: {}", what, address, bind_failure(host, port < 0 ? 0 : port)));
  impl_->port = port;
  impl_->thread = std::thread([this] {
    impl_->server.listen_after_bind();
    impl_->listen_returned.store(true);
  });
}

ui_server::~ui_server() {
  // httplib's stop() is a no-op before listen_after_bind() is running: wait for it.
  while (!impl_->server.is_running() && !impl_->listen_returned.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int ui_server::port() const noexcept { return impl_->port; }
const std::string& ui_server::host() const noexcept { return impl_->host; }

}  // namespace weir::cli
