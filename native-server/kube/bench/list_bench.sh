#!/usr/bin/env bash
# Initial list + cache build of N shoots (default 50,000) from keb-fake-gardener over loopback
# (TLS), timed with keb-kube-bench, beside `kubectl get shoots -o json` on the same fleet.
# Usage: list_bench.sh BINDIR [N]      (BINDIR holds keb-fake-gardener and keb-kube-bench)
set -euo pipefail
BIN=${1:?usage: list_bench.sh BINDIR [N]}; N=${2:-50000}
[ -d "$BIN" ] || { echo "list_bench.sh: $BIN is not a directory" >&2; exit 2; }
BIN=$(cd "$BIN" && pwd)  # absolute: the script changes directory below
W=$(mktemp -d /tmp/keb-list-bench.XXXXXX)
FAKE_PID=""
cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cd "$W"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=bench-ca >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' > san.cnf
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile san.cnf >/dev/null 2>&1
t0=$(date +%s.%N)
"$BIN/keb-fake-gardener" --listen 127.0.0.1:0 --shoots "$N" --seed 1 --token bench --project bench \
  --tls-cert srv.crt --tls-key srv.key --kubeconfig-ca ca.crt --write-kubeconfig kc.yaml --port-file port \
  >fake.log 2>&1 &
FAKE_PID=$!
for _ in $(seq 600); do [ -s port ] && [ -s kc.yaml ] && break; sleep 0.05; done
echo "fake Gardener with $N shoots up in $(python3 -c "import time;print(round(time.time()-$t0,2))") s"
echo "== keb-kube-bench (page size 500, as kubectl)"
"$BIN/keb-kube-bench" --kubeconfig kc.yaml --project bench --page-size 500 --repeat 3
if command -v kubectl >/dev/null; then
  export HOME="$W/home"
  kubectl --kubeconfig kc.yaml get --raw /version >/dev/null  # warm the discovery cache
  echo "== kubectl get shoots -o json (same fleet; chunked by 500 like the client)"
  for i in 1 2 3; do
    /usr/bin/time -f "kubectl run $i: %e s wall, peak RSS %M KB" \
      kubectl --kubeconfig kc.yaml get shoots -n garden-bench -o json > out.json
  done
  echo "kubectl printed $(python3 -c 'import json;print(len(json.load(open("out.json"))["items"]))') shoots"
else
  echo "kubectl not installed: comparison skipped"
fi
