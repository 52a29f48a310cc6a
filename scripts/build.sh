#!/usr/bin/env bash
# Builds the native parts (keb-server, keb-sim, keb-fake-gardener, tests, keb-bench) into build/.
# Usage: scripts/build.sh [extra cmake args]   (KEB_BUILD_TARGETS="a b": build only those targets)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh"
jobs=${KEB_JOBS:-$(nproc)}
cmake -S "$repo" -B "$repo/build" -G Ninja -DCMAKE_BUILD_TYPE=${KEB_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
# shellcheck disable=SC2086
cmake --build "$repo/build" -j"$jobs" ${KEB_BUILD_TARGETS:+--target $KEB_BUILD_TARGETS}
