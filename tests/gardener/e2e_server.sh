#!/usr/bin/env bash
# End-to-end: keb-fake-gardener (TLS, faults on) + keb-server --kubeconfig. An upgradeCluster
# orchestration over 2,000 shoots with workers 50 in accelerated time must finish with every
# shoot at the new version, changed exactly once. With KILLS > 0 the server is SIGKILLed that
# many times midway and restarted on the same SQLite file.
# Usage: e2e_server.sh keb-fake-gardener keb-server KILLS   (env: E2E_SHOOTS, E2E_WORKERS)
set -uo pipefail
FAKE=${1:?usage}; SERVER=${2:?usage}; KILLS=${3:-0}
SHOOTS=${E2E_SHOOTS:-2000}; WORKERS=${E2E_WORKERS:-50}
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }
W=$(mktemp -d /tmp/keb-e2e-gardener.XXXXXX)
FAKE_PID=""; SERVER_PID=""; KYMA_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
  [ -n "$KYMA_PID" ] && kill "$KYMA_PID" 2>/dev/null
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log (tail)"; tail -15 "$W/server.log"; echo "--- fake stats"; fstats; exit 1; }
cd "$W"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=e2e-ca >/dev/null 2>&1 &&
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1 &&
printf 'subjectAltName=IP:127.0.0.1\n' > san.cnf &&
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile san.cnf >/dev/null 2>&1 ||
  fail "openssl"

FAULTS="429=0.03,5xx=0.03,reset=0.02,slow=0.03,slowms=150,watch410=0.3,retryafter=1,conflict=0.1"
# 10 min reconciles at speed 2400: 0.25 s each.
"$FAKE" --listen 127.0.0.1:0 --shoots "$SHOOTS" --seed 2026 --token e2e-gardener-token --project e2e \
  --tls-cert srv.crt --tls-key srv.key --kubeconfig-ca ca.crt --write-kubeconfig kc.yaml --port-file fake.port \
  --speed 2400 --kubernetes-versions 1.29.5:1 --deleting-share 0 --faults "$FAULTS" --bookmark-interval 1s --watch-timeout 3s \
  --threads 128 >fake.log 2>&1 &
FAKE_PID=$!
for _ in $(seq 200); do [ -s fake.port ] && [ -s kc.yaml ] && break; sleep 0.05; done
[ -s fake.port ] || fail "fake did not start: $(cat fake.log)"
FURL="https://127.0.0.1:$(cat fake.port)"
# A second fake, plain HTTP without token, serves the upgradeKyma contract (docs/upgrade-kyma-contract.md).
"$FAKE" --listen 127.0.0.1:0 --shoots 0 --port-file kyma.port --speed 2400 --faults "429=0.02,5xx=0.02,retryafter=1" \
  >kyma.log 2>&1 &
KYMA_PID=$!
for _ in $(seq 200); do [ -s kyma.port ] && break; sleep 0.05; done
[ -s kyma.port ] || fail "kyma fake did not start"
KURL="http://127.0.0.1:$(cat kyma.port)"
fstats() { curl -s --cacert "$W/ca.crt" -H "Authorization: Bearer e2e-gardener-token" "$FURL/fake/stats"; echo; }

SECRET=e2e-secret-0123456789
TOKEN=$("$SERVER" token --secret "$SECRET" --scope "broker-upgrade:read broker-upgrade:write" --ttl 1h) || fail "token"
start_server() {
  rm -f server.port
  "$SERVER" --listen 127.0.0.1:0 --port-file server.port --store "sqlite:$W/keb.db" --auth "hs256:$SECRET" \
    --kubeconfig kc.yaml --gardener-project e2e --kyma-upgrade-url "$KURL/kyma" --poll-interval 200ms --step-retry 250ms --workers 64 \
    --access-log off --engine-log off >>server.log 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do [ -s server.port ] && break; kill -0 $SERVER_PID 2>/dev/null || break; sleep 0.05; done
  [ -s server.port ] || fail "keb-server did not start"
  SURL="http://127.0.0.1:$(cat server.port)"
}
api() { curl -s -H "Authorization: Bearer $TOKEN" "$@"; }
T0=$(date +%s.%N)
start_server
echo "keb-server up (Gardener mode) after $(python3 -c "import time;print(round(time.time()-$T0,2))") s"

BODY='{"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":'$WORKERS'}},"kubernetes":{"kubernetesVersion":"1.30.2","machineImage":"gardenlinux","machineImageVersion":"1443.9.0"}}'
resp=$(api -X POST -H "Content-Type: application/json" -d "$BODY" "$SURL/upgrade/cluster")
OID=$(echo "$resp" | python3 -c 'import json,sys;print(json.load(sys.stdin)["orchestrationID"])') || fail "submit: $resp"
echo "orchestration $OID submitted"

