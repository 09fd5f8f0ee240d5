#!/usr/bin/env bash
# One command from a fresh machine to a running pool: installs and starts Postgres, Redis and RabbitMQ on
# loopback, builds in release mode, creates the tables, seeds a demo fleet served by xiaozhi-sim, starts
# the scheduler and N workers, and shows progress until Ctrl-C, which stops everything it started.
#
#   scripts/run-local.sh [--workers N] [--endpoints N] [--check-interval S] [--until-connected] [--debug]
#
# --until-connected exits 0 once every demo endpoint is connected (used by the tests of this script).
# --debug builds in debug mode (much faster to build, slower to run). XZ_PORT_BASE picks the servers'
# ports (default 24000), XZ_RUN_DIR the folder of the logs (default .local/run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WORKERS=3
ENDPOINTS=50
CHECK_INTERVAL=5
UNTIL_CONNECTED=0
CONFIGURATION=release
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) WORKERS=$2; shift 2 ;;
    --endpoints) ENDPOINTS=$2; shift 2 ;;
    --check-interval) CHECK_INTERVAL=$2; shift 2 ;;
    --until-connected) UNTIL_CONNECTED=1; shift ;;
    --debug) CONFIGURATION=debug; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-local: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in WORKERS ENDPOINTS CHECK_INTERVAL; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run-local: --${v,,} must be a positive whole number, got '${!v}'" >&2; exit 2; }
done

export XZ_PORT_BASE=${XZ_PORT_BASE:-24000}
SIM_PORT=$((XZ_PORT_BASE + 765))
SIM_STATUS_PORT=$((XZ_PORT_BASE + 766))
METRICS_BASE=$((XZ_PORT_BASE + 900))
CONSOLE_PORT=$((XZ_PORT_BASE + 770))
RUN_DIR=${XZ_RUN_DIR:-$ROOT/.local/run}
mkdir -p "$RUN_DIR"

# (eval of a failed command substitution would not stop the script: check it first.)
services_env=$(scripts/services.sh start) || { echo "run-local: starting the local servers failed (see above)" >&2; exit 1; }
eval "$services_env"
echo "building ($CONFIGURATION)..."
for product in scheduler worker xiaozhi-sim; do
  if ! swift build -c "$CONFIGURATION" --product "$product" >"$RUN_DIR/build.log" 2>&1; then
    tail -n 30 "$RUN_DIR/build.log" >&2
    echo "run-local: building $product failed (whole log: $RUN_DIR/build.log)" >&2
    exit 1
  fi
done
BIN=$(swift build -c "$CONFIGURATION" --show-bin-path)

export ConnectionMonitor__CheckIntervalSeconds=$CHECK_INTERVAL
"$BIN/scheduler" migrate

pids=()
# Stops every process this script started; on Ctrl-C or SIGTERM the script then exits (0 when all stopped).
stop_all() {
  local status=$?
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "stopped (the local servers keep running: XZ_PORT_BASE=$XZ_PORT_BASE scripts/services.sh stop)"
  exit "$status"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

"$BIN/xiaozhi-sim" --host 127.0.0.1 --port "$SIM_PORT" --status-port "$SIM_STATUS_PORT" >"$RUN_DIR/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SIM_STATUS_PORT") 2>/dev/null && break; sleep 0.1; done

psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -v count="$ENDPOINTS" \
  -v sim="ws://127.0.0.1:$SIM_PORT" -f compose/seed-demo.sql

# The console's admin token: made once, kept in a file only this user reads, never printed.
TOKEN_FILE="$RUN_DIR/console-token"
if [ ! -s "$TOKEN_FILE" ]; then
  (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$TOKEN_FILE")
fi
Console__Port=$CONSOLE_PORT Console__AdminToken=$(cat "$TOKEN_FILE") Metrics__Port=$METRICS_BASE \
  "$BIN/scheduler" run >"$RUN_DIR/scheduler.log" 2>&1 &
pids+=($!)
for i in $(seq 1 "$WORKERS"); do
  Metrics__Port=$((METRICS_BASE + i)) "$BIN/worker" run >"$RUN_DIR/worker-$i.log" 2>&1 &
  pids+=($!)
done
echo "scheduler and $WORKERS workers running; logs in $RUN_DIR; Ctrl-C stops them"
echo "console: http://127.0.0.1:$CONSOLE_PORT/ (sign in with the token in $TOKEN_FILE)"

while true; do
  enabled=$(psql "$DATABASE_URL" -tAc 'SELECT count(*) FROM verdure_xiaozhi_mcp_endpoints WHERE "IsEnabled"' 2>/dev/null || echo '?')
  connected=$(curl -fsS "http://127.0.0.1:$SIM_STATUS_PORT/status" 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin).get("connectedCount", 0))' 2>/dev/null || echo '?')
  depth=$("$BIN/scheduler" queues --json 2>/dev/null | python3 -c '
import json, sys
queues = {q["role"]: q for q in json.load(sys.stdin) if q.get("role") in ("jobs", "dead")}
jobs, dead = queues.get("jobs", {}), queues.get("dead", {})
def shown(queue, key):
    value = queue.get(key)
    return "-" if value is None else value
print("jobs ready {} unacked {} | dead {}".format(shown(jobs, "ready"), shown(jobs, "unacked"), shown(dead, "ready")))
' 2>/dev/null || echo "queues unavailable")
  printf '%s connected %s of %s enabled | %s\n' "$(date +%T)" "$connected" "$enabled" "$depth"
  if [ "$UNTIL_CONNECTED" = 1 ] && [ "$connected" = "$enabled" ] && [ "$enabled" != 0 ]; then
    echo "all demo endpoints connected"
    exit 0
  fi
  sleep 2
done
