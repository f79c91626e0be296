#!/usr/bin/env bash
# The install test (CTest: "install: consumer project with find_package and pkg-config").
#
#   tests/install/run.sh BUILD_DIR
#
# 1. cmake --install BUILD_DIR into a temporary prefix, and checks the tree:
#    libraries, public headers only (no cli/, no detail/), every weir include
#    of an installed header installed too, no build-tree or source-tree path
#    in any installed text file, the `weir` binary runs.
# 2. Configures, builds and runs tests/install/consumer (a word count with the
#    C++ API) with find_package(weir) and CMAKE_PREFIX_PATH=prefix.
# 3. Builds the same main.cpp with pkg-config (PKG_CONFIG_PATH=prefix/lib/pkgconfig)
#    and runs it.
# Both programs must print the expected counts and exit 0.
# 4. Configures and builds examples/cpp (word_count, access_log_alarm, ysb)
#    with find_package(weir) against the same prefix and runs them: ysb checks
#    itself; word_count (over a one-shot TCP server serving
#    ../shared/data/text_tinyshakespeare/input.txt) and access_log_alarm (on
#    ../shared/data/apache_access_elastic/apache_logs) are compared with
#    python3's counts. Without the data ($WEIR_DATA or ../shared/data) those two
#    run on built-in inputs and their data checks are skipped with a message.
#
# Sanitizer builds (WEIR_SANITIZER=address|thread): the installed package
# carries the sanitizer flags (in weir::options and in weir.pc), so both
# consumers are built with the same -fsanitize flags as the libraries.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
  echo "usage: $0 BUILD_DIR (a configured and built weir build directory)" >&2
  exit 2
fi
BUILD_DIR="$(cd "$1" && pwd -P)"
HERE="$(cd "$(dirname "$0")" && pwd -P)"
SRC_DIR="$(cd "$HERE/../.." && pwd -P)"
CMAKE="${CMAKE:-cmake}"
started=$SECONDS

cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD_DIR/CMakeCache.txt" | head -n 1; }
CXX="$(cache CMAKE_CXX_COMPILER)"
SANITIZER="$(cache WEIR_SANITIZER)"
CAF_ROOT="$(cache WEIR_CAF_ROOT)"
VERSION="$(cache CMAKE_PROJECT_VERSION)"
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/weir-install-test.XXXXXX")"
if [ -z "${WEIR_INSTALL_TEST_KEEP:-}" ]; then trap 'rm -rf "$TMP"' EXIT; fi
PREFIX="$TMP/prefix"

fail() {
  echo "install test: FAIL: $*" >&2
  exit 1
}
step() { echo "install test: $* ($((SECONDS - started)) s)"; }

# Runs "$@" with its output in a log, shown only on failure.
quiet() {
  local log="$TMP/log.txt"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "command failed: $*"
  fi
}

# --- 1. install --------------------------------------------------------------
step "cmake --install $BUILD_DIR --prefix $PREFIX${SANITIZER:+ (WEIR_SANITIZER=$SANITIZER)}"
quiet "$CMAKE" --install "$BUILD_DIR" --prefix "$PREFIX"

for f in bin/weir lib/libweir.a lib/libweir_actors.a lib/libweir_io.a lib/libweir_checkpoint.a \
  lib/libweir_operators.a lib/libweir_common.a lib/cmake/weir/weirConfig.cmake lib/cmake/weir/weirConfigVersion.cmake \
  lib/cmake/weir/weirTargets.cmake lib/pkgconfig/weir.pc include/weir/api/dstream.hpp \
  include/weir/actors/graph.hpp include/weir/actors/runtime.hpp include/weir/checkpoint/checkpoint.hpp \
  include/weir/io/source.hpp include/weir/io/sources.hpp include/weir/operators/value.hpp \
  include/weir/common/time.hpp; do
  [ -f "$PREFIX/$f" ] || fail "not installed: $f"
done
[ ! -e "$PREFIX/include/weir/cli" ] || fail "the DSL's headers (cli/) are installed"
if find "$PREFIX/include" -name detail | grep -q .; then
  # A detail header is installed only if a public header includes it.
  for d in $(cd "$PREFIX/include" && find . -path '*/detail/*.hpp' | sed 's#^\./##'); do
    grep -rqF "\"$d\"" "$PREFIX/include" || fail "installed but included by no public header: $d"
  done
