#!/usr/bin/env bash
# Real kubectl against keb-fake-gardener over TLS with a generated CA: get, -o json,
# label selectors, -w, patch --type merge, 422 refusal, 409 precondition, 401.
# Usage: kubectl_check.sh PATH/TO/keb-fake-gardener      (exit 77: kubectl not installed)
set -uo pipefail
FAKE=${1:?usage: kubectl_check.sh keb-fake-gardener}
command -v kubectl >/dev/null || { echo "SKIP: kubectl not installed"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
W=$(mktemp -d /tmp/keb-kubectl.XXXXXX)
FAKE_PID=""
cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- fake log"; tail -20 "$W/fake.log"; exit 1; }
ok() { echo "ok: $*"; }

cd "$W"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=kubectl-ca >/dev/null 2>&1 &&
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1 &&
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.cnf &&
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile san.cnf >/dev/null 2>&1 ||
  fail "openssl could not make certificates"

N=30
"$FAKE" --listen 127.0.0.1:0 --shoots $N --seed 11 --token kubectl-token --project kc \
  --tls-cert srv.crt --tls-key srv.key --kubeconfig-ca ca.crt --write-kubeconfig kc.yaml --port-file port \
  --speed 1200 --kubernetes-versions 1.29.5:1 --bookmark-interval 1s >fake.log 2>&1 &
FAKE_PID=$!
for _ in $(seq 100); do [ -s kc.yaml ] && [ -s port ] && break; sleep 0.1; done
[ -s kc.yaml ] || fail "fake did not start"
export HOME="$W/home" KUBECONFIG="$W/kc.yaml"   # fresh discovery cache
NS=garden-kc
K="kubectl --request-timeout=20s"

out=$($K get shoots -n $NS 2>err.txt) || fail "kubectl get shoots: $(cat err.txt)"
lines=$(echo "$out" | tail -n +2 | wc -l)
echo "$out" | head -1 | grep -q '^NAME' || fail "no table header: $out"
[ "$lines" -eq $N ] || fail "kubectl get shoots printed $lines rows, want $N"
ok "kubectl get shoots -n $NS: $lines rows"

$K get shoots -n $NS -o json > list.json 2>err.txt || fail "-o json: $(cat err.txt)"
python3 - "$N" <<'PY' || fail "-o json content"
import json, sys
d = json.load(open("list.json"))
n = int(sys.argv[1])
assert d["kind"] == "List", d["kind"]
assert len(d["items"]) == n, len(d["items"])
for s in d["items"]:
    assert s["kind"] == "Shoot"
    assert s["metadata"]["namespace"] == "garden-kc"
    assert s["metadata"]["annotations"]["kcp.provisioner.kyma-project.io/runtime-id"]
    assert s["spec"]["kubernetes"]["version"] == "1.29.5"
    assert s["status"]["lastOperation"]["state"] == "Succeeded"
plans = {}
for s in d["items"]:
    p = s["metadata"]["labels"]["kyma-project.io/broker-plan-name"]
    plans[p] = plans.get(p, 0) + 1
plan, count = sorted(plans.items(), key=lambda kv: -kv[1])[0]
open("plan.txt", "w").write(f"{plan} {count}\n")
open("first.txt", "w").write(sorted(s["metadata"]["name"] for s in d["items"])[0] + "\n")
PY
ok "-o json: $N Shoots with runtime ids"

read -r PLAN PCOUNT < plan.txt
sel=$($K get shoots -n $NS -l "kyma-project.io/broker-plan-name=$PLAN" -o name 2>err.txt | wc -l)
[ "$sel" -eq "$PCOUNT" ] || fail "label selector plan=$PLAN gave $sel, want $PCOUNT ($(cat err.txt))"
ok "label selector: $sel shoots of plan $PLAN"

$K get --raw /apis/core.gardener.cloud/v1beta1 | grep -q '"shoots"' || fail "discovery has no shoots"
$K get projects kc -o jsonpath='{.spec.namespace}' | grep -qx "$NS" || fail "project namespace"
ok "discovery and project"

S=$(cat first.txt)
timeout 8 $K get shoots -n $NS -w -o name > watch.txt 2>watch.err &
WATCH_PID=$!
sleep 2
$K patch shoot "$S" -n $NS --type merge -p '{"spec":{"kubernetes":{"version":"1.30.2"}}}' > patch.txt 2>err.txt ||
  fail "kubectl patch: $(cat err.txt)"
grep -q patched patch.txt || fail "patch output: $(cat patch.txt)"
ok "kubectl patch --type merge"
# Reconcile takes 10m/1200 = 0.5 s; wait for Succeeded at the new generation.
for _ in $(seq 50); do
  st=$($K get shoot "$S" -n $NS -o jsonpath='{.spec.kubernetes.version} {.status.lastOperation.state} {.metadata.generation} {.status.observedGeneration}')
  [ "$st" = "1.30.2 Succeeded 2 2" ] && break
  sleep 0.2
done
[ "$st" = "1.30.2 Succeeded 2 2" ] || fail "after patch: '$st'"
ok "upgrade reconciled: $st"
wait $WATCH_PID 2>/dev/null
seen=$(grep -c "shoot.core.gardener.cloud/$S\$" watch.txt)
total=$(wc -l < watch.txt)
[ "$seen" -ge 3 ] || fail "watch saw $S $seen times (want initial + >= 2 changes); $(cat watch.err)"
[ "$total" -ge $((N + 2)) ] || fail "watch printed $total lines"
ok "kubectl get -w: $total events, $seen for $S"

if $K patch shoot "$S" -n $NS --type merge -p '{"spec":{"kubernetes":{"version":"1.29.5"}}}' >/dev/null 2>err.txt; then
  fail "a downgrade was accepted"
fi
grep -q "downgrade is not supported" err.txt || fail "422 message: $(cat err.txt)"
ok "downgrade refused: $(head -c 160 err.txt)"

if $K patch shoot "$S" -n $NS --type merge -p '{"metadata":{"resourceVersion":"1"},"spec":{"kubernetes":{"version":"1.30.3"}}}' >/dev/null 2>err.txt; then
  fail "a stale resourceVersion was accepted"
fi
grep -qi "conflict\|has been modified" err.txt || fail "409 message: $(cat err.txt)"
ok "stale resourceVersion -> Conflict"

sed 's/token: kubectl-token/token: wrong/' kc.yaml > bad.yaml
if kubectl --kubeconfig bad.yaml get shoots -n $NS >/dev/null 2>err.txt; then fail "wrong token accepted"; fi
grep -qi "unauthorized\|credentials" err.txt || fail "401 message: $(cat err.txt)"
ok "wrong token -> Unauthorized"
echo "PASS: kubectl $(kubectl version --client -o json 2>/dev/null | python3 -c 'import json,sys;print(json.load(sys.stdin)["clientVersion"]["gitVersion"])' 2>/dev/null)"
