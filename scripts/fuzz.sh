#!/usr/bin/env bash
# Builds weir's libFuzzer targets (tests/fuzz/) with clang
# (-fsanitize=fuzzer,address,undefined, in build-fuzz/) and runs each for
# SECONDS (default 60), starting from its seed corpus tests/fuzz/corpus/TARGET/,
# as many targets at a time as there are cores.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600 fuzz_json
#
# Prints libFuzzer's "Done N runs in S second(s)" line per target. Exits
# non-zero when a target crashes, trips ASan/UBSan, leaks, or spends more
# than 10 s on one input; the input that did it is left in
# build-fuzz/crashes/TARGET/ (reproduce: build-fuzz/tests/fuzz/TARGET FILE).
# Inputs found along the way go to build-fuzz/corpus/TARGET/, never into the
# committed seeds. Installs clang, libFuzzer's runtime and llvm-symbolizer
# with apt-get when missing (idempotent, like scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

SECS="${1:-60}"
shift || true
TARGETS=(fuzz_dsl fuzz_json fuzz_csv fuzz_log fuzz_regex fuzz_checkpoint)
if [ $# -gt 0 ]; then TARGETS=("$@"); fi
BUILD_DIR=build-fuzz

bash scripts/setup.sh
FUZZ_PACKAGES=(clang libclang-rt-14-dev llvm)
missing=()
for p in "${FUZZ_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  GEN=()
  if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
  LAUNCHER=()
  if command -v ccache >/dev/null 2>&1; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" "${GEN[@]}" "${LAUNCHER[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DWEIR_SANITIZER=fuzzer -DWEIR_BUILD_FUZZERS=ON -DWEIR_BUILD_TESTS=OFF -DWEIR_BUILD_PERF=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${TARGETS[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
if command -v llvm-symbolizer >/dev/null 2>&1; then export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"; fi

# one target per core at a time: the targets are independent processes
fuzz_one() {
  local t="$1"
  local seeds="tests/fuzz/corpus/${t#fuzz_}"
  local work="$BUILD_DIR/corpus/${t#fuzz_}"
  local crashes="$BUILD_DIR/crashes/$t"
  local rc=0
  mkdir -p "$work" "$crashes"
  "$BUILD_DIR/tests/fuzz/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$work" "$seeds" >"$BUILD_DIR/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$BUILD_DIR/$t.rc"
}
LANES="$(nproc)"
echo "fuzz: ${#TARGETS[@]} targets for ${SECS} s each, ${LANES} at a time"
running=0
for t in "${TARGETS[@]}"; do
  rm -f "$BUILD_DIR/$t.rc"
  fuzz_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$LANES" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=()
for t in "${TARGETS[@]}"; do
  log="$BUILD_DIR/$t.log"
  rc="$(cat "$BUILD_DIR/$t.rc" 2>/dev/null || echo 1)"
  echo "fuzz: $t (seeds tests/fuzz/corpus/${t#fuzz_}): $(grep -E "^Done [0-9]+ runs" "$log" || echo "no Done line")"
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $t FAILED (exit $rc); the last lines of $log:" >&2
    tail -n 60 "$log" >&2
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#TARGETS[@]} targets failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets, ${SECS} s each, no crash"
