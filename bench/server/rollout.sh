#!/usr/bin/env bash
# Rollout throughput of keb-server on SQLite (issue 15, group commit):
#  1. bare SQLite: single-row transactions committed per second on the same disk, same pragmas
#     (WAL, synchronous=full or normal): the floor a store that commits every write pays;
#  2. keb-server with an instant demo backend (--demo-upgrade-duration 0s, --poll-interval 1ms)
#     and --workers 500 drives ONE Kyma orchestration of N operations (parallel workers 500) to
#     the end: operations finished per second, from the 202 to state succeeded.
# Each operation is written three times (started, in progress, finished), so the bare per-commit
# rate for operations is commits/s / 3; group commit (one transaction per engine tick) is what
# lets the server go past it.
# Usage: bench/server/rollout.sh [BUILD_DIR]  Env: KEB_ROLLOUT_OPS (100000), KEB_ROLLOUT_ROUNDS (3),
# KEB_ROLLOUT_SYNC (full), KEB_ROLLOUT_STORE (sqlite; "memory" for the in-memory store; "postgres"
# for a throwaway PostgreSQL 15 this script starts as pg_run.sh does, fsync on, a fresh database
# per round: needs root or a user initdb accepts).
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD/bin" && pwd)
[ -x "$BIN/keb-server" ] || { echo "missing $BIN/keb-server: build it first" >&2; exit 2; }
N=${KEB_ROLLOUT_OPS:-100000}
ROUNDS=${KEB_ROLLOUT_ROUNDS:-3}
SYNC=${KEB_ROLLOUT_SYNC:-full}
STORE=${KEB_ROLLOUT_STORE:-sqlite}
WORK=$(mktemp -d /tmp/keb-rollout-XXXXXX)
PID=
PGBIN=; AS=()
cleanup() {
  [ -n "$PID" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
  [ -n "$PGBIN" ] && { "${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
if [ "$STORE" = postgres ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$PGBIN/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql-15)" >&2; exit 2; }
  [ "$(id -u)" = 0 ] && { chown postgres "$WORK"; AS=(runuser -u postgres --); }
  "${AS[@]}" "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -w -l "$WORK/pg.log" \
    -o "-c listen_addresses= -c unix_socket_directories=$WORK -p 5432 -c shared_buffers=256MB" start >/dev/null
  PSQL=("${AS[@]}" "$PGBIN/psql" -X -q -h "$WORK" -p 5432 -U postgres)
fi

echo "== bare SQLite: single-row transactions/s (WAL, synchronous=$SYNC), load average $(cut -d' ' -f1-3 /proc/loadavg)"
BARE=${KEB_ROLLOUT_BARE:-}; [ -n "$BARE" ] || BARE=$(python3 - "$WORK/bare.db" "$SYNC" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute(f"PRAGMA synchronous={sys.argv[2].upper()}")
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, state INTEGER, data TEXT)")
db.executemany("INSERT INTO t VALUES (?, 0, ?)", ((i, "x" * 200) for i in range(10000)))
rates = []
for r in range(3):
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 2.0:
        db.execute("BEGIN IMMEDIATE"); db.execute("UPDATE t SET state=state+1 WHERE id=?", (n % 10000,)); db.execute("COMMIT")
        n += 1
    rates.append(n / (time.perf_counter() - t0))
rates.sort()
print(f"{rates[1]:.0f}")
PY
)
echo "   bare SQLite: $BARE commits/s (median of 3) = $((BARE / 3)) operations/s at three commits per operation"

wait_port() { for _ in $(seq 1 1000); do [ -s "$1" ] && { cat "$1"; return 0; }; sleep 0.01; done; echo "server did not start" >&2; return 1; }
RATES=()
for r in $(seq 1 "$ROUNDS"); do
  rm -f "$WORK"/keb.db* "$WORK/port"
  if [ "$STORE" = memory ]; then SPEC=memory; else SPEC="sqlite:$WORK/keb.db"; fi
  if [ "$STORE" = postgres ]; then
    "${PSQL[@]}" -c "SET client_min_messages=warning" -c "DROP DATABASE IF EXISTS rollout" -c "CREATE DATABASE rollout" postgres
    SPEC="postgresql:///rollout?host=$WORK&port=5432&user=postgres"
  fi
  "$BIN/keb-server" --listen 127.0.0.1:0 --port-file "$WORK/port" --store "$SPEC" --sqlite-synchronous "$SYNC" \
    --auth none --demo-fleet "$N" --demo-upgrade-duration 0s --poll-interval 1ms --workers 500 \
    --access-log off --engine-log off >"$WORK/server.out" 2>"$WORK/server.log" &
  PID=$!
  PORT=$(wait_port "$WORK/port")
  # PostgreSQL: writes are served once this replica holds the leader lease.
  [ "$STORE" = postgres ] && until curl -s "http://127.0.0.1:$PORT/healthz" | grep -q '"role":"leader"'; do sleep 0.01; done
  T0=$(date +%s%N)
  ID=$(curl -s -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/upgrade/kyma" \
    -d '{"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":500}},"kyma":{"version":"2.20.0"}}' \
    | sed -E 's/.*"orchestrationID":"([^"]+)".*/\1/')
  while :; do
    ST=$(curl -s "http://127.0.0.1:$PORT/orchestrations/$ID" | sed -E 's/.*"state":"([a-z ]+)".*/\1/')
    [ "$ST" = succeeded ] || [ "$ST" = failed ] && break
    sleep 0.05
  done
  T1=$(date +%s%N)
  STATS=$(curl -s "http://127.0.0.1:$PORT/orchestrations/$ID/operations?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totalCount"])')
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
  RATE=$(python3 -c "print(f'{$STATS / (($T1 - $T0) / 1e9):.0f}')")
  RATES+=("$RATE")
  echo "   round $r: $STATS operations $ST in $(python3 -c "print(f'{($T1 - $T0) / 1e9:.2f}')") s = $RATE operations/s (store $STORE, synchronous=$SYNC)"
done
MED=$(printf '%s\n' "${RATES[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "== keb-server rollout: $MED operations/s (median of $ROUNDS); bare SQLite per-commit rate: $((BARE / 3)) operations/s; ratio $(python3 -c "print(f'{$MED / ($BARE / 3):.2f}')")"
