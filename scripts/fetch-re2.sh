#!/usr/bin/env bash
# Fetches the RE2 sources for the wasm build from Debian's source archive into third_party/re2
# (ignored by git, never committed), the same upstream release as the native libre2-dev, so the
# browser core matches exactly like the native one. Same method as scripts/fetch-imgui.sh: a
# private apt lists folder (scripts/lib/debian-source.sh), the system's apt configuration is not touched.
# Usage: scripts/fetch-re2.sh [dest]   (default <repo>/third_party/re2)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo/third_party/re2}
# The upstream release of the native library (e.g. 20220601 from 20220601+dfsg-1+b1).
native=$(dpkg-query -W -f '${Version}' libre2-dev 2>/dev/null | sed 's/+.*//; s/-.*//' || true)
if [ -f "$dest/re2/unicode_groups.cc" ] && [ -f "$dest/.keb-version" ]; then
  have=$(cat "$dest/.keb-version")
  if [ -z "$native" ] || [ "$have" = "$native" ]; then
    echo "fetch-re2: $dest already present ($have)"
    exit 0
  fi
  echo "fetch-re2: $dest has RE2 $have but libre2-dev is $native: fetching again"
fi
. "$repo/scripts/lib/debian-source.sh"
debian_source_init fetch-re2
for suite in ${KEB_RE2_SUITES:-bookworm trixie}; do
  if debian_source_download re2 "$suite"; then
    tarball=$(ls "$work"/dl/re2_*.orig.tar.* 2>/dev/null | head -1 || true)
    if [ -n "$tarball" ]; then
      version=$(basename "$tarball" | sed 's/^re2_//; s/[+.].*//')
      if [ -n "$native" ] && [ "$version" != "$native" ]; then
        echo "fetch-re2: $suite has RE2 $version, libre2-dev is $native; trying the next suite" >&2
        continue
      fi
      mkdir -p "$work/unpack"
      tar -xf "$tarball" -C "$work/unpack"
      top=$(dirname "$(dirname "$(find "$work/unpack" -path '*/re2/re2.cc' | head -1)")")
      [ -f "$top/re2/re2.cc" ] || { echo "fetch-re2: re2/re2.cc not in $tarball" >&2; exit 1; }
      # Debian's orig tarball (+dfsg) drops the generated tables; its build regenerates them
      # (REBUILD_TABLES=1) from the unicode-data package (Built-Using: unicode-data 15.0.0-1 in
      # bookworm) after pointing re2/unicode.py at /usr/share/unicode. Do exactly that.
      debtar=$(ls "$work"/dl/re2_*.debian.tar.* 2>/dev/null | head -1 || true)
      [ -n "$debtar" ] && tar -xf "$debtar" -C "$top"
      if [ -f "$top/debian/patches/series" ]; then
        while read -r p; do
          case $p in ''|'#'*) continue ;; esac
          patch -d "$top" -p1 -s <"$top/debian/patches/$p"
        done <"$top/debian/patches/series"
      fi
      [ -f /usr/share/unicode/CaseFolding.txt ] || { echo "fetch-re2: unicode-data not installed" >&2; exit 1; }
      (cd "$top" &&
        perl re2/make_perl_groups.pl >re2/perl_groups.cc &&
        python3 re2/make_unicode_casefold.py >re2/unicode_casefold.cc &&
        python3 re2/make_unicode_groups.py >re2/unicode_groups.cc) ||
        { echo "fetch-re2: generating RE2's Unicode tables failed (perl, python3-six, unicode-data)" >&2; exit 1; }
      rm -rf "$dest"; mkdir -p "$(dirname "$dest")"
      cp -r "$top" "$dest"
      echo "$version" > "$dest/.keb-version"
      echo "fetch-re2: $(basename "$tarball") ($suite) -> $dest"
      exit 0
    fi
  fi
  debian_source_failed "$suite"
done
echo "fetch-re2: could not download the re2 source package ($native) from deb.debian.org" >&2
exit 1
