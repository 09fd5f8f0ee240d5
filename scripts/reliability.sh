#!/usr/bin/env bash
# The fault scenarios at a larger size: builds, starts the local servers (idempotent), runs the fault suites
# (FaultInjectionOutageTests, FaultScenarioOutageTests) one test at a time with more endpoints and workers,
# and prints their `fault …` figure lines, then which tests failed. The full output stays in a log file.
#   scripts/reliability.sh [ENDPOINTS [WORKERS]]     default 300 endpoints, 3 workers
# XZ_FAULT_FILTER narrows the run (a `swift test --filter` pattern); XZ_PORT_BASE moves the servers as in
# scripts/services.sh. These suites restart Redis and Postgres: do not run them beside other tests.
set -euo pipefail
cd "$(dirname "$0")/.."

endpoints=${1:-${XZ_FAULT_ENDPOINTS:-300}}
workers=${2:-${XZ_FAULT_WORKERS:-3}}
filter=${XZ_FAULT_FILTER:-'FaultInjectionOutageTests|FaultScenarioOutageTests'}
case "$endpoints$workers" in
  *[!0-9]*) echo "reliability: ENDPOINTS and WORKERS must be whole numbers" >&2; exit 2 ;;
esac

service_env=$(scripts/services.sh start)
eval "$service_env"
swift build --build-tests

log=${XZ_RELIABILITY_LOG:-$(mktemp -t xiaozhi-reliability-XXXXXX.log)}
echo "reliability: $endpoints endpoints, $workers workers; full output in $log" >&2
status=0
XZ_FAULT_ENDPOINTS=$endpoints XZ_FAULT_WORKERS=$workers \
  swift test --skip-build --no-parallel --filter "$filter" >"$log" 2>&1 || status=$?

# The figure lines, then every failed expectation's first line (the log has the cluster logs after it).
grep -E '^fault ' "$log" || echo "reliability: no figure line in the output" >&2
if [ "$status" -ne 0 ]; then
  echo "reliability: failures (status $status):" >&2
  grep -E '^✘ ' "$log" | cut -c1-400 >&2 || true
fi
exit "$status"
