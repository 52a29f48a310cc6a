#!/usr/bin/env bash
# PostgreSQL vs SQLite (SPEC 11), on loopback with wrk, against a throwaway PostgreSQL 15 this
# script starts (initdb into a temp folder, unix socket in a private folder, fsync on):
#  1. fills each store with one orchestration of 100,000 operations (`keb-server fill`, timed);
#  2. wrk against GET /orchestrations/{id}/operations?page_size=100 with the GET response cache
#     OFF (every request reads the store and renders the page), one keb-server per store,
#     interleaved rounds;
#  3. restart with 100,000 operations of an unfinished orchestration in PostgreSQL (target < 2 s):
#     process start -> /healthz answers, process start -> /healthz says leader (the lease taken
#     and the engine recovered: writes are served), and the engine's own recover duration.
# Usage: bench/server/pg_run.sh [BUILD_DIR]. Env: KEB_BENCH_DURATION (10s), KEB_BENCH_CONNECTIONS
# (32), KEB_BENCH_THREADS (2), KEB_BENCH_ROUNDS (3), KEB_BENCH_PAGE (1), KEB_BENCH_STATE (none; e.g.
# succeeded or succeeded,failed: the page is filtered by those states; the fill is all succeeded),
# KEB_BENCH_ONLY_RESTART=1 (part 3 only), KEB_BENCH_SKIP_RESTART=1 (parts 1 and 2 only). Needs root (the server runs as `postgres`)
# or to be run as a user initdb accepts.
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD/bin" && pwd)
[ -x "$BIN/keb-server" ] || { echo "missing $BIN/keb-server: build it first" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql-15)" >&2; exit 2; }
DUR=${KEB_BENCH_DURATION:-10s}
CONN=${KEB_BENCH_CONNECTIONS:-32}
THREADS=${KEB_BENCH_THREADS:-2}
ROUNDS=${KEB_BENCH_ROUNDS:-3}
PAGE=${KEB_BENCH_PAGE:-1}  # 1000: the last page (deep pages: OFFSET vs anchors)
# state=a&state=b for KEB_BENCH_STATE=a,b (deep filtered pages: OFFSET vs the filter's anchors)
FILTER=""
[ -n "${KEB_BENCH_STATE:-}" ] && FILTER=$(echo "$KEB_BENCH_STATE" | tr ',' '\n' | sed 's/^/\&state=/' | tr -d '\n')
WORK=$(mktemp -d /tmp/keb-pgbench-XXXXXX)
AS=(); [ "$(id -u)" = 0 ] && { chown postgres "$WORK"; AS=(runuser -u postgres --); }
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${AS[@]}" "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -w -l "$WORK/pg.log" \
  -o "-c listen_addresses= -c unix_socket_directories=$WORK -p 5432 -c shared_buffers=256MB -c max_connections=200" start >/dev/null
PSQL=("${AS[@]}" "$PGBIN/psql" -X -q -h "$WORK" -p 5432 -U postgres)
"${PSQL[@]}" -c "CREATE DATABASE bench" postgres
PGURI="postgresql:///bench?host=$WORK&port=5432&user=postgres"
mkdir -p "$WORK/sq"

wait_port() { for _ in $(seq 1 1000); do [ -s "$1" ] && { cat "$1"; return 0; }; sleep 0.01; done; echo "server did not start" >&2; return 1; }

if [ "${KEB_BENCH_ONLY_RESTART:-0}" != 1 ]; then
echo "== fill: 100,000 operations in one transaction"
FILL_PG=$("$BIN/keb-server" fill --store "$PGURI" --operations 100000 --state succeeded)
FILL_SQ=$("$BIN/keb-server" fill --store "sqlite:$WORK/sq/bench.db" --operations 100000 --state succeeded)
echo "   postgres: $FILL_PG"
echo "   sqlite:   $FILL_SQ"
ID_PG=$(echo "$FILL_PG" | sed -E 's/.*"orchestrationID":"([^"]+)".*/\1/')
ID_SQ=$(echo "$FILL_SQ" | sed -E 's/.*"orchestrationID":"([^"]+)".*/\1/')