kill_at=()
if [ "$KILLS" -ge 1 ]; then kill_at+=($((SHOOTS / 4))); fi
if [ "$KILLS" -ge 2 ]; then kill_at+=($((SHOOTS * 3 / 5))); fi
killed=0
state=""
for _ in $(seq 1800); do
  o=$(api "$SURL/orchestrations/$OID")
  read -r state succ failed inprog < <(echo "$o" | python3 -c '
import json,sys
try:
  d=json.load(sys.stdin); s=d.get("operationStats",{})
  print(d["state"].replace(" ","_"), s.get("succeeded",0), s.get("failed",0), s.get("in progress",0))
except Exception: print("unreachable 0 0 0")')
  if [ "$state" = succeeded ] || [ "$state" = failed ]; then break; fi
  if [ $killed -lt ${#kill_at[@]} ] && [ "$succ" -ge "${kill_at[$killed]}" ]; then
    echo "SIGKILL keb-server at succeeded=$succ in_progress=$inprog"
    kill -9 $SERVER_PID; wait $SERVER_PID 2>/dev/null
    killed=$((killed + 1))
    start_server
  fi
  sleep 0.1
done
T1=$(python3 -c "import time;print(round(time.time()-$T0,1))")
echo "orchestration $state after $T1 s: succeeded=$succ failed=$failed (kills: $killed)"
[ "$state" = succeeded ] || fail "orchestration ended '$state'; $(api "$SURL/orchestrations/$OID/operations?state=failed&page_size=3")"
[ "$succ" -eq "$SHOOTS" ] || fail "succeeded $succ of $SHOOTS"
[ "$killed" -eq "$KILLS" ] || fail "killed $killed times, wanted $KILLS (finished too fast?)"
fstats > stats.json
python3 - "$SHOOTS" <<'PY' || fail "fake Gardener state"
import json, sys
n = int(sys.argv[1])
s = json.load(open("stats.json"))
assert s["kubernetesVersions"] == {"1.30.2": n}, s["kubernetesVersions"]
assert s["versionChanges"] == {"1": n}, ("every shoot changed exactly once", s["versionChanges"], s["shootsChangedMoreThanOnce"])
assert s["lastOperationStates"] == {"Succeeded": n}, s["lastOperationStates"]
c = s["counters"]
injected = {k: c.get(k, 0) for k in ("fault429", "fault5xx", "faultReset", "faultSlow", "faultWatch410", "faultConflict")}
for k in ("fault429", "fault5xx", "faultReset", "faultConflict"):
    assert injected[k] > 0, ("fault did not fire", k, injected)
# Successful patches: one per shoot, even when an applied patch's answer was lost
# (patchAnswersLost) or the server was killed between patch and record.
assert c.get("patches", 0) == n, ("patches", c.get("patches"), "answers lost", c.get("patchAnswersLost", 0))
print("fake Gardener: all %d shoots at 1.30.2, each changed once; patches=%d (answers lost: %d) conflicts=%d "
      "injected faults %s" % (n, c.get("patches", 0), c.get("patchAnswersLost", 0), c.get("conflicts", 0), injected))
PY

if [ "$KILLS" -eq 0 ]; then
  # upgradeKyma over the same fleet through the HTTP contract.
  KBODY='{"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":100}},"kyma":{"version":"2.21.0"}}'
  resp=$(api -X POST -H "Content-Type: application/json" -d "$KBODY" "$SURL/upgrade/kyma")
  KID=$(echo "$resp" | python3 -c 'import json,sys;print(json.load(sys.stdin)["orchestrationID"])') || fail "kyma submit: $resp"
  for _ in $(seq 1200); do
    read -r kstate ksucc < <(api "$SURL/orchestrations/$KID" | python3 -c '
import json,sys
try:
  d=json.load(sys.stdin); print(d["state"].replace(" ","_"), d.get("operationStats",{}).get("succeeded",0))
except Exception: print("unreachable 0")')
    if [ "$kstate" = succeeded ] || [ "$kstate" = failed ]; then break; fi
    sleep 0.1
  done
  [ "$kstate" = succeeded ] && [ "$ksucc" -eq "$SHOOTS" ] || fail "upgradeKyma ended '$kstate' with $ksucc succeeded"
  curl -s "$KURL/fake/stats" > kstats.json
  python3 - "$SHOOTS" <<'PY' || fail "kyma fake state"
import json, sys
n = int(sys.argv[1]); k = json.load(open("kstats.json"))["kymaUpgrades"]
assert k == {"operations": n, "runtimes": n, "maxPerRuntime": 1}, k
print("upgradeKyma: %d runtimes upgraded once each through the HTTP contract" % n)
PY
fi
echo "PASS"
