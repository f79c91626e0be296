#!/usr/bin/env bash
# README command (a): set up, build, and run the main job on the built-in
# web-access-log generator (no network, no data sets needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build >/dev/null
exec build/cli/weir run examples/access_log.weir "$@"
