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
  lib/libweir_operators.a lib/cmake/weir/weirConfig.cmake lib/cmake/weir/weirConfigVersion.cmake \
  lib/cmake/weir/weirTargets.cmake lib/pkgconfig/weir.pc include/weir/api/dstream.hpp \
  include/weir/actors/graph.hpp include/weir/actors/runtime.hpp include/weir/checkpoint/checkpoint.hpp \
  include/weir/io/source.hpp include/weir/io/sources.hpp include/weir/operators/value.hpp; do
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

step "passed"
