#!/usr/bin/env bash
# The full test suite, from a bare machine: installs what is missing, builds native and wasm,
# runs every ctest suite (core, store contract, simulator scenarios, server end-to-end, Gardener
# with kubectl), the same suite again under ASan + UBSan (clang, build-asan/), every fuzz target
# for 20 s in that build (scripts/fuzz.sh, KEB_FUZZ_SECONDS), the threaded test binaries under
# TSan (build-tsan/), the core under wasm and the browser test in headless Chromium.
# KEB_SANITIZERS=0 leaves out the two sanitizer runs (a quicker local check; CI runs them).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
start=$(date +%s)
times=()
# phase NAME COMMAND...: runs one part and remembers how long it took (printed at the end: the
# 35-minute budget is watched per part).
phase() {
  local name=$1 t0
  shift
  t0=$(date +%s)
  echo "== $name"
  "$@"
  times+=("$(printf '%-44s %5d s' "$name" $(( $(date +%s) - t0 )))")
}
phase "setup (Debian packages, npm)" scripts/setup.sh
phase "native build" scripts/build.sh
phase "native tests (ctest)" ctest --test-dir build --output-on-failure -j"${KEB_TEST_JOBS:-2}" --timeout 900
if [ "${KEB_SANITIZERS:-1}" = 1 ]; then
  phase "native suite under ASan+UBSan (clang build + ctest)" scripts/test-sanitizers.sh asan
fi
phase "fuzz targets (libFuzzer + ASan + UBSan, ${KEB_FUZZ_SECONDS:-20} s each)" scripts/fuzz.sh "${KEB_FUZZ_SECONDS:-20}"
if [ "${KEB_SANITIZERS:-1}" = 1 ]; then
  phase "threaded suites under TSan (clang build + run)" scripts/test-sanitizers.sh tsan
fi
phase "core under WebAssembly" scripts/test-wasm.sh
[ -x scripts/test-web.sh ] && phase "browser simulator (headless Chromium)" scripts/test-web.sh
printf '%s\n' "${times[@]}"
echo "== all tests passed in $(( $(date +%s) - start )) s"
