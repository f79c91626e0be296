// socket("host:port") and listen(":port"): lines over TCP, non-blocking,
// reconnect policy, provenance, partial lines, errors.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
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

}  // namespace

TEST_CASE("socket: reads lines from a server - never blocks - ends when the peer closes (reconnect = false)",
          "[io][socket]") {
  weir::test::tcp_server server;
  weir::io::socket_options o;
  o.reconnect = false;
  auto src = weir::io::make_socket_source(server.address(), o);
  CHECK(src->describe() == "socket(\"" + server.address() + "\")");
  src->open();
  records out;
  // Not yet accepted or no data: idle, and read() returns at once.
  auto r = src->read(out, 10);
  CHECK(r.st == read_result::status::idle);
  int c = server.accept_one();
  REQUIRE(c >= 0);
  REQUIRE(weir::test::write_all(c, "alpha\r\nbeta\nga"));
  weir::test::pull(*src, out, 2);
  CHECK(strings(out) == std::vector<std::string>{"alpha", "beta"});
  CHECK(src->read(out, 10).st == read_result::status::idle);  // "ga" is incomplete
  REQUIRE(weir::test::write_all(c, "mma\n\xff\n"));
  weir::test::pull(*src, out, 4);
  REQUIRE(src->origin() != nullptr);
  CHECK(src->origin()->describe(0) == server.address() + " line 3");
  CHECK(src->origin()->describe(1) == server.address() + " line 4");
  ::close(c);
  CHECK(weir::test::pull(*src, out) == read_result::status::end);
  CHECK(strings(out) == std::vector<std::string>{"alpha", "beta", "gamma", "\xff"});
  src->close();
}

TEST_CASE("socket: a connection closed mid-line loses only the partial line", "[io][socket]") {
  weir::test::tcp_server server;
  weir::io::socket_options o;
  o.reconnect = false;
  auto src = weir::io::make_socket_source(server.address(), o);
  src->open();
  records out;
  src->read(out, 10);
  int c = server.accept_one();
  REQUIRE(weir::test::write_all(c, "one\ntwo\nthr"));
  ::close(c);
  CHECK(weir::test::pull(*src, out) == read_result::status::end);
  CHECK(strings(out) == std::vector<std::string>{"one", "two"});
}

TEST_CASE("socket: with reconnect (Spark's receiver restart) a closed connection is re-established",
          "[io][socket]") {
  weir::test::tcp_server server;
  weir::io::socket_options o;
  o.backoff = 1ms;  // reconnect at once
  auto src = weir::io::make_socket_source(server.address(), o);
  src->open();
  std::promise<void> done;
  std::thread peer([&] {
    for (int k = 0; k < 3; ++k) {
      int c = server.accept_one();
      weir::test::write_all(c, "conn " + std::to_string(k) + " a\nconn " + std::to_string(k) + " b\n");
      ::close(c);
    }
  });
  records out;
  weir::test::pull(*src, out, 6);
  peer.join();
  CHECK(strings(out) == std::vector<std::string>{"conn 0 a", "conn 0 b", "conn 1 a", "conn 1 b", "conn 2 a",
                                                 "conn 2 b"});
  // lines are counted per connection
  CHECK(src->origin()->describe(0).find(" line ") != std::string::npos);
  src->close();
}

TEST_CASE("socket: bad address - unknown host and refused connection are one-line errors", "[io][socket]") {
  using weir::io::make_socket_source;
  CHECK_THROWS_WITH(make_socket_source("localhost")->open(),
                    "socket(\"localhost\"): expected host:port (e.g. \"localhost:9999\"), got \"localhost\"");
  CHECK_THROWS_WITH(make_socket_source(":9999")->open(),
                    "socket(\":9999\"): expected host:port (e.g. \"localhost:9999\"), got \":9999\"");
  CHECK_THROWS_WITH(make_socket_source("localhost:99999")->open(),
                    "socket(\"localhost:99999\"): bad port \"99999\" in \"localhost:99999\" (expected 1-65535)");
  CHECK_THROWS_WITH(make_socket_source("localhost:http")->open(),
                    "socket(\"localhost:http\"): bad port \"http\" in \"localhost:http\" (expected 1-65535)");
  CHECK_THROWS_WITH(make_socket_source("no-such-host.invalid:80")->open(),
                    Catch::StartsWith("socket(\"no-such-host.invalid:80\"): cannot resolve host "
                                      "'no-such-host.invalid': "));
  // A port nobody listens on: refused, retried `retries` times, then an error.
  std::uint16_t port = weir::test::free_port();
  weir::io::socket_options o;
  o.retries = 3;
  o.backoff = 1ms;
  auto src = make_socket_source("127.0.0.1:" + std::to_string(port), o);
  src->open();
  records out;
  CHECK_THROWS_WITH(weir::test::pull(*src, out),
                    "socket(\"127.0.0.1:" + std::to_string(port) + "\"): cannot connect to 127.0.0.1:" +
                        std::to_string(port) + ": Connection refused (3 attempts)");
}

