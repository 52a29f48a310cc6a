#!/usr/bin/env bash
# Fetches the Dear ImGui sources (imgui.cpp, imgui_draw.cpp, ..., backends/) for the wasm
# build from Debian's source archive into third_party/imgui (ignored by git, never committed).
# Debian's libimgui-dev has no imgui.cpp etc., so the orig tarball of the source package is used.
# Uses a private apt lists folder (scripts/lib/debian-source.sh): the system's apt configuration is not touched.
# Usage: scripts/fetch-imgui.sh [dest]   (default <repo>/third_party/imgui)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo/third_party/imgui}
if [ -f "$dest/imgui.cpp" ] && [ -f "$dest/backends/imgui_impl_glfw.cpp" ]; then
  echo "fetch-imgui: $dest already present"
  exit 0
fi
. "$repo/scripts/lib/debian-source.sh"
debian_source_init fetch-imgui
for suite in ${KEB_IMGUI_SUITES:-trixie bookworm}; do
  if debian_source_download imgui "$suite"; then
    tarball=$(ls "$work"/dl/imgui_*.orig.tar.* 2>/dev/null | head -1 || true)
    if [ -n "$tarball" ]; then
      mkdir -p "$work/unpack"
      tar -xf "$tarball" -C "$work/unpack"
      top=$(dirname "$(find "$work/unpack" -name imgui.cpp -not -path '*/examples/*' | head -1)")
      [ -f "$top/imgui.cpp" ] || { echo "fetch-imgui: imgui.cpp not in $tarball" >&2; exit 1; }
      rm -rf "$dest"; mkdir -p "$(dirname "$dest")"
      cp -r "$top" "$dest"
      echo "fetch-imgui: $(basename "$tarball") ($suite) -> $dest"
      exit 0
    fi
  fi
  debian_source_failed "$suite"
done
echo "fetch-imgui: could not download the imgui source package from deb.debian.org" >&2
exit 1
