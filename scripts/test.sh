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
scripts/setup.sh
scripts/build.sh
echo "== native tests (ctest)"
ctest --test-dir build --output-on-failure -j"${KEB_TEST_JOBS:-2}" --timeout 900
echo "== fuzz targets (libFuzzer + ASan + UBSan, ${KEB_FUZZ_SECONDS:-20} s each)"
scripts/fuzz.sh "${KEB_FUZZ_SECONDS:-20}"
echo "== core under WebAssembly"
scripts/test-wasm.sh
if [ -x scripts/test-web.sh ]; then
  echo "== browser simulator (headless Chromium)"
  scripts/test-web.sh
fi
if [ "${KEB_SANITIZERS:-0}" = 1 ]; then  # opt-in: too slow for the 35-minute budget on 2 cores
  echo "== native suite under ASan+UBSan and TSan (scripts/test-sanitizers.sh)"
  scripts/test-sanitizers.sh all
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
