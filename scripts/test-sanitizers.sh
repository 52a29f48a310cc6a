#!/usr/bin/env bash
# The native test suite under sanitizers (issue 15):
#   asan  build-asan: everything built with -fsanitize=address,undefined (KEB_SANITIZE), every
#         ctest suite run (core, store contract, sim + scenarios, server end-to-end, Gardener,
#         kebctl); the server and fake Gardener processes the tests start are instrumented too.
#   tsan  build-tsan: -fsanitize=thread, only the threaded test binaries are built and run:
#         server end to end, engine loop, Gardener client, notifications end to end, and the
#         replica tests (leader lease on PostgreSQL, keb-server on PostgreSQL killed and
#         restarted; three replicas under faults, KEB_TSAN_HA=0 skips it); keb-server and keb-fake-gardener they start are
#         instrumented too. The PostgreSQL binaries they start are the system's (not instrumented).
# Any report, also from a child process (written to <build>/sanitizer-logs/), fails the run.
# Suppressions (tests/sanitizers/*.supp) need a written reason there.
#   scripts/test-sanitizers.sh [asan|tsan|all] [extra ctest args for asan]
#   scripts/test-sanitizers.sh build-asan|build-tsan   (only the build; scripts/test.sh runs these
#   in the background while other suites run)
# Env: KEB_JOBS (build jobs, default nproc), KEB_TEST_JOBS (ctest jobs, default 2),
#      KEB_ASAN_BUILD / KEB_TSAN_BUILD (folders, default build-asan / build-tsan),
#      KEB_SAN_EXCLUDE (ctest -E regex for the asan run; default: the long scenarios, see below).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
what=${1:-all}
shift || true
jobs=${KEB_JOBS:-$(nproc)}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
supp=$repo/tests/sanitizers
# shellcheck source=lib/asan-build.sh
. "$repo/scripts/lib/asan-build.sh"
# shellcheck source=lib/ctest-costs.sh
. "$repo/scripts/lib/ctest-costs.sh"

# Reports of every process go to files (children of the tests included); stderr keeps a copy
# through the test's own failure output where the sanitizer aborts.
check_logs() {  # dir label
  local dir=$1 label=$2 found=0 f
  for f in "$dir"/*; do
    [ -s "$f" ] || continue
    found=1
    echo "---- $label report: $f"
    head -80 "$f"
  done
  if ((found)); then
    echo "sanitizers: $label reported findings (above); fix them (or suppress with a reason in tests/sanitizers/)" >&2
    return 1
  fi
  echo "sanitizers: $label: no reports"
}

build_asan() {
  local b=${KEB_ASAN_BUILD:-build-asan} t0
  t0=$(date +%s)
  configure_asan_build "$b"
  cmake --build "$b" -j"$jobs"
  echo "sanitizers: asan build $(( $(date +%s) - t0 )) s"
}

run_asan() {
  local b=${KEB_ASAN_BUILD:-build-asan} t1
  build_asan
  t1=$(date +%s)
  local logs=$repo/$b/sanitizer-logs
  rm -rf "$logs"; mkdir -p "$logs"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:log_path=$logs/asan"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp:log_path=$logs/ubsan"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp"
  # The long scenarios (rollout_100k_7d: "long": true) already run only with KEB_LONG_TESTS=1.
  local rc=0
  seed_ctest_costs "$b"
  ctest --test-dir "$b" --output-on-failure -j"${KEB_TEST_JOBS:-2}" --timeout 900 \
    ${KEB_SAN_EXCLUDE:+-E "$KEB_SAN_EXCLUDE"} "$@" || rc=$?
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
  echo "sanitizers: asan tests $(( $(date +%s) - t1 )) s"
  check_logs "$logs" "ASan/UBSan" || rc=1
  return $rc
}

# Longest first (two run at a time). The three-replica fault test (keb-ha-test) took 94 s under
# TSan alone; on a heavily loaded machine its forwarded POST of the whole fleet can time out
# (10 s, ha_test.cpp:176). KEB_TSAN_HA=0 leaves it out.
tsan_bins=(keb-notification-e2e-tests keb-server-e2e-tests keb-lease-test
           keb-postgres-e2e-tests keb-engine-loop-tests keb-gardener-tests)
[ "${KEB_TSAN_HA:-1}" = 1 ] && tsan_bins=(keb-ha-test "${tsan_bins[@]}")

build_tsan() {
  local b=${KEB_TSAN_BUILD:-build-tsan} t0
  t0=$(date +%s)
  if [ ! -f "$b/build.ninja" ]; then
    local cxx cc
    cxx=$(command -v clang++-14 || command -v clang++); cc=$(command -v clang-14 || command -v clang)
    cmake -S . -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
      -DKEB_SANITIZE=thread -DKEB_BUILD_BENCH=OFF -DKEB_BUILD_WEB=OFF >/dev/null
  fi
  cmake --build "$b" -j"$jobs" --target "${tsan_bins[@]}" keb-server keb-fake-gardener
  echo "sanitizers: tsan build $(( $(date +%s) - t0 )) s"
}

run_tsan() {
  local b=${KEB_TSAN_BUILD:-build-tsan} t1 bins=("${tsan_bins[@]}")
  build_tsan
  t1=$(date +%s)
  local logs=$repo/$b/sanitizer-logs
  rm -rf "$logs"; mkdir -p "$logs"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:log_path=$logs/tsan"
  local rc=0 pids=() bin
  for bin in "${bins[@]}"; do
    # exit 77: skipped (the PostgreSQL tests when PostgreSQL is not installed)
    # timeout: a hang fails the run instead of stalling it (the longest binary takes ~3 minutes here)
    ( cd "$b" && { timeout -k 10 1200 "bin/$bin" --gtest_brief=1 >"$logs/../tsan-$bin.out" 2>&1 || { r=$?; ((r == 77)) || exit $r; echo "[  SKIPPED ] exit 77" >>"$logs/../tsan-$bin.out"; }; } ) &
    pids+=($!)
    # two binaries at a time (2 cores)
    if (( ${#pids[@]} >= ${KEB_TEST_JOBS:-2} )); then wait "${pids[0]}" || rc=1; pids=("${pids[@]:1}"); fi
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  unset TSAN_OPTIONS
  for bin in "${bins[@]}"; do
    echo "tsan: $bin: $(grep -E '^\[  (PASSED|FAILED|SKIPPED)' "$b/tsan-$bin.out" | tr '\n' ' ')"
  done
  if ((rc)); then
    for bin in "${bins[@]}"; do grep -q '^\[  FAILED' "$b/tsan-$bin.out" && tail -40 "$b/tsan-$bin.out"; done
  fi
  echo "sanitizers: tsan tests $(( $(date +%s) - t1 )) s"
  check_logs "$logs" "TSan" || rc=1
  return $rc
}

status=0
case $what in
  build-asan) build_asan ;;
  build-tsan) build_tsan ;;
  asan) run_asan "$@" || status=1 ;;
  tsan) run_tsan || status=1 ;;
  all) run_asan "$@" || status=1; run_tsan || status=1 ;;
  *) echo "usage: scripts/test-sanitizers.sh [asan|tsan|all|build-asan|build-tsan] [ctest args]" >&2; exit 2 ;;
esac
exit $status
