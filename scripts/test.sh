#!/usr/bin/env bash
# README command (b): set up, build, and run the test suite.
#   scripts/test.sh                 all tests (ctest)
#   WEIR_SANITIZER=address scripts/test.sh   the same under ASan+UBSan (build-address/)
#   WEIR_SANITIZER=thread  scripts/test.sh   the same under TSan (build-thread/)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=build
EXTRA=()
if [ -n "${WEIR_SANITIZER:-}" ]; then BUILD_DIR="build-${WEIR_SANITIZER}"; fi
if [ "${WEIR_SANITIZER:-}" = thread ]; then
  # TSan needs an instrumented CAF (see scripts/caf-tsan.sh)
  scripts/caf-tsan.sh "$PWD/build-thread/caf"
  EXTRA=(-DWEIR_CAF_ROOT="$PWD/build-thread/caf")
fi
scripts/build.sh "$BUILD_DIR" "${EXTRA[@]}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" "$@"
