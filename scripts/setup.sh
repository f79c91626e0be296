#!/usr/bin/env bash
# Installs what weir needs to build and test on Debian 12 (apt-get; idempotent:
# does nothing but a dpkg query when everything is present).
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config   # toolchain
  libcaf-dev                         # CAF 0.17.6, the actor runtime
  libsimdjson-dev libmimalloc-dev libxxhash-dev libzstd-dev
  libfmt-dev libcli11-dev            # formatting, CLI parsing
  catch2                             # Catch2 v2, the test framework
  librdkafka-dev                     # Kafka receiver and sink (and its mock cluster for tests)
  libre2-dev                         # RE2: every regular expression (parse_regex)
  libcpp-httplib-dev                 # Prometheus metrics endpoint
  graphviz                           # dot: tests render `weir explain --dot`
  gnuplot-nox                        # perf/plot: weir-perf results as PNG
  valgrind                           # callgrind profiles of the hot paths (perf/)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