TEST_CASE("socket: a server that does not answer is a connect timeout after `retries` attempts", "[io][socket]") {
  // A listening socket with a backlog of 0 and one queued connection: the
  // kernel drops further SYNs, so a connection attempt neither succeeds nor fails.
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(lfd, 0) == 0);
  socklen_t len = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::uint16_t port = ntohs(a.sin_port);
  int first = weir::test::connect_to(port);  // fills the accept queue
  weir::io::socket_options o;
  o.retries = 2;
  o.connect_timeout = 100ms;
  o.backoff = 1ms;
  std::string addr = "127.0.0.1:" + std::to_string(port);
  auto src = weir::io::make_socket_source(addr, o);
  src->open();
  records out;
  CHECK_THROWS_WITH(weir::test::pull(*src, out),
                    "socket(\"" + addr + "\"): cannot connect to " + addr + ": Connection timed out (2 attempts)");
  ::close(first);
  ::close(lfd);
}

TEST_CASE("listen: lines from many concurrent connections - each connection in order", "[io][listen]") {
  std::uint16_t port = weir::test::free_port();
  weir::io::listen_options o;
  o.connections = 3;  // end after 3 connections closed
  auto src = weir::io::make_listen_source("127.0.0.1:" + std::to_string(port), o);
  CHECK(src->describe() == "listen(\"127.0.0.1:" + std::to_string(port) + "\")");
  src->open();
  const int per = 20000;
  std::vector<std::thread> senders;
  for (int s = 0; s < 3; ++s)
    senders.emplace_back([s, port] {
      int fd = weir::test::connect_to(port);
      std::string buf;
      for (int i = 0; i < per; ++i) buf += std::to_string(s) + " " + std::to_string(i) + "\n";
      weir::test::write_all(fd, buf);
      ::close(fd);
    });
  records out;
  CHECK(weir::test::pull(*src, out, 0, 256) == read_result::status::end);
  for (auto& t : senders) t.join();
  REQUIRE(out.size() == 3u * per);
  std::vector<int> next(3, 0);
  bool in_order = true;
  for (auto& v : out) {
    auto str = std::string(v.as_string());
    int s = str[0] - '0';
    if (std::stoi(str.substr(2)) != next[s]++) in_order = false;
  }
  CHECK(in_order);
  CHECK(next == std::vector<int>{per, per, per});
}

TEST_CASE("listen: provenance is the peer address and line - a sender closing mid-line loses that line only",
          "[io][listen]") {
  std::uint16_t port = weir::test::free_port();
  weir::io::listen_options o;
  o.connections = 1;
  auto src = weir::io::make_listen_source(":" + std::to_string(port), o);
  src->open();
  int fd = weir::test::connect_to(port);
  sockaddr_in me{};
  socklen_t len = sizeof me;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len);
  std::string peer = "127.0.0.1:" + std::to_string(ntohs(me.sin_port));
  REQUIRE(weir::test::write_all(fd, "a\nb\nc\npartial"));
  records out;
  for (std::size_t k = 1; k <= 3; ++k) {  // one record per read: its origin is line k
    weir::test::pull(*src, out, k, 1);
    REQUIRE(out.size() == k);
    CHECK(src->origin()->describe(0) == peer + " line " + std::to_string(k));
  }
  ::close(fd);
  CHECK(weir::test::pull(*src, out) == read_result::status::end);
  CHECK(strings(out) == std::vector<std::string>{"a", "b", "c"});
  CHECK(src->malformed_records() == 1);
}

TEST_CASE("listen: bad address and port in use are one-line errors", "[io][listen]") {
  using weir::io::make_listen_source;
  CHECK_THROWS_WITH(make_listen_source("9999")->open(),
                    "listen(\"9999\"): expected host:port or :port (e.g. \":9999\"), got \"9999\"");
  weir::test::tcp_server taken;
  CHECK_THROWS_WITH(make_listen_source(taken.address())->open(),
                    "listen(\"" + taken.address() + "\"): cannot listen on " + taken.address() +
                        ": Address already in use");
}