fi
# Every weir header an installed header includes is installed.
while IFS= read -r inc; do
  [ -f "$PREFIX/include/$inc" ] || fail "an installed header includes $inc, which is not installed"
done < <(grep -rhoE '#include ["<]weir/[^">]+[">]' "$PREFIX/include" | sed -E 's/#include ["<]([^">]+)[">]/\1/' | sort -u)
# No installed text file points into the build or source tree (a CAF built
# for TSan, WEIR_CAF_ROOT, may live there: that path is allowed).
while IFS= read -r f; do
  text="$(cat "$f")"
  if [ -n "$CAF_ROOT" ]; then text="${text//"$CAF_ROOT"/}"; fi
  case "$text" in
    *"$BUILD_DIR"* | *"$SRC_DIR"*) fail "$f mentions the build or source tree" ;;
  esac
done < <(find "$PREFIX/include" "$PREFIX/lib/cmake" "$PREFIX/lib/pkgconfig" -type f)
"$PREFIX/bin/weir" --version | grep -qx "weir $VERSION" || fail "installed weir --version is not 'weir $VERSION'"

expected="$TMP/expected.txt"
cat >"$expected" <<'COUNTS'
a 1
against 1
and 2
arms 1
arrows 1
be 2
by 1
end 1
fortune 1
in 1
is 1
mind 1
nobler 1
not 1
of 2
opposing 1
or 2
outrageous 1
question 1
sea 1
slings 1
suffer 1
take 1
that 1
the 3
them 1
tis 1
to 4
troubles 1
whether 1
COUNTS

# Runs a consumer and compares its output with the expected counts.
check_consumer() {
  local name="$1" exe="$2" rc=0
  "$exe" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
  if [ "$rc" -ne 0 ] || ! cmp -s "$expected" "$TMP/$name.out"; then
    echo "--- $name: exit code $rc; stderr:" >&2
    cat "$TMP/$name.err" >&2
    echo "--- diff expected actual:" >&2
    diff "$expected" "$TMP/$name.out" >&2 || true
    fail "$name consumer gave a wrong answer"
  fi
  echo "install test: $name consumer: $(tail -n 1 "$TMP/$name.err")"
}

# --- 2. find_package(weir) ---------------------------------------------------
step "find_package(weir) consumer"
quiet "$CMAKE" -S "$HERE/consumer" -B "$TMP/cmake-build" "${GEN[@]}" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
found="$(sed -n 's/^weir_DIR:PATH=//p' "$TMP/cmake-build/CMakeCache.txt")"
[ "$found" = "$PREFIX/lib/cmake/weir" ] || fail "find_package(weir) found '$found', not the installed package"
quiet "$CMAKE" --build "$TMP/cmake-build"
check_consumer find_package "$TMP/cmake-build/weir_consumer"

# --- 3. pkg-config -----------------------------------------------------------
step "pkg-config consumer"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
[ "$(pkg-config --modversion weir)" = "$VERSION" ] || fail "pkg-config --modversion weir is not $VERSION"
read -r -a cflags <<<"$(pkg-config --cflags weir)"
read -r -a libs <<<"$(pkg-config --libs --static weir)"
# Static libraries: the objects come before the libraries on the link line.
quiet "$CXX" -std=c++20 "${cflags[@]}" "$HERE/consumer/main.cpp" -o "$TMP/pc-consumer" "${libs[@]}"
check_consumer pkg-config "$TMP/pc-consumer"

# --- 4. examples/cpp against the installed package ----------------------------
step "examples/cpp (find_package(weir))"
quiet "$CMAKE" -S "$SRC_DIR/examples/cpp" -B "$TMP/examples" "${GEN[@]}" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
quiet "$CMAKE" --build "$TMP/examples"
EX="$TMP/examples"

# ysb: self-checking (exit 1 when a (window, campaign) count differs from its reference loop)
"$EX/ysb" --events 100000 --parallelism 2 >"$TMP/ysb.out" 2>"$TMP/ysb.err" || {
  cat "$TMP/ysb.out" "$TMP/ysb.err" >&2
  fail "ysb example failed"
}
grep -q "^ysb: 100000 events, .* 0 late$" "$TMP/ysb.out" || fail "ysb: unexpected summary: $(cat "$TMP/ysb.out")"
grep -qx "ysb: all counts match the reference loop" "$TMP/ysb.out" || fail "ysb did not check its counts"
echo "install test: ysb: $(grep '^ysb: 100000' "$TMP/ysb.out")"