declare -A PORT
for st in pg sq; do
  if [ $st = pg ]; then SPEC=$PGURI; else SPEC="sqlite:$WORK/sq/bench.db"; fi
  "$BIN/keb-server" --listen 127.0.0.1:0 --port-file "$WORK/port-$st" --store "$SPEC" --auth none \
    --access-log off --engine-log off --response-cache off >"$WORK/server-$st.out" 2>"$WORK/server-$st.log" &
  PIDS+=($!)
  PORT[$st]=$(wait_port "$WORK/port-$st")
done
# Both stores answer the same page (ids and timestamps differ: compare the shape and sizes).
for st in pg sq; do
  if [ $st = pg ]; then ID=$ID_PG; else ID=$ID_SQ; fi
  echo "   $st: page of 100: $(curl -s "http://127.0.0.1:${PORT[$st]}/orchestrations/$ID/operations?page_size=100" | wc -c) bytes," \
       "page $PAGE${FILTER:+ ($FILTER)}: $(curl -s "http://127.0.0.1:${PORT[$st]}/orchestrations/$ID/operations?page_size=100&page=$PAGE$FILTER" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["count"], "items of", d["totalCount"])')"
done
echo "== wrk -t$THREADS -c$CONN -d$DUR, response cache off, $ROUNDS interleaved rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
: > "$WORK/results"
for r in $(seq 1 "$ROUNDS"); do
  for st in sq pg; do
    if [ $st = pg ]; then ID=$ID_PG; else ID=$ID_SQ; fi
    out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency "http://127.0.0.1:${PORT[$st]}/orchestrations/$ID/operations?page_size=100&page=$PAGE$FILTER")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    printf '   round %d %-8s %10s req/s   p99 %8s%s\n' "$r" "$st" "$rps" "$p99" "${non2xx:+   NON-2xx: $non2xx}"
    echo "$st $rps" >> "$WORK/results"
  done
done
python3 - "$WORK/results" <<'PY'
import sys, statistics
v = {}
for line in open(sys.argv[1]):
    k, r = line.split(); v.setdefault(k, []).append(float(r))
m = {k: statistics.median(x) for k, x in v.items()}
print(f"   median: sqlite {m['sq']:.0f} req/s, postgres {m['pg']:.0f} req/s (postgres / sqlite {m['pg']/m['sq']*100:.0f}%)")
PY
for p in "${PIDS[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
PIDS=()
fi

[ "${KEB_BENCH_SKIP_RESTART:-0}" = 1 ] && exit 0
echo "== restart with 100,000 operations of an unfinished orchestration in PostgreSQL"
# A fresh database per run: a started server moves the operations on (the demo backend answers
# for them), so a second start on the same rows would recover almost nothing.
for i in 1 2 3; do
  "${PSQL[@]}" -c "CREATE DATABASE restart$i" postgres
  RURI="postgresql:///restart$i?host=$WORK&port=5432&user=postgres"
  "$BIN/keb-server" fill --store "$RURI" --operations 100000 --state in-progress >/dev/null
  rm -f "$WORK/rport"
  T0=$(date +%s%N)
  "$BIN/keb-server" --listen 127.0.0.1:0 --port-file "$WORK/rport" --store "$RURI" --auth none \
    --engine-log off --access-log off --step-retry 1h >"$WORK/r.out" 2>"$WORK/r.log" &
  RP=$!
  P=$(wait_port "$WORK/rport")
  until curl -s -o /dev/null "http://127.0.0.1:$P/healthz"; do sleep 0.005; done
  T1=$(date +%s%N)
  until curl -s "http://127.0.0.1:$P/healthz" | grep -q '"role":"leader"'; do sleep 0.005; done
  T2=$(date +%s%N)
  REC=$(grep -o '"event":"startup.recovered"[^}]*' "$WORK/r.log" | grep -o '"durationMs":[0-9.]*' | cut -d: -f2 || true)
  printf '   run %d: process start -> /healthz answers: %d ms, -> leader: %d ms wall   (engine.recover: %s ms; load average %s)\n' \
    "$i" $(( (T1 - T0) / 1000000 )) $(( (T2 - T0) / 1000000 )) "${REC:-?}" "$(cut -d' ' -f1 /proc/loadavg)"
  # SIGTERM hands the lease over, so the next start does not wait out a dead holder's lease (that
  # is failover, measured by bench/ha/failover.py): start -> leader is connect, take, recover.
  kill $RP; wait $RP 2>/dev/null || true
done
