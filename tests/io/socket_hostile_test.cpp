// listen() and socket() against a client that sends a line longer than
// max_line_bytes: on_error decides for that connection only (skip,
// dead_letter, or fail = close it); the other connections and every line
// already received go on.
#include <catch2/catch.hpp>

#include <algorithm>

#include <string>
#include <thread>
#include <vector>

#include "io/net_test_util.hpp"
#include "weir/io/sources.hpp"

using weir::records;
using weir::io::read_result;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> strings(const records& r) {
  std::vector<std::string> out;
  for (auto& v : r) out.emplace_back(v.as_string());
  return out;
}

std::string peer_of(int fd) {
  sockaddr_in me{};
  socklen_t len = sizeof me;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len);
  return "127.0.0.1:" + std::to_string(ntohs(me.sin_port));
}

/// Reads until `fd`'s peer closed the connection (recv returns 0 or an error).
bool closed_by_peer(int fd) {
  char buf[256];
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return ::recv(fd, buf, sizeof buf, 0) <= 0;
}

struct collected {
  std::vector<std::string> raw, reason, provenance;
  weir::error_policy policy() {
    weir::error_policy p;
    p.action = weir::on_error::dead_letter;
    p.dead_letter = [this](const weir::bad_record& r) {
      raw.emplace_back(r.raw);
      reason.push_back(r.reason);
      provenance.push_back(r.provenance);
    };
    return p;
  }
};

}  // namespace

TEST_CASE("listen: an over-long line closes that connection only - the others and what it sent before stay",
          "[io][listen][hostile]") {
  std::uint16_t port = weir::test::free_port();
  weir::io::listen_options o;
  o.connections = 2;
  o.max_line_bytes = 1024;  // on_error = fail (the default)
  auto src = weir::io::make_listen_source("127.0.0.1:" + std::to_string(port), o);
  src->open();
  int a = weir::test::connect_to(port);
  int b = weir::test::connect_to(port);
  const std::string peer_a = peer_of(a), peer_b = peer_of(b);
  REQUIRE(weir::test::write_all(a, "a1\na2\n"));
  REQUIRE(weir::test::write_all(b, "b1\nb2\n" + std::string(5000, 'x')));  // no newline, over the limit
  records out;
  weir::test::pull(*src, out, 4);
  REQUIRE(out.size() == 4);
  CHECK(closed_by_peer(b));  // weir closed b
  REQUIRE(weir::test::write_all(a, "a3\n"));
  ::close(a);
  ::close(b);
  CHECK(weir::test::pull(*src, out) == read_result::status::end);
  auto got = strings(out);
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"a1", "a2", "a3", "b1", "b2"});
  CHECK(src->malformed_records() == 1);
}

TEST_CASE("listen: on_error = skip drops an over-long line and reads the connection on", "[io][listen][hostile]") {
  std::uint16_t port = weir::test::free_port();
  weir::io::listen_options o;
  o.connections = 1;
  o.max_line_bytes = 1024;
  o.on_error.action = weir::on_error::skip;
  auto src = weir::io::make_listen_source("127.0.0.1:" + std::to_string(port), o);
  src->open();
  int c = weir::test::connect_to(port);
  const std::string peer = peer_of(c);
  // 300 KB: several reads of the connection, dropped as they come
  std::thread sender([c] {
    weir::test::write_all(c, "one\n");
    for (int i = 0; i < 30; ++i) {
      weir::test::write_all(c, std::string(10000, 'y'));
      std::this_thread::sleep_for(1ms);
    }
    weir::test::write_all(c, "\r\nthree\n" + std::string(2000, 'z') + "\nfive\n");
    ::close(c);
  });
  records out;
  std::vector<std::string> origins;
  for (;;) {  // one record per read: each read's origin is that record's
    std::size_t before = out.size();
    auto st = weir::test::pull(*src, out, before + 1, 1);
    if (out.size() > before) origins.push_back(src->origin()->describe(0));
    if (st == read_result::status::end) break;
  }
  sender.join();
  CHECK(strings(out) == std::vector<std::string>{"one", "three", "five"});
  CHECK(origins == std::vector<std::string>{peer + " line 1", peer + " line 3", peer + " line 5"});
  CHECK(src->malformed_records() == 2);
}

TEST_CASE("listen: on_error = dead_letter hands over the first max_line_bytes bytes", "[io][listen][hostile]") {
  std::uint16_t port = weir::test::free_port();
  collected c;
  weir::io::listen_options o;
  o.connections = 1;
  o.max_line_bytes = 16;
  o.on_error = c.policy();
  auto src = weir::io::make_listen_source("127.0.0.1:" + std::to_string(port), o);
  src->open();
  int fd = weir::test::connect_to(port);
  const std::string peer = peer_of(fd);
  REQUIRE(weir::test::write_all(fd, "ok\n0123456789abcdefXYZ\nlast\n"));
  ::close(fd);
  records out;
  CHECK(weir::test::pull(*src, out) == read_result::status::end);
  CHECK(strings(out) == std::vector<std::string>{"ok", "last"});
  REQUIRE(c.raw.size() == 1);
  CHECK(c.raw[0] == "0123456789abcdef");
  CHECK(c.reason[0] == "line longer than 16 bytes (raw: its first 16 bytes)");
  CHECK(c.provenance[0] == peer + " line 2");
}

TEST_CASE("socket: an over-long line follows on_error - skip, fail with reconnect, fail without",
          "[io][socket][hostile]") {
  SECTION("skip: the line is dropped, the connection read on") {
    weir::test::tcp_server server;
    weir::io::socket_options o;
    o.reconnect = false;
    o.max_line_bytes = 8;
    o.on_error.action = weir::on_error::skip;
    auto src = weir::io::make_socket_source(server.address(), o);
    src->open();
    records out;
    src->read(out, 10);
    int c = server.accept_one();
    REQUIRE(weir::test::write_all(c, "a\nmuch too long\nb\n"));
    ::close(c);
    CHECK(weir::test::pull(*src, out) == read_result::status::end);
    CHECK(strings(out) == std::vector<std::string>{"a", "b"});
    CHECK(src->malformed_records() == 1);
  }
  SECTION("fail with reconnect: that connection ends, the next one is read") {
    weir::test::tcp_server server;
    weir::io::socket_options o;
    o.max_line_bytes = 8;
    o.backoff = 1ms;
    auto src = weir::io::make_socket_source(server.address(), o);
    src->open();
    records out;
    std::thread peer([&] {
      int c = server.accept_one();
      weir::test::write_all(c, "a\nmuch too long\nlost\n");
      closed_by_peer(c);
      ::close(c);
      c = server.accept_one();
      weir::test::write_all(c, "b\n");
      ::close(c);
    });
    weir::test::pull(*src, out, 2);
    peer.join();
    CHECK(strings(out) == std::vector<std::string>{"a", "b"});
    CHECK(src->malformed_records() == 1);
  }
  SECTION("fail without reconnect: the run fails, naming the line") {
    weir::test::tcp_server server;
    weir::io::socket_options o;
    o.reconnect = false;
    o.max_line_bytes = 8;
    auto src = weir::io::make_socket_source(server.address(), o);
    src->open();
    records out;
    src->read(out, 10);
    int c = server.accept_one();
    const std::string peer = server.address();
    REQUIRE(weir::test::write_all(c, "a\nmuch too long\n"));
    CHECK_THROWS_WITH(weir::test::pull(*src, out), peer + " line 2: line longer than 8 bytes");
    CHECK(strings(out) == std::vector<std::string>{"a"});
    ::close(c);
  }
}
