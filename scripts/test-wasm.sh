#!/usr/bin/env bash
# Proves the core builds with em++: configures the top-level project with emcmake into
# build/web-cmake (the browser page's tree, scripts/lib/wasm-build.sh; -Os), builds keb-core-tests (and, when the
# simulator is there, keb-world-tests: the simulated world, and keb-web-unit-tests: sim + the
# web UI's model) for wasm and runs them under Node through ctest. Usage: scripts/test-wasm.sh [extra ctest args]
# (KEB_WASM_BUILD_ONLY=1: only the build)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh"
"$repo/scripts/fetch-re2.sh"   # RE2 sources for the wasm core (native: libre2-dev)
# Emscripten 3.1.6 traps (see shared/TOOLCHAIN.md): acorn for -O2 links, and Node 20's fetch.
export NODE_PATH=/usr/share/nodejs
bdir=${KEB_WASM_BUILD_DIR:-$repo/build/web-cmake}
jobs=${KEB_JOBS:-2}
"$repo/scripts/fetch-imgui.sh"   # the tree also holds the page (scripts/lib/wasm-build.sh)
# shellcheck source=lib/wasm-build.sh
. "$repo/scripts/lib/wasm-build.sh"
configure_wasm_build "$bdir" "${KEB_WEB_OUT:-$repo/build/web}"
targets=(keb-core-tests)
pattern='keb-core-tests-wasm'
all_targets=$(ninja -C "$bdir" -t targets all 2>/dev/null || true)  # (no grep -q on a pipe: pipefail + SIGPIPE)
if grep -q '^keb-world-tests:' <<<"$all_targets"; then
  targets+=(keb-world-tests)
  pattern+='|keb-world-tests-wasm'
fi
if grep -q '^keb-web-unit-tests:' <<<"$all_targets"; then
  targets+=(keb-web-unit-tests)
  pattern+='|keb-web-unit-tests-wasm'
fi
ninja -C "$bdir" -j"$jobs" "${targets[@]}"
# KEB_WASM_BUILD_ONLY=1: build, do not run (scripts/test.sh builds in the background meanwhile)
[ "${KEB_WASM_BUILD_ONLY:-0}" = 1 ] && exit 0
cd "$bdir"
ctest --output-on-failure -R "$pattern" "$@"
