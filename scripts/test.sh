#!/usr/bin/env bash
# The test command: starts the local servers (idempotent), installs the Python peers the tests talk to,
# then runs the Swift tests in two passes: everything that shares the servers in parallel, then the
# outage suites (which stop and restart servers) one at a time.
#   scripts/test.sh [extra swift test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/services.sh start)"
python3 -c 'import websockets, mcp' 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check -r scripts/test-requirements.txt

swift build --build-tests "$@"
swift test --skip-build --skip 'OutageTests' "$@"
swift test --skip-build --no-parallel --filter 'OutageTests' "$@"
