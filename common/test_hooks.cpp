// weir — the installed test hooks (test_hooks.hpp): none in production.
#include "weir/common/test_hooks.hpp"

namespace weir {

namespace {
constinit test_hooks installed{};  // constant-initialized: usable from any static initializer
}  // namespace

void install_test_hooks(const test_hooks& hooks) noexcept { installed = hooks; }

const test_hooks& installed_test_hooks() noexcept { return installed; }

void crash_point(const char* point) {
  if (installed.crash_point) installed.crash_point(point);
}

}  // namespace weir
