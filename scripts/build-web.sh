#!/usr/bin/env bash
# Builds the browser simulator into build/web/ (index.html, kebsim-api.js, keb-web.js,
# keb-web.wasm, scenarios/) from a bare Debian machine: installs the packages of
# scripts/packages/*.txt, fetches the Dear ImGui sources if missing, configures the top-level
# project with emcmake (CMake tree in build/web-cmake, shared with scripts/test-wasm.sh) and
# builds the keb-web target.
# Env: KEB_WEB_OUT (default build/web), KEB_JOBS (default 2), KEB_WEB_BUILD_TYPE (default MinSizeRel).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh"
"$repo/scripts/fetch-imgui.sh"
"$repo/scripts/fetch-re2.sh"   # RE2 sources for the wasm core (native: libre2-dev)
# Emscripten 3.1.6 traps (shared/TOOLCHAIN.md): -O2 links need acorn from Debian's node path.
export NODE_PATH=/usr/share/nodejs
out=${KEB_WEB_OUT:-$repo/build/web}
bdir=${KEB_WEB_CMAKE_DIR:-$repo/build/web-cmake}
jobs=${KEB_JOBS:-2}
# shellcheck source=lib/wasm-build.sh
. "$repo/scripts/lib/wasm-build.sh"
configure_wasm_build "$bdir" "$out"
ninja -C "$bdir" -j"$jobs" keb-web
for f in index.html kebsim-api.js keb-web.js keb-web.wasm; do
  [ -s "$out/$f" ] || { echo "build-web: $out/$f missing" >&2; exit 1; }
done
js=$(stat -c %s "$out/keb-web.js"); wasm=$(stat -c %s "$out/keb-web.wasm")
gz=$(cat "$out/keb-web.js" "$out/keb-web.wasm" "$out/index.html" "$out/kebsim-api.js" | gzip -9 | wc -c)
echo "build-web: $out ready: keb-web.js $js B, keb-web.wasm $wasm B (all files gzipped: $gz B)"
