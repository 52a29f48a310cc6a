#!/usr/bin/env bash
# Load test of keb-server (issue 4), on loopback with wrk:
#  1. fills a SQLite store with one orchestration of 100,000 operations (one transaction, timed);
#  2. wrk against GET /orchestrations/{id}/operations?page_size=100 and GET /orchestrations/{id};
#  3. the same wrk run against keb-bare-http (bare cpp-httplib, fixed 10 KB JSON, same thread pool);
#  4. prints req/s, p99 and the ratio to the bare handler (target >= 70%);
#  5. restart time with 100,000 operations of an unfinished orchestration in the store (target < 1 s).
# Usage: bench/server/run.sh [BUILD_DIR]   (default: build). Env: KEB_BENCH_DURATION (10s),
# KEB_BENCH_CONNECTIONS (32), KEB_BENCH_THREADS (2), KEB_BENCH_ACCESS_LOG (on).
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD/bin" && pwd)
for b in keb-server keb-bare-http; do
  [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: build it first (ninja -C $BUILD keb-server keb-bare-http)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
DUR=${KEB_BENCH_DURATION:-10s}
CONN=${KEB_BENCH_CONNECTIONS:-32}
THREADS=${KEB_BENCH_THREADS:-2}
ACCESS_LOG=${KEB_BENCH_ACCESS_LOG:-on}
CACHE=${KEB_BENCH_CACHE:-on}
WORK=$(mktemp -d /tmp/keb-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

wait_port() {  # file -> port
  for _ in $(seq 1 500); do [ -s "$1" ] && { cat "$1"; return 0; }; sleep 0.01; done
  echo "server did not start" >&2; return 1
}
wrk_run() {  # name url [header] -> prints "name req/s p99"
  local name=$1 url=$2 hdr=${3:-}
  local out
  if [ -n "$hdr" ]; then out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency -H "$hdr" "$url"); else out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency "$url"); fi
  local rps p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-52s %12s req/s   p99 %8s%s\n' "$name" "$rps" "$p99" "${non2xx:+   NON-2xx: $non2xx}"
  echo "$rps" > "$WORK/last_rps"
}

echo "== fill: 100,000 operations in one transaction"
FILL=$("$BIN/keb-server" fill --store "sqlite:$WORK/bench.db" --operations 100000 --state succeeded)
ID=$(echo "$FILL" | sed -E 's/.*"orchestrationID":"([^"]+)".*/\1/')
echo "   $FILL"

SECRET=bench-secret-0123456789
TOKEN=$("$BIN/keb-server" token --secret "$SECRET" --scope broker-upgrade:read --ttl 1h)
"$BIN/keb-server" --listen 127.0.0.1:0 --port-file "$WORK/port" --store "sqlite:$WORK/bench.db" \
  --auth "hs256:$SECRET" --access-log "$ACCESS_LOG" --response-cache "$CACHE" >"$WORK/server.out" 2>"$WORK/server.log" &
PIDS+=($!)
PORT=$(wait_port "$WORK/port")
BPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$BIN/keb-bare-http" "$BPORT" 32 >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$BPORT/" && break; sleep 0.01; done

OPS_URL="http://127.0.0.1:$PORT/orchestrations/$ID/operations?page_size=100"
# For context only: the bare handler with a body as large as the operations page.
OPS_BYTES=$(curl -s -H "Authorization: Bearer $TOKEN" "$OPS_URL" | wc -c)
B2PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$BIN/keb-bare-http" "$B2PORT" 32 "$OPS_BYTES" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$B2PORT/" && break; sleep 0.01; done
ONE_URL="http://127.0.0.1:$PORT/orchestrations/$ID"
echo "   page of 100 operations: $(curl -s -H "Authorization: Bearer $TOKEN" "$OPS_URL" | wc -c) bytes; one orchestration: $(curl -s -H "Authorization: Bearer $TOKEN" "$ONE_URL" | wc -c) bytes; bare: $(curl -s "http://127.0.0.1:$BPORT/" | wc -c) bytes"
ROUNDS=${KEB_BENCH_ROUNDS:-3}
echo "== wrk -t$THREADS -c$CONN -d$DUR, $ROUNDS interleaved rounds (access log $ACCESS_LOG, response cache $CACHE; load average $(cut -d' ' -f1-3 /proc/loadavg))"
: > "$WORK/results"
for r in $(seq 1 "$ROUNDS"); do
  wrk_run "bare cpp-httplib, fixed 10 KB JSON" "http://127.0.0.1:$BPORT/"
  echo "bare $(cat "$WORK/last_rps")" >> "$WORK/results"
  wrk_run "GET /orchestrations/{id}/operations?page_size=100" "$OPS_URL" "Authorization: Bearer $TOKEN"
  echo "ops $(cat "$WORK/last_rps")" >> "$WORK/results"
  wrk_run "GET /orchestrations/{id}" "$ONE_URL" "Authorization: Bearer $TOKEN"
  echo "one $(cat "$WORK/last_rps")" >> "$WORK/results"
  wrk_run "(context) bare cpp-httplib, same size as the page" "http://127.0.0.1:$B2PORT/"
  echo "bare2 $(cat "$WORK/last_rps")" >> "$WORK/results"
done
python3 - "$WORK/results" <<'PY'
import sys, statistics
r = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    r.setdefault(k, []).append(float(v))
m = {k: statistics.median(v) for k, v in r.items()}
print(f"   medians: bare {m['bare']:.0f} req/s, operations page {m['ops']:.0f} req/s, one orchestration {m['one']:.0f} req/s")
print(f"   ratio operations page / bare: {m['ops']/m['bare']*100:.0f}%   one orchestration / bare: {m['one']/m['bare']*100:.0f}%   (target >= 70%)")
print(f"   (context: operations page / bare handler with a body of the page's size: {m['ops']/m['bare2']*100:.0f}%)")
PY
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true

echo "== restart with 100,000 operations of an unfinished orchestration"
"$BIN/keb-server" fill --store "sqlite:$WORK/restart.db" --operations 100000 --state in-progress >/dev/null
for i in 1 2 3; do
  rm -f "$WORK/rport"
  T0=$(date +%s%N)
  "$BIN/keb-server" --listen 127.0.0.1:0 --port-file "$WORK/rport" --store "sqlite:$WORK/restart.db" \
    --auth "hs256:$SECRET" --engine-log off --access-log off --step-retry 1h >"$WORK/r.out" 2>"$WORK/r.log" &
  RP=$!
  P=$(wait_port "$WORK/rport")
  until curl -s -o /dev/null "http://127.0.0.1:$P/healthz"; do sleep 0.005; done
  T1=$(date +%s%N)
  CPU=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($14+$15)*1000/hz}' /proc/$RP/stat)
  REC=$(grep -o '"event":"startup.recovered"[^}]*' "$WORK/r.log" | grep -o '"durationMs":[0-9.]*' | cut -d: -f2)
  printf '   run %d: process start -> /healthz answers: %d ms wall, %d ms CPU   (engine.recover: %.0f ms wall; load average %s)\n' \
    "$i" $(( (T1 - T0) / 1000000 )) "$CPU" "$REC" "$(cut -d' ' -f1 /proc/loadavg)"
  kill -9 $RP; wait $RP 2>/dev/null || true
done
