#!/usr/bin/env bash
# Browser test of the simulator: builds build/web if needed (scripts/build-web.sh), installs
# playwright-core + pngjs in tests/web (npm ci from the lock file), and runs tests/web/web.test.mjs
# in headless Debian chromium. Needs the native keb-sim (build/bin/keb-sim, or KEB_SIM=path) to
# compare summaries. Then tests/web/live.test.mjs: Live mode (SPEC 12) against a real keb-server
# it starts itself (build/bin/keb-server, or KEB_SERVER=path) serving the same page.
# Artifacts (screenshots, summaries, numbers) go to test-artifacts/.
# Env: KEB_WEB_REBUILD=1 forces a rebuild of the page; KEB_SIM, KEB_SERVER, KEB_WEB_ROOT, KEB_ARTIFACTS.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh"
export KEB_WEB_ROOT=${KEB_WEB_ROOT:-$repo/build/web}
if [ "${KEB_WEB_REBUILD:-0}" = 1 ] || [ ! -s "$KEB_WEB_ROOT/keb-web.wasm" ] || [ -n "$(find "$repo/web" "$repo/core" "$repo/sim" "$repo/scenarios" -newer "$KEB_WEB_ROOT/keb-web.wasm" -type f 2>/dev/null | head -1)" ]; then
  KEB_WEB_OUT="$KEB_WEB_ROOT" "$repo/scripts/build-web.sh"
fi
export KEB_SIM=${KEB_SIM:-$repo/build/bin/keb-sim}
[ -x "$KEB_SIM" ] || { echo "test-web: $KEB_SIM not found: build the native project first (keb-sim)" >&2; exit 1; }
if ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends npm
fi
cd "$repo/tests/web"
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/pngjs ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
export KEB_SERVER=${KEB_SERVER:-$repo/build/bin/keb-server}
[ -x "$KEB_SERVER" ] || { echo "test-web: $KEB_SERVER not found: build the native project first (keb-server)" >&2; exit 1; }
rc=0
node web.test.mjs || rc=$?
node live.test.mjs || rc=$?
exit $rc
