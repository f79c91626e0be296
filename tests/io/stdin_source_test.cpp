// stdin receiver: non-blocking line reading from file descriptor 0.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "weir/io/sources.hpp"

using weir::records;
using weir::io::read_result;

namespace {

// Replaces fd 0 by the read end of a pipe for the lifetime of the object.
struct stdin_pipe {
  int saved = -1;
  int write_fd = -1;
  stdin_pipe() {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    saved = ::dup(STDIN_FILENO);
    REQUIRE(saved >= 0);
    REQUIRE(::dup2(fds[0], STDIN_FILENO) == STDIN_FILENO);
    ::close(fds[0]);
    write_fd = fds[1];
  }
  void write(const std::string& s) const {
    REQUIRE(::write(write_fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
  }
  void close_writer() {
    if (write_fd >= 0) ::close(write_fd);
    write_fd = -1;
  }
  ~stdin_pipe() {
    close_writer();
    ::dup2(saved, STDIN_FILENO);
    ::close(saved);
  }
};

}  // namespace

TEST_CASE("stdin source returns idle instead of blocking and ends at EOF", "[io][stdin]") {
  stdin_pipe in;
  auto src = weir::io::make_stdin_source();
  CHECK(src->describe() == "stdin");
  src->open();
  records out;

  // Nothing written yet: idle, retry after 2 ms, and the call returns at once.
  auto t0 = std::chrono::steady_clock::now();
  auto r = src->read(out, 100);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
  CHECK(r.st == read_result::status::idle);
  CHECK(r.retry_after == std::chrono::milliseconds(2));
  CHECK(out.empty());

  // A complete line and a partial one: only the complete line is returned.
  in.write("first\r\nsec");
  r = src->read(out, 100);
  CHECK(r.st == read_result::status::more);
  REQUIRE(out.size() == 1);
  CHECK(out[0].as_string() == "first");
  r = src->read(out, 100);
  CHECK(r.st == read_result::status::idle);
  CHECK(out.size() == 1);

  // The rest of the line, more lines than `max`, bytes kept as is.
  in.write("ond\n\xff\xfe\n\nfourth\n");
  r = src->read(out, 2);
  CHECK(r.st == read_result::status::more);
  REQUIRE(out.size() == 3);
  CHECK(out[1].as_string() == "second");
  CHECK(out[2].as_string() == "\xff\xfe");
  r = src->read(out, 100);
  CHECK(r.st == read_result::status::more);
  REQUIRE(out.size() == 5);
  CHECK(out[3].as_string() == "");
  CHECK(out[4].as_string() == "fourth");

  // EOF: the unterminated last line is still a line, then end.
  in.write("tail");
  in.close_writer();
  records rest;
  for (int i = 0; i < 1000; ++i) {
    r = src->read(rest, 100);
    if (r.st != read_result::status::more) break;
  }
  CHECK(r.st == read_result::status::end);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].as_string() == "tail");
  CHECK(src->read(rest, 100).st == read_result::status::end);
  src->close();
}

TEST_CASE("stdin source: a line over max_line_bytes names stdin:line", "[io][stdin]") {
  stdin_pipe in;
  auto src = weir::io::make_stdin_source(4);
  src->open();
  in.write("abcd\nabcde\n");
  records out;
  REQUIRE_THROWS_AS(src->read(out, 100), weir::record_error);
  REQUIRE(out.size() == 1);
  CHECK(out[0].as_string() == "abcd");

  auto src2 = weir::io::make_stdin_source(4);
  src2->open();
  in.write("0123456789");  // no newline yet, already too long
  REQUIRE_THROWS_WITH(src2->read(out, 100), "stdin:1: line longer than 4 bytes");
}
