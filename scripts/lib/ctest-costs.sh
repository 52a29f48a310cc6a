# Sourced by scripts/test.sh and scripts/test-sanitizers.sh (needs $repo).
# seed_ctest_costs BUILD_DIR: a fresh build folder has no Testing/Temporary/CTestCostData.txt, so
# ctest starts the tests in the order they were defined and a long test defined late runs alone
# at the end (a clean-clone run: postgres_store, 77 s, started last and ran alone). The file
# tests/ctest-costs.txt holds the durations of the long tests (seconds, measured under
# ASan+UBSan; only their order matters): with it ctest starts those first. A folder that already
# has the file keeps its own, measured numbers.
seed_ctest_costs() {
  local f=$1/Testing/Temporary/CTestCostData.txt
  [ -f "$f" ] && return 0
  mkdir -p "$(dirname "$f")"
  { grep -v '^#' "$repo/tests/ctest-costs.txt" | awk 'NF == 2 {print $1, 1, $2}'; echo ---; } >"$f"
}
