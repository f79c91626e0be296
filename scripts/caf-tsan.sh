#!/usr/bin/env bash
# Builds CAF 0.17.6's core (the version Debian 12 ships) with ThreadSanitizer,
# from Debian's source package, into PREFIX (default build-thread/caf).
# Debian's libcaf_core.so is not instrumented: TSan cannot see the
# synchronisation inside CAF's mailboxes and reports every message hand-off
# as a race. Idempotent: does nothing when PREFIX already holds the library.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${1:-$PWD/build-thread/caf}"
if [ -f "$PREFIX/lib/libcaf_core.so" ]; then exit 0; fi
WORK="$PWD/build-thread/caf-src"
mkdir -p "$WORK"
TARBALL="$WORK/actor-framework_0.17.6.orig.tar.gz"
if [ ! -f "$TARBALL" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  if ! dpkg-query -W -f='${Status}' dpkg-dev 2>/dev/null | grep -q "install ok installed"; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev >&2
  fi
  if [ ! -f /etc/apt/sources.list.d/weir-deb-src.sources ]; then
    $SUDO tee /etc/apt/sources.list.d/weir-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    $SUDO apt-get update -qq
  fi
  # Only the upstream tarball is needed; Debian's own patch set may be missing
  # from the mirror, so a partial download is not an error here.
  (cd "$WORK" && apt-get source -qq --download-only actor-framework=0.17.6-2.1 >/dev/null 2>&1 || true)
  if [ ! -f "$TARBALL" ]; then
    echo "caf-tsan: could not download actor-framework 0.17.6 sources from Debian" >&2
    exit 1
  fi
fi
rm -rf "$WORK/actor-framework-0.17.6"
tar -C "$WORK" -xzf "$TARBALL"
cmake -S "$WORK/actor-framework-0.17.6" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
  -DCAF_NO_IO=yes -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_OPENSSL=yes -DCAF_NO_TOOLS=yes \
  -DCAF_NO_PYTHON=yes -DCAF_NO_OPENCL=yes -DCAF_NO_MEM_MANAGEMENT=yes -DCAF_NO_SUMMARY=yes >/dev/null
cmake --build "$WORK/build" -j "$(nproc)"
cmake --install "$WORK/build" >/dev/null
