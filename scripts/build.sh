#!/usr/bin/env bash
# Configures (once) and builds weir. Usage: scripts/build.sh [BUILD_DIR] [extra cmake -D options]
#   WEIR_SANITIZER=address|thread scripts/build.sh build-asan   builds with sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
shift || true
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" "${GEN[@]}" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
    -DWEIR_SANITIZER="${WEIR_SANITIZER:-}" "$@" >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc)"
