# Sourced by scripts/fuzz.sh and scripts/test-sanitizers.sh: the one clang build with
# AddressSanitizer + UndefinedBehaviorSanitizer (and libFuzzer's coverage instrumentation,
# -DKEB_FUZZ=ON) that holds both the native test suite and the fuzz targets, so the test command
# compiles the sources once for both (issue 15).
#   -O1 -gline-tables-only: the usual flags of sanitizer builds; file:line in every report, and
#   about a third less compile time than -O2 -g.
# configure_asan_build DIR   (configures DIR unless it already is)
configure_asan_build() {
  local dir=$1 cxx cc launcher=()
  [ -f "$dir/build.ninja" ] && return 0
  cxx=${KEB_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
  cc=${KEB_FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
  if [ -z "$cxx" ] || [ -z "$cc" ]; then
    echo "clang is not installed (scripts/packages/fuzz.txt; scripts/setup.sh installs it)" >&2
    return 1
  fi
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S "$repo" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" "${launcher[@]}" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
    -DKEB_FUZZ=ON -DKEB_BUILD_TESTS=ON -DKEB_BUILD_BENCH=OFF -DKEB_BUILD_WEB=OFF >/dev/null
}
