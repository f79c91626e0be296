// weir tests — installs weir's test hooks (common/test_hooks.hpp) from the
// environment, before main() runs. Linked into `weir-testing` (the `weir`
// binary with these hooks, which the crash tests run) and into the test
// executables that crash themselves or fill a checkpoint quota; never into
// weir's libraries or the `weir` binary.
//
//   WEIR_CRASH_AT=POINT[:N]            crash_point(POINT) calls _exit(77) at its
//                                      N-th passing (1-based, default 1), skipping
//                                      every destructor and buffer flush, as
//                                      kill -9 would.
//   WEIR_CHECKPOINT_QUOTA_BYTES=BYTES  a checkpoint store without
//                                      store_options::max_bytes fails every write
//                                      beyond BYTES in its directory as a full
//                                      disk does (no root or tmpfs needed); read
//                                      at each write.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "weir/common/test_hooks.hpp"

namespace {

void crash_at(const char* point) {
  static const char* env = std::getenv("WEIR_CRASH_AT");
  if (!env || !*env) return;
  std::string_view spec(env), name = spec;
  long nth = 1;
  if (auto colon = spec.find(':'); colon != std::string_view::npos) {
    name = spec.substr(0, colon);
    nth = std::strtol(std::string(spec.substr(colon + 1)).c_str(), nullptr, 10);
  }
  if (name != point) return;
  static std::atomic<long> passes{0};
  if (passes.fetch_add(1) + 1 != nth) return;
  static const char msg[] = "weir: crash point reached (WEIR_CRASH_AT)\n";
  ssize_t r = ::write(2, msg, sizeof msg - 1);
  (void)r;
  ::_exit(77);
}

std::uint64_t quota_from_environment(std::string& source) {
  const char* env = std::getenv("WEIR_CHECKPOINT_QUOTA_BYTES");
  if (!env || !*env) return 0;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(env, &end, 10);
  if (errno != 0 || *end != '\0' || env[0] == '-')
    throw std::invalid_argument(std::string("WEIR_CHECKPOINT_QUOTA_BYTES: expected a number of bytes, got '") + env +
                                "'");
  source = "WEIR_CHECKPOINT_QUOTA_BYTES";
  return v;
}

[[maybe_unused]] const bool installed = [] {
  weir::test_hooks h;
  h.crash_point = crash_at;
  h.checkpoint_quota = quota_from_environment;
  weir::install_test_hooks(h);
  return true;
}();

}  // namespace
