#!/usr/bin/env bash
# The full test suite, from a bare machine: installs what is missing, builds native and wasm,
# runs every ctest suite (core, store contract, simulator scenarios, server end-to-end, Gardener
# with kubectl), every fuzz target for 20 s (scripts/fuzz.sh, KEB_FUZZ_SECONDS), the core under wasm
# and the browser test in headless Chromium.
# KEB_SANITIZERS=1: also scripts/test-sanitizers.sh all (opt-in; not within the 35-minute budget).
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
phase "fuzz targets (libFuzzer + ASan + UBSan, ${KEB_FUZZ_SECONDS:-20} s each)" scripts/fuzz.sh "${KEB_FUZZ_SECONDS:-20}"
phase "core under WebAssembly" scripts/test-wasm.sh
[ -x scripts/test-web.sh ] && phase "browser simulator (headless Chromium)" scripts/test-web.sh
if [ "${KEB_SANITIZERS:-0}" = 1 ]; then  # opt-in: too slow for the 35-minute budget on 2 cores
  phase "native suite under ASan+UBSan and TSan" scripts/test-sanitizers.sh all
fi
printf '%s\n' "${times[@]}"
echo "== all tests passed in $(( $(date +%s) - start )) s"
