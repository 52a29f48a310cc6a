#!/usr/bin/env bash
# Fetches the Dear ImGui sources (imgui.cpp, imgui_draw.cpp, ..., backends/) for the wasm
# build from Debian's source archive into third_party/imgui (ignored by git, never committed).
# Debian's libimgui-dev has no imgui.cpp etc., so the orig tarball of the source package is used.
# Uses a private apt lists folder: the system's apt configuration is not touched.
# Usage: scripts/fetch-imgui.sh [dest]   (default <repo>/third_party/imgui)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo/third_party/imgui}
if [ -f "$dest/imgui.cpp" ] && [ -f "$dest/backends/imgui_impl_glfw.cpp" ]; then
  echo "fetch-imgui: $dest already present"
  exit 0
fi
command -v apt-get >/dev/null || { echo "fetch-imgui: apt-get not found (Debian needed)" >&2; exit 1; }
command -v xz >/dev/null || { echo "fetch-imgui: xz not found (install xz-utils)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/dl"
for suite in ${KEB_IMGUI_SUITES:-trixie bookworm}; do
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$suite" > "$work/parts/src.sources"
  O=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/parts"
     -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root)
  rm -rf "$work/lists"/* "$work/dl"/*; mkdir -p "$work/lists/partial"
  if apt-get "${O[@]}" -q update >"$work/update.log" 2>&1 &&
     (cd "$work/dl" && apt-get "${O[@]}" -q source --download-only imgui >"$work/source.log" 2>&1); then
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
  echo "fetch-imgui: suite $suite failed, see below; trying the next one" >&2
  tail -5 "$work/update.log" "$work/source.log" 2>/dev/null >&2 || true
done
echo "fetch-imgui: could not download the imgui source package from deb.debian.org" >&2
exit 1