DATA="${WEIR_DATA:-$SRC_DIR/../shared/data}"
SHAKESPEARE="$DATA/text_tinyshakespeare/input.txt"
APACHE="$DATA/apache_access_elastic/apache_logs"

# word_count: a one-shot TCP server (python3) sends a file and closes; the
# example's totals must equal python's str.split() counts.
run_word_count() {  # FILE
  local file="$1" portfile="$TMP/port.txt"
  rm -f "$portfile"
  python3 - "$file" "$portfile" <<'PY' &
import socket, sys
data = open(sys.argv[1], 'rb').read()
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
open(sys.argv[2] + '.tmp', 'w').write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[2] + '.tmp', sys.argv[2])
c, _ = s.accept()
c.sendall(data)
c.close()
PY
  local server=$! i
  for i in $(seq 1 100); do [ -f "$portfile" ] && break; sleep 0.1; done
  [ -f "$portfile" ] || fail "word_count: the test server did not start"
  "$EX/word_count" "127.0.0.1:$(cat "$portfile")" 200 >"$TMP/wc.out" 2>"$TMP/wc.err" || {
    cat "$TMP/wc.err" >&2
    fail "word_count example failed"
  }
  wait "$server"
  python3 - "$file" >"$TMP/wc.expected" <<'PY'
import collections, sys
c = collections.Counter(open(sys.argv[1], 'rb').read().decode('utf-8').split())
for w in sorted(c, key=lambda w: w.encode()): print(w, c[w])
PY
  cmp -s "$TMP/wc.expected" "$TMP/wc.out" || {
    diff "$TMP/wc.expected" "$TMP/wc.out" | head -20 >&2
    fail "word_count over $file: totals differ from python's"
  }
  echo "install test: word_count: $(tail -n 1 "$TMP/wc.err"); $(wc -l <"$TMP/wc.out") totals match python"
}
if [ -f "$SHAKESPEARE" ]; then
  run_word_count "$SHAKESPEARE"
else
  echo "install test: SKIP word_count data check: $SHAKESPEARE not found (set WEIR_DATA)"
  printf 'to be or not to be\nthat is the question\n' >"$TMP/small.txt"
  run_word_count "$TMP/small.txt"
fi

# access_log_alarm: every (window, requests, errors) line equals python's
# sliding-window counts over the log's own timestamps.
if [ -f "$APACHE" ]; then
  "$EX/access_log_alarm" "$APACHE" >"$TMP/alarm.out" 2>"$TMP/alarm.err" || {
    cat "$TMP/alarm.err" >&2
    fail "access_log_alarm example failed"
  }
  python3 - "$APACHE" >"$TMP/alarm.expected" <<'PY'
import collections, datetime, re, sys
W, S, threshold = 600, 300, 0.5
win = collections.defaultdict(lambda: [0, 0])
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    m = re.match(r'(\S+) (\S+) (\S+) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"\s*$', line)
    if not m:
        continue  # malformed: the example skips it too
    t = int(datetime.datetime.strptime(m.group(4), '%d/%b/%Y:%H:%M:%S %z').timestamp())
    status = int(m.group(6))
    first = t - t % S
    for start in range(first, t - W, -S):
        win[start][0] += 1
        win[start][1] += status >= 500
fmt = lambda s: datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
for start in sorted(win):
    n, e = win[start]
    rate = 100.0 * e / n
    print(f"{fmt(start)} {fmt(start + W)} requests={n} errors={e} rate={rate:.2f}%" + (" ALARM" if rate > threshold else ""))
PY
  cmp -s "$TMP/alarm.expected" "$TMP/alarm.out" || {
    diff "$TMP/alarm.expected" "$TMP/alarm.out" | head -20 >&2
    fail "access_log_alarm: windows differ from python's"
  }
  echo "install test: access_log_alarm: $(tail -n 1 "$TMP/alarm.err"); $(wc -l <"$TMP/alarm.out") windows match python, $(grep -c ALARM "$TMP/alarm.out") alarms"
else
  echo "install test: SKIP access_log_alarm data check: $APACHE not found (set WEIR_DATA)"
  "$EX/access_log_alarm" >"$TMP/alarm.out" 2>"$TMP/alarm.err" || fail "access_log_alarm (generator) failed"
  grep -q . "$TMP/alarm.out" || fail "access_log_alarm (generator) printed no window"
fi

step "passed"
