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

# The other builds (ASan+UBSan with the fuzz targets, TSan, em++) run in the background at the
# lowest priority while the suites run in the foreground: a test waiting on a timer, a socket or
# PostgreSQL leaves a core idle, and the build takes it (issue 15: the sanitizer runs made the
# command ~50 minutes when everything ran one after the other). A test that wants the CPU gets
# it first (nice 19). Each build's log and exit code go to build/test-logs/.
bg=$repo/build/test-logs
mkdir -p "$bg"
rm -f "$bg"/*.rc
asan_build=(env KEB_FUZZ_BUILD_ONLY=1 scripts/fuzz.sh)
[ "${KEB_SANITIZERS:-1}" = 1 ] && asan_build=(scripts/test-sanitizers.sh build-asan)
# shellcheck disable=SC2016
setsid nice -n 19 bash -c '
  bg=$1; shift
  # setsid makes a new session, and with autogroup scheduling (Linux default) a new session is a
  # group of its own that shares the CPU equally with the tests whatever its nice value: the
  # group itself must be niced (a clean-clone run without this: ASan suite 864 s, a test in it
  # 66 s instead of 25 s alone).
  echo 19 >/proc/self/autogroup 2>/dev/null || true
  step() { local name=$1 t0=$(date +%s) rc=0; shift; "$@" >"$bg/$name.log" 2>&1 || rc=$?
           echo "$rc $(( $(date +%s) - t0 ))" >"$bg/$name.rc"; }
  step asan "$@"
  [ "${KEB_SANITIZERS:-1}" = 1 ] && step tsan scripts/test-sanitizers.sh build-tsan
  step wasm bash -c "KEB_WASM_BUILD_ONLY=1 scripts/test-wasm.sh && scripts/build-web.sh"
' background-builds "$bg" "${asan_build[@]}" &
bg_pid=$!
trap 'kill -- -$bg_pid 2>/dev/null || true' EXIT
# await NAME: waits for a background build; its log when it failed.
await() {
  local name=$1 rc secs
  while [ ! -s "$bg/$name.rc" ]; do
    kill -0 "$bg_pid" 2>/dev/null || { sleep 1; [ -s "$bg/$name.rc" ] || { echo "background builds ended before $name" >&2; return 1; }; }
    sleep 2
  done
  read -r rc secs <"$bg/$name.rc"
  echo "background build $name: exit $rc after $secs s (log: $bg/$name.log)"
  if [ "$rc" != 0 ]; then tail -60 "$bg/$name.log"; return 1; fi
}

# shellcheck source=lib/ctest-costs.sh
. "$repo/scripts/lib/ctest-costs.sh"
seed_ctest_costs build
phase "native tests (ctest)" ctest --test-dir build --output-on-failure -j"${KEB_TEST_JOBS:-2}" --timeout 900
phase "wait: ASan+UBSan build (background)" await asan
if [ "${KEB_SANITIZERS:-1}" = 1 ]; then
  phase "native suite under ASan+UBSan (ctest)" scripts/test-sanitizers.sh asan
fi
phase "fuzz targets (libFuzzer + ASan + UBSan, ${KEB_FUZZ_SECONDS:-20} s each)" scripts/fuzz.sh "${KEB_FUZZ_SECONDS:-20}"
if [ "${KEB_SANITIZERS:-1}" = 1 ]; then
  phase "wait: TSan build (background)" await tsan
  phase "threaded suites under TSan" scripts/test-sanitizers.sh tsan
fi
phase "wait: em++ build (background)" await wasm
phase "core under WebAssembly" scripts/test-wasm.sh
[ -x scripts/test-web.sh ] && phase "browser simulator (headless Chromium)" scripts/test-web.sh
printf '%s\n' "${times[@]}"
for f in "$bg"/*.rc; do
  read -r rc secs <"$f"
  printf '%-44s %5d s\n' "(background) $(basename "$f" .rc) build" "$secs"
done
echo "== all tests passed in $(( $(date +%s) - start )) s"
