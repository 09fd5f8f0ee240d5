#!/usr/bin/env bash
# The README's first command, tested from a clean clone of HEAD (uncommitted files do not count):
#  1. `scripts/run-local.sh --workers 2 --endpoints 20 --until-connected --debug` exits 0 and prints
#     "all demo endpoints connected";
#  2. `scripts/run-local.sh --workers 2 --endpoints 20 --debug` in the background: once it shows every
#     endpoint connected, Ctrl-C (SIGINT to its process group) stops it within a bound, with exit 0 and
#     no scheduler, worker or xiaozhi-sim of the clone left running.
# Its servers run on a port base of their own (XZ_RUN_LOCAL_PORT_BASE, default 25000: below the kernel's
# ephemeral range, so no outgoing connection can hold one of its ports) and are stopped at the end. Debug builds keep it within CI's budget; the clone reuses the fetched dependencies only.
#   scripts/test-run-local.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export XZ_PORT_BASE=${XZ_RUN_LOCAL_PORT_BASE:-25000}
# A server set of its own: forget the one the Swift tests used.
unset XZ_SERVICES_DIR XZ_SERVICES_SCRIPT DATABASE_URL REDIS_URL AMQP_URL
BUILD_BOUND=${XZ_RUN_LOCAL_BUILD_SECONDS:-1800}   # the first run builds in debug mode from scratch
STOP_BOUND=40                                       # Ctrl-C to exit: the workers' shutdown grace plus slack
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/xiaozhi-run-local.XXXXXX")
chmod 755 "$SCRATCH"   # services.sh runs Postgres tools as the postgres user from the clone's folder
# Empty servers, as on a fresh machine: a data directory kept from an earlier run holds its queues
# (retry jobs with their attempts) and tables. Servers of such a run still up on these ports go first.
scripts/services.sh stop >/dev/null 2>&1 || true
export XZ_SERVICES_DIR=$SCRATCH/services
CLONE=$SCRATCH/pool
RUN_PID=

fail() { echo "test-run-local: FAIL: $*" >&2; exit 1; }

# Processes whose executable lies in the clone (its scheduler, workers, simulator).
clone_processes() {
  local exe pid found=()
  for exe in /proc/[0-9]*/exe; do
    pid=${exe#/proc/}; pid=${pid%/exe}
    case "$(readlink "$exe" 2>/dev/null)" in "$CLONE"/*) found+=("$pid") ;; esac
  done
  echo "${found[@]:-}"
}

cleanup() {
  local status=$?
  trap - EXIT
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then kill -TERM -- "-$RUN_PID" 2>/dev/null || true; sleep 5; fi
  for pid in $(clone_processes); do kill -KILL "$pid" 2>/dev/null || true; done
  scripts/services.sh stop >/dev/null 2>&1 || true
  if [ "$status" = 0 ]; then rm -rf "$SCRATCH"; else echo "test-run-local: logs kept in $SCRATCH" >&2; fi
  exit "$status"
}
trap cleanup EXIT

echo "test-run-local: cloning HEAD $(git rev-parse --short HEAD) into $CLONE"
git clone -q --no-checkout "$ROOT" "$CLONE"
git -C "$CLONE" checkout -q --detach "$(git rev-parse HEAD)"
# The dependencies already fetched (sources only, no build products), pinned to the same versions.
if [ -d .build/checkouts ]; then
  mkdir -p "$CLONE/.build"
  cp -r .build/checkouts .build/repositories .build/workspace-state.json "$CLONE/.build/" 2>/dev/null || true
fi
[ -f Package.resolved ] && cp Package.resolved "$CLONE/"

# 1. --until-connected: exit 0 and the line.
export XZ_RUN_DIR=$SCRATCH/run-1
echo "test-run-local: run-local.sh --until-connected (builds the clone in debug mode)"
set +e
timeout -k 10 "$BUILD_BOUND" "$CLONE/scripts/run-local.sh" --workers 2 --endpoints 20 --check-interval 2 --until-connected --debug \
  >"$SCRATCH/run-1.out" 2>&1
status=$?
set -e
[ "$status" = 0 ] || { tail -n 40 "$SCRATCH/run-1.out" >&2; fail "run-local.sh --until-connected exited $status"; }
grep -qx "all demo endpoints connected" "$SCRATCH/run-1.out" || { tail -n 40 "$SCRATCH/run-1.out" >&2; fail "no line 'all demo endpoints connected'"; }
left=$(clone_processes)
[ -z "$left" ] || fail "processes left running after --until-connected: $left"
echo "test-run-local: --until-connected ok"

# 2. In the background until Ctrl-C. `set -m` gives it a process group of its own, with SIGINT not
#    ignored, like a terminal's foreground job.
export XZ_RUN_DIR=$SCRATCH/run-2
set -m
"$CLONE/scripts/run-local.sh" --workers 2 --endpoints 20 --check-interval 2 --debug >"$SCRATCH/run-2.out" 2>&1 &
RUN_PID=$!
set +m
connected=0
for _ in $(seq 300); do
  if grep -Eq 'connected 20 of 20 enabled' "$SCRATCH/run-2.out"; then connected=1; break; fi
  kill -0 "$RUN_PID" 2>/dev/null || break
  sleep 1
done
[ "$connected" = 1 ] || { tail -n 40 "$SCRATCH/run-2.out" >&2; fail "no progress line 'connected 20 of 20 enabled' within 300 s"; }
[ -n "$(clone_processes)" ] || fail "no scheduler/worker/xiaozhi-sim of the clone running while connected"

kill -INT -- "-$RUN_PID"
status=
for _ in $(seq $((STOP_BOUND * 5))); do
  if ! kill -0 "$RUN_PID" 2>/dev/null; then set +e; wait "$RUN_PID"; status=$?; set -e; break; fi
  sleep 0.2
done
[ -n "$status" ] || { tail -n 20 "$SCRATCH/run-2.out" >&2; fail "run-local.sh still running ${STOP_BOUND} s after Ctrl-C"; }
RUN_PID=
[ "$status" = 0 ] || { tail -n 20 "$SCRATCH/run-2.out" >&2; fail "run-local.sh exited $status after Ctrl-C"; }
grep -q '^stopped' "$SCRATCH/run-2.out" || fail "no 'stopped' line after Ctrl-C"
sleep 1
left=$(clone_processes)
[ -z "$left" ] || fail "processes left running after Ctrl-C: $left ($(for p in $left; do readlink /proc/$p/exe; done | tr '\n' ' '))"
echo "test-run-local: Ctrl-C ok (exit 0, nothing left running)"
echo "test-run-local: PASS"
