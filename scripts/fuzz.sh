#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, -fsanitize=fuzzer,address,undefined) in the
# ASan+UBSan build folder and runs each for SECONDS (default 20), starting from the committed seeds
# (tests/fuzz/corpus/<target>/) and crash reproducers (tests/fuzz/regressions/<target>/).
# Prints executions and coverage per target; exits non-zero on any crash, leak, timeout or
# out-of-memory (the reproducer is left in $KEB_FUZZ_OUT/artifacts/).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Environment: KEB_JOBS (build jobs, default nproc), KEB_FUZZ_BUILD (build folder, default
# build-asan, shared with scripts/test-sanitizers.sh asan), KEB_FUZZ_JOBS (targets run at once,
# default 2), KEB_FUZZ_OUT (working corpora and artifacts, default $KEB_FUZZ_BUILD/fuzz-run).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
secs=${1:-20}
shift || true
build=${KEB_FUZZ_BUILD:-build-asan}
jobs=${KEB_FUZZ_JOBS:-2}
out=${KEB_FUZZ_OUT:-$build/fuzz-run}
all_targets=(fuzz_api_router fuzz_validate fuzz_scenario fuzz_jwt fuzz_kube_watch fuzz_kubeconfig fuzz_time fuzz_regex)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

# The build is the ASan+UBSan build the native test suite also runs in (scripts/lib/asan-build.sh).
# shellcheck source=lib/asan-build.sh
. "$repo/scripts/lib/asan-build.sh"
t0=$(date +%s)
configure_asan_build "$build"
cmake --build "$build" -j"${KEB_JOBS:-$(nproc)}" --target "${targets[@]}"
echo "fuzz: built ${#targets[@]} targets in $(( $(date +%s) - t0 )) s"
[ "${KEB_FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0   # (scripts/test.sh: built in the background)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
sym=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
[ -n "$sym" ] && export ASAN_SYMBOLIZER_PATH="$sym"

mkdir -p "$out/artifacts"
run_one() {
  local t=$1 bin="$build/fuzz/$1" seeds="tests/fuzz/corpus/$1" regs="tests/fuzz/regressions/$1"
  local work="$out/corpus/$t" log="$out/$t.log" dict=()
  mkdir -p "$work"
  # One dictionary per run: the target's vocabulary files concatenated.
  local d parts=()
  case $t in
    fuzz_api_router) parts=(http json) ;;
    fuzz_validate) parts=(json) ;;
    fuzz_scenario) parts=(json scenario) ;;
    fuzz_jwt) parts=(jwt json) ;;
    fuzz_kube_watch) parts=(kube json) ;;
    fuzz_kubeconfig) parts=(kubeconfig) ;;
    fuzz_time) parts=(time json) ;;
    fuzz_regex) parts=(regex) ;;
  esac
  if ((${#parts[@]})); then
    : >"$out/$t.dict"
    for d in "${parts[@]}"; do cat "tests/fuzz/dict/$d.dict" >>"$out/$t.dict"; done
    dict=(-dict="$out/$t.dict")
  fi
  local dirs=("$work")
  [ -d "$seeds" ] && dirs+=("$seeds")
  [ -d "$regs" ] && dirs+=("$regs")
  # -timeout: one input running longer is a hang; -rss_limit_mb: memory blow-up is a finding.
  local rc=0 TIMEFORMAT='%U %S'
  # CPU seconds too: on a shared machine executions per CPU second say more than exec/s.
  { time "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/$t-" "${dict[@]}" "${dirs[@]}" >"$log" 2>&1 || rc=$?; } 2>"$out/$t.cpu"
  echo "$rc" >"$out/$t.rc"
}

for t in "${targets[@]}"; do
  rm -f "$out/$t.rc"
  while (( $(jobs -rp | wc -l) >= jobs )); do wait -n || true; done
  run_one "$t" &
done
wait
status=0
declare -A rc
for t in "${targets[@]}"; do rc[$t]=$(cat "$out/$t.rc" 2>/dev/null || echo missing); done

printf '%-18s %12s %10s %8s %12s %8s %8s %s\n' target executions exec/s cpu-s exec/cpu-s cov ft result
total=0
for t in "${targets[@]}"; do
  log="$out/$t.log"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  result=ok
  if [ "${rc[$t]}" != 0 ]; then
    result="FAILED (exit ${rc[$t]}; log $log)"
    status=1
  fi
  total=$(( total + ${execs:-0} ))
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$out/$t.cpu" 2>/dev/null || true)
  per=$(( ${cpu:-0} > 0 ? ${execs:-0} / cpu : 0 ))
  printf '%-18s %12s %10s %8s %12s %8s %8s %s\n' "$t" "${execs:-?}" "${speed:-?}" "${cpu:-?}" "$per" "${cov:-?}" "${ft:-?}" "$result"
done
echo "fuzz: $total executions in total, $(( $(date +%s) - t0 )) s"
if ((status)); then
  for t in "${targets[@]}"; do
    if [ "${rc[$t]}" != 0 ]; then
      echo "---- $t (last 40 lines of $out/$t.log)"
      tail -40 "$out/$t.log"
    fi
  done
  ls -1 "$out/artifacts" 2>/dev/null | sed 's/^/fuzz: reproducer /'
fi
exit $status
