// weir — internal: TCP helpers, per-connection line splitting and segment
// provenance, shared by the dir, socket and listen receivers. Not public API.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <sys/socket.h>

#include "weir/io/source.hpp"
#include "weir/operators/error_policy.hpp"
#include "weir/io/sources.hpp"

namespace weir::io::detail {

/// Provenance of the records of one read(): consecutive segments, each a run
/// of lines of one input. describe(i) = "<name><sep><line>", e.g.
/// "logs/a.txt:12" (sep ":") or "127.0.0.1:5000 line 12" (sep " line ").
class segment_origin final : public record_origin {
public:
  explicit segment_origin(std::string sep) : sep_(std::move(sep)) {}
  void clear() noexcept { segs_.clear(); }
  /// Records [end of previous segments, + count) are lines first_line.. of `name`.
  void add(std::shared_ptr<const std::string> name, std::uint64_t first_line, std::size_t count);
  std::string describe(std::size_t i) const override;

private:
  struct seg {
    std::shared_ptr<const std::string> name;
    std::uint64_t first_line;
    std::size_t count;
  };
  std::string sep_;
  std::vector<seg> segs_;
};

/// Lines of one byte stream (a connection), fed by recv(2) on a non-blocking
/// socket. "\n" or "\r\n" end a line and are stripped; other bytes are kept.
/// The buffer grows only as far as the longest line needs: a line longer
/// than max_line_bytes stops take() (overlong()) until the caller drops it
/// (drop_overlong(): its bytes are discarded up to its '\n', also those not
/// received yet) or closes the connection.
class conn_lines {
public:
  enum class fill_status { data, eof, not_ready };
  /// `name` names the input in errors (e.g. the peer "127.0.0.1:5000").
  conn_lines(std::string name, std::size_t max_line_bytes, std::size_t chunk_bytes = 64u << 10);

  /// Moves up to `max` complete lines into `out`; returns how many. Stops
  /// before a line longer than max_line_bytes (then overlong() is true).
  std::size_t take(records& out, std::size_t max);
  /// One recv(2) into the buffer. @errors pipeline_error "<label>: read error
  /// from <name>: <strerror>" (ECONNRESET included).
  fill_status fill(int fd, const std::string& label);
  /// A line over the limit (number lines() + 1) waits: take() returns
  /// nothing more until drop_overlong().
  bool overlong() const noexcept { return overlong_; }
  /// Its first max_line_bytes bytes.
  std::string_view overlong_head() const noexcept {
    return {buf_.get() + begin_, std::min(max_line_, end_ - begin_)};
  }
  /// "line longer than M bytes".
  std::string overlong_reason() const;
  /// Drops the over-long line: it counts as a line, its bytes are discarded.
  void drop_overlong();
  /// Bytes of an incomplete last line held in the buffer.
  std::size_t partial_bytes() const noexcept { return end_ - begin_; }
  /// Lines returned or dropped so far (the next line is number lines() + 1).
  std::uint64_t lines() const noexcept { return line_no_; }
  const std::string& name() const noexcept { return name_; }
  std::size_t max_line_bytes() const noexcept { return max_line_; }

private:
  std::string name_;
  std::size_t max_line_, chunk_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0, begin_ = 0, scan_ = 0, end_ = 0;
  std::uint64_t line_no_ = 0;
  bool overlong_ = false;    // a line over the limit waits at begin_
  bool discarding_ = false;  // dropping the rest of an over-long line
};

/// A connection's over-long line (l.overlong()) under `p`: skip and
/// dead_letter (raw = its first max_line_bytes bytes, provenance "<peer>
/// line N") drop it and return true (go on reading the connection); fail
/// warns "<label>: <peer> line N: line longer than M bytes; closing that
/// connection" and returns false (the caller ends that connection). The
/// line is counted in `malformed` either way.
/// @errors what the policy's dead-letter writer throws.
bool handle_overlong(conn_lines& l, const error_policy& p, const std::string& label, std::uint64_t& malformed);

/// "1.2.3.4:5" or "[::1]:5" for a socket address.
std::string format_address(const sockaddr* sa, socklen_t len);

/// Resolved addresses of `ep` (getaddrinfo, TCP; `passive` for listening with
/// an empty host). @errors pipeline_error "<what>: cannot resolve host 'h': <gai text>".
struct resolved {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = 0;
};
std::vector<resolved> resolve(const endpoint& ep, bool passive, const std::string& what);

/// Writes a one-line warning to stderr ("weir: warning: <msg>").
void warn(const std::string& msg);

}  // namespace weir::io::detail
