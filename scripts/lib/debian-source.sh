# Sourced by scripts/fetch-*.sh: downloads a Debian source package (orig and debian tarballs) with
# a private apt lists/cache folder, so the system's apt configuration is never touched.
#   debian_source_init NAME        checks apt-get and xz, makes $work (removed on exit)
#   debian_source_download PKG SUITE   -> 0 and the tarballs in $work/dl, or 1 (logs in $work)
#   debian_source_failed SUITE     says the suite failed and shows the end of apt's logs

debian_source_init() {
  _ds_name=$1
  command -v apt-get >/dev/null || { echo "$_ds_name: apt-get not found (Debian needed)" >&2; exit 1; }
  command -v xz >/dev/null || { echo "$_ds_name: xz not found (install xz-utils)" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/dl"
}

debian_source_download() {
  local pkg=$1 suite=$2
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$suite" > "$work/parts/src.sources"
  local O=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/parts"
           -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root)
  rm -rf "$work/lists"/* "$work/dl"/*; mkdir -p "$work/lists/partial"
  apt-get "${O[@]}" -q update >"$work/update.log" 2>&1 &&
    (cd "$work/dl" && apt-get "${O[@]}" -q source --download-only "$pkg" >"$work/source.log" 2>&1)
}

debian_source_failed() {
  echo "$_ds_name: suite $1 failed, see below; trying the next one" >&2
  local log
  for log in "$work/update.log" "$work/source.log"; do
    [ -s "$log" ] && tail -5 "$log" >&2
  done
  return 0
}
