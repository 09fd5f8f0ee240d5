#!/usr/bin/env bash
# The test command: starts the local servers (idempotent), installs the Python peers the tests talk to,
# then runs the Swift tests in two passes, one test at a time: everything that shares the servers, then the
# outage suites (which stop and restart servers, and the clustered ones of scripts/ha-services.sh) one at
# a time; then each fuzz target for XZ_FUZZ_SECONDS (default 30; 0 skips); last, the README's first command from a clean clone
# (scripts/test-run-local.sh, its own servers; skipped with XZ_SKIP_RUN_LOCAL=1).
#   scripts/test.sh [extra swift test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

service_env=$(scripts/services.sh start)
eval "$service_env"
python3 -c 'import websockets, mcp, compose' 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check -r scripts/test-requirements.txt

swift build --build-tests "$@"
# One test at a time: the suites start real servers' clients, Python peers and whole clusters, and on a
# 2-core machine running them all at once starves the timing-sensitive ones.
swift test --skip-build --no-parallel --skip 'OutageTests' "$@"
# The clustered servers (three RabbitMQ nodes, Redis behind three sentinels, a Postgres standby) for the
# failover suite, on ports of their own; stopped after it to give their memory back.
ha_env=$(scripts/ha-services.sh start)
eval "$ha_env"
swift test --skip-build --no-parallel --filter 'OutageTests' "$@"
scripts/ha-services.sh stop
if [ "${XZ_FUZZ_SECONDS:-30}" != 0 ]; then
  scripts/fuzz.sh "${XZ_FUZZ_SECONDS:-30}"
fi
if [ "${XZ_SKIP_RUN_LOCAL:-0}" != 1 ]; then
  timeout -k 30 2700 scripts/test-run-local.sh
fi
