# Sourced by scripts/build-web.sh and scripts/test-wasm.sh: the one emcmake tree (build/web-cmake)
# that holds the browser page (keb-web) and the core's wasm test binaries, so the test command
# compiles core, simulator and RE2 with em++ once for both (MinSizeRel, -Os: the page's build type).
# configure_wasm_build BUILD_DIR PAGE_OUT_DIR
configure_wasm_build() {
  local bdir=$1 out=$2
  mkdir -p "$bdir"
  if ! emcmake cmake -S "$repo" -B "$bdir" -G Ninja \
      -DCMAKE_BUILD_TYPE="${KEB_WEB_BUILD_TYPE:-MinSizeRel}" \
      -DKEB_BUILD_WEB=ON -DKEB_BUILD_TESTS=ON -DKEB_BUILD_SERVER=OFF -DKEB_BUILD_BENCH=OFF \
      -DKEB_WEB_OUTPUT_DIR="$out" -DKEB_IMGUI_DIR="$repo/third_party/imgui" \
      "-DCMAKE_CXX_FLAGS=-fexceptions" "-DCMAKE_EXE_LINKER_FLAGS=-fexceptions" \
      "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node;--no-experimental-fetch" \
      >"$bdir/configure.log" 2>&1; then
    cat "$bdir/configure.log" >&2
    return 1
  fi
}
