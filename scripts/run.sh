#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds keb-server and the browser
# simulator, and starts the server on http://127.0.0.1:8080 with the embedded defaults:
# a SQLite store (build/keb.db), an in-process demo fleet (no Gardener needed), HS256 tokens
# (a ready token is printed) and the browser simulator at /.
# Extra arguments go to keb-server (see build/bin/keb-server --help), e.g.
#   scripts/run.sh --listen 0.0.0.0:8080 --demo-fleet 10000
# Env: KEB_SKIP_WEB=1 skips the WebAssembly build.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scripts/build.sh
web=()
if [ "${KEB_SKIP_WEB:-0}" != 1 ]; then
  if scripts/build-web.sh; then
    web=(--web-root "$repo/build/web")
  else
    echo "run: the browser simulator did not build; starting the server without it" >&2
  fi
fi
# The same with kebctl (printed before the server's own curl examples and its token).
url=http://127.0.0.1:8080
prev=""
for a in "$@"; do
  if [ "$prev" = --listen ]; then url="http://${a/0.0.0.0/127.0.0.1}"; fi
  if [ "$prev" = --tls-cert ]; then url="${url/http:/https:}"; fi
  prev=$a
done
cat <<KEBCTL

kebctl (build/bin/kebctl; docs/kebctl.md), with the token the server prints below:
  export KCP_KEB_API_URL=$url KCP_TOKEN=\$TOKEN
  build/bin/kebctl upgrade kyma --target all --version 2.20.0 --parallel-workers 5 --schedule now
  build/bin/kebctl orchestrations
KEBCTL
exec "$repo/build/bin/keb-server" --store "sqlite:$repo/build/keb.db" --demo-fleet "${KEB_DEMO_FLEET:-2000}" \
  "${web[@]}" "$@"
