#!/usr/bin/env bash
# Proves the core builds with em++: configures the top-level project with emcmake into
# build/wasm (KEB_BUILD_TESTS=ON, server/bench/web off), builds keb-core-tests (and, when the
# simulator is there, keb-world-tests: the simulated world, and keb-web-unit-tests: sim + the
# web UI's model) for wasm and runs them under Node through ctest. Usage: scripts/test-wasm.sh [extra ctest args]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh"
"$repo/scripts/fetch-re2.sh"   # RE2 sources for the wasm core (native: libre2-dev)
# Emscripten 3.1.6 traps (see shared/TOOLCHAIN.md): acorn for -O2 links, and Node 20's fetch.
export NODE_PATH=/usr/share/nodejs
bdir=${KEB_WASM_BUILD_DIR:-$repo/build/wasm}
jobs=${KEB_JOBS:-2}
mkdir -p "$bdir"
emcmake cmake -S "$repo" -B "$bdir" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DKEB_BUILD_TESTS=ON -DKEB_BUILD_SERVER=OFF -DKEB_BUILD_BENCH=OFF -DKEB_BUILD_WEB=OFF \
  "-DCMAKE_CXX_FLAGS=-fexceptions" "-DCMAKE_EXE_LINKER_FLAGS=-fexceptions" \
  "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node;--no-experimental-fetch" >"$bdir/configure.log" 2>&1 \
  || { cat "$bdir/configure.log"; exit 1; }
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
cd "$bdir"
ctest --output-on-failure -R "$pattern" "$@"
