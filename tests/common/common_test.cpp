// common/: the one duration text, floor division, the wall clock, errno
// text, the hashes (against xxHash itself and published test vectors) and
// the test hooks' calls.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include <xxhash.h>

#include "weir/common/errno_text.hpp"
#include "weir/common/hash.hpp"
#include "weir/common/test_hooks.hpp"
#include "weir/common/time.hpp"

TEST_CASE("duration_text: the largest DSL unit that divides the duration exactly", "[common]") {
  CHECK(weir::duration_text(0) == "0ms");  // not "0h": zero has no unit of its own
  CHECK(weir::duration_text(1) == "1ms");
  CHECK(weir::duration_text(500) == "500ms");
  CHECK(weir::duration_text(1500) == "1500ms");
  CHECK(weir::duration_text(2000) == "2s");
  CHECK(weir::duration_text(90'000) == "90s");
  CHECK(weir::duration_text(120'000) == "2m");
  CHECK(weir::duration_text(5'400'000) == "90m");
  CHECK(weir::duration_text(7'200'000) == "2h");
  CHECK(weir::duration_text(-2000) == "-2s");
  CHECK(weir::duration_text(-1) == "-1ms");
}

TEST_CASE("floor_div rounds toward negative infinity", "[common]") {
  static_assert(weir::floor_div(-1, 10) == -1);  // usable in constant expressions
  CHECK(weir::floor_div(7, 2) == 3);
  CHECK(weir::floor_div(6, 2) == 3);
  CHECK(weir::floor_div(-7, 2) == -4);
  CHECK(weir::floor_div(-6, 2) == -3);
  CHECK(weir::floor_div(7, -2) == -4);
  CHECK(weir::floor_div(-7, -2) == 3);
  CHECK(weir::floor_div(0, 5) == 0);
  CHECK(weir::floor_div(-10'001, 10'000) * 10'000 == -20'000);  // the window start of t = -10001 ms
}

TEST_CASE("wall_ms reads the system clock in ms since the epoch", "[common]") {
  using namespace std::chrono;
  const auto before = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const auto t = weir::wall_ms();
  const auto after = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  CHECK(before <= t);
  CHECK(t <= after);
}

TEST_CASE("errno_text gives the C library's text, also for an unknown value", "[common]") {
  CHECK(weir::errno_text(ENOENT) == "No such file or directory");
  CHECK(weir::errno_text(ENOSPC) == "No space left on device");
  const std::string unknown = weir::errno_text(-12345);
  CHECK(unknown.find("12345") != std::string::npos);
}

TEST_CASE("xxh3_64 and xxh3_64_stream are XXH3 64-bit, seed 0", "[common]") {
  const std::string text = "the quick brown fox jumps over the lazy dog, again and again and again";
  CHECK(weir::xxh3_64("") == XXH3_64bits("", 0));
  CHECK(weir::xxh3_64(text) == XXH3_64bits(text.data(), text.size()));
  weir::xxh3_64_stream s;
  CHECK(s.digest() == weir::xxh3_64(""));
  s.update(std::string_view(text).substr(0, 10));
  s.update(std::string_view(text).substr(10, 1));
  s.update(std::string_view(text).substr(11));
  CHECK(s.digest() == weir::xxh3_64(text));  // pieces hash as their concatenation
  s.reset();
  s.update("abc");
  CHECK(s.digest() == weir::xxh3_64("abc"));
}

TEST_CASE("fnv1a64 and splitmix64 match their published test vectors", "[common]") {
  CHECK(weir::fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(weir::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(weir::fnv1a64("foobar") == 0x85944171f73967e8ULL);
  CHECK(weir::fnv1a64("\xff") != weir::fnv1a64("\x7f"));  // bytes are unsigned
  std::uint64_t state = 0;  // splitmix64 seeded with 0
  CHECK(weir::splitmix64(state) == 0xe220a8397b1dcdafULL);
  CHECK(weir::splitmix64(state) == 0x6e789e6aa1b965f4ULL);
  CHECK(weir::splitmix64(state) == 0x06c45d188009454fULL);
  CHECK(weir::mix64(weir::golden_gamma) == 0xe220a8397b1dcdafULL);
}

namespace {
std::vector<std::string>* g_points = nullptr;
void record_point(const char* point) { g_points->push_back(point); }
}  // namespace

TEST_CASE("crash_point calls the installed hook, and nothing without one", "[common]") {
  // this test program installs no hooks (it does not link tests/support/test_hooks.cpp)
  CHECK(weir::installed_test_hooks().crash_point == nullptr);
  CHECK(weir::installed_test_hooks().checkpoint_quota == nullptr);
  weir::crash_point("after_snapshot_write");  // no hook: returns

  std::vector<std::string> points;
  g_points = &points;
  weir::test_hooks h;
  h.crash_point = record_point;
  weir::install_test_hooks(h);
  weir::crash_point("after_snapshot_write");
  weir::crash_point("during_recovery");
  weir::install_test_hooks({});  // uninstalled again
  weir::crash_point("during_sink_commit");
  g_points = nullptr;
  CHECK(points == std::vector<std::string>{"after_snapshot_write", "during_recovery"});
}
