// weir — the one HTTP server of `weir run --ui HOST:PORT` (and of its alias
// `--metrics HOST:PORT`): the dashboard at /, the job as JSON at /api/job and
// Prometheus text at /metrics, served by cpp-httplib on two worker threads.
// This header does not include <httplib.h> (ui_server.cpp is the only file
// that does).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace weir::cli {

/// One GET route: `path` answered with `render()` as `content_type`.
struct route {
  std::string path;          ///< "/", "/api/job", "/metrics"
  std::string content_type;  ///< "text/html; charset=utf-8", ...
  std::function<std::string()> render;
};

/// Thrown when the server cannot listen ("cannot serve metrics on
/// 127.0.0.1:9464: Address already in use").
struct metrics_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// An HTTP server answering GET on `routes` (404 elsewhere; every answer has
/// Cache-Control: no-store). The socket is bound in the constructor, so a
/// busy port is an error before the pipeline starts.
/// @thread the routes' `render` are called on the server's two threads, possibly at once.
class ui_server {
public:
  /// `address`: "host:port" or "[v6]:port"; port 0 picks a free port (see
  /// port()). `what` names the server in errors ("metrics", "the dashboard").
  /// @errors metrics_error for a malformed address or a port that cannot be bound.
  ui_server(const std::string& address, std::vector<route> routes, const std::string& what = "metrics");
  ~ui_server();  ///< stops serving and joins
  ui_server(const ui_server&) = delete;
  ui_server& operator=(const ui_server&) = delete;

  int port() const noexcept;  ///< the bound port
  const std::string& host() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace weir::cli
