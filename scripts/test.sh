#!/usr/bin/env bash
# The full test suite, from a bare machine: installs what is missing, then
#  1. the native test suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan: core,
#     store contract, simulator scenarios, server end-to-end, Gardener with kubectl, kebctl),
#  2. the threaded test binaries under ThreadSanitizer (build-tsan: server end to end, engine
#     loop, Gardener client) - both via scripts/test-sanitizers.sh,
#  3. every fuzz target for 20 s (scripts/fuzz.sh, KEB_FUZZ_SECONDS),
#  4. the core under wasm and the browser test in headless Chromium (which compares with a plain
#     native keb-sim built in build/).
# The plain (uninstrumented) ctest run is replaced by the ASan+UBSan run: same tests, more checks.
# KEB_PLAIN_TESTS=1 also builds everything plainly (scripts/build.sh) and runs ctest there.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
start=$(date +%s)
times=()
part() {  # name command...: runs one part, remembers how long it took
  local name=$1 t0
  shift
  echo "== $name"
  t0=$(date +%s)
  "$@"
  times+=("$(printf '%-48s %5d s' "$name" $(( $(date +%s) - t0 )))")
}
plain_build() {
  if [ "${KEB_PLAIN_TESTS:-0}" = 1 ]; then
    scripts/build.sh
    ctest --test-dir build --output-on-failure -j"${KEB_TEST_JOBS:-2}" --timeout 900
  else
    KEB_BUILD_TARGETS=keb-sim scripts/build.sh
  fi
}
part setup scripts/setup.sh
part "native build (build/: keb-sim for the browser test)" plain_build
part "native tests under ASan+UBSan (build-asan)" scripts/test-sanitizers.sh asan
part "threaded tests under TSan (build-tsan)" scripts/test-sanitizers.sh tsan
part "fuzz targets (libFuzzer+ASan+UBSan, ${KEB_FUZZ_SECONDS:-20} s each)" scripts/fuzz.sh "${KEB_FUZZ_SECONDS:-20}"
part "core under WebAssembly" scripts/test-wasm.sh
if [ -x scripts/test-web.sh ]; then
  part "browser simulator (headless Chromium)" scripts/test-web.sh
fi
printf '%s\n' "${times[@]}"
echo "== all tests passed in $(( $(date +%s) - start )) s"
