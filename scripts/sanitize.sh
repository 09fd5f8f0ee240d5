#!/usr/bin/env bash
# The test suite under sanitizers: for each one named (default: address, then thread) builds the package and
# its tests with `--sanitize=NAME` into its own scratch path (.build-NAME, so the normal .build is never
# touched), starts the local servers (idempotent, as scripts/test.sh does) and runs the shared-server pass of
# scripts/test.sh (every suite but the outage suites, one test at a time). The outage pass, the fuzz targets
# and the fresh-clone run are not part of it.
#
#   scripts/sanitize.sh [--filter PATTERN] [--skip PATTERN] [address|thread ...]
#
# --filter and --skip go to `swift test` as they are (repeatable). Prints, per sanitizer, whether it passed,
# the tests run and failed, each sanitizer report's summary line, and where the logs are:
# .build-NAME/sanitize/{build,test}.log and one report file per reporting process in
# .build-NAME/sanitize/reports/ (the test runner and the scheduler, worker and simulator processes the
# cluster tests start all write there). A pass fails when a test fails or any report was written.
# XZ_SANITIZE_TIMEOUT (seconds, default 5400) bounds each test run; XZ_SANITIZE_LEAKS=1 turns
# LeakSanitizer on (see below). XZ_PORT_BASE moves the servers as in scripts/services.sh. Started under
# `nice` (as on a shared machine), the builds and the tests also run as SCHED_IDLE (see below).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

usage() { echo "usage: scripts/sanitize.sh [--filter PATTERN] [--skip PATTERN] [address|thread ...]" >&2; exit 2; }

test_args=()
sanitizers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter | --skip) [ $# -ge 2 ] || usage; test_args+=("$1" "$2"); shift 2 ;;
    address | thread) sanitizers+=("$1"); shift ;;
    *) usage ;;
  esac
done
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(address thread)
timeout_seconds=${XZ_SANITIZE_TIMEOUT:-5400}

service_env=$(scripts/services.sh start)
eval "$service_env"
python3 -c 'import websockets, mcp, compose' 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check -r scripts/test-requirements.txt

toolchain_bin=$(dirname "$(readlink -f "$(command -v swiftc)")")
symbolizer=""
[ -x "$toolchain_bin/llvm-symbolizer" ] && symbolizer=":external_symbolizer_path=$toolchain_bin/llvm-symbolizer"

# Runtime options. Every instrumented process (the test runner and the products the cluster tests start,
# which inherit the environment) writes its reports to reports/<sanitizer>.<pid> instead of its stderr,
# since the products' stderr goes to per-test log files in $TMPDIR.
options_for() { # sanitizer reports-dir
  case "$1" in
    address)
      # LeakSanitizer works here, but it checks at every instrumented process's exit and a leak turns the
      # exit status into 1: the cluster tests require a SIGTERMed worker or scheduler to exit 0, so leaks
      # would show up as unrelated test failures, and the runner's own check cannot name the test that
      # leaked. Off unless XZ_SANITIZE_LEAKS=1.
      local leaks=0
      [ "${XZ_SANITIZE_LEAKS:-0}" = 1 ] && leaks=1
      # A Swift trap (SIGILL) is left to the test runner, not reported by ASan: the exit tests trap on
      # purpose in a child process.
      echo "ASAN_OPTIONS=detect_leaks=$leaks:log_path=$2/asan$symbolizer"
      ;;
    thread)
      # halt_on_error=0: keep running after a race so one run finds them all. exitcode=0: a race must not
      # change a process's exit status (the cluster tests read the products' exit statuses); the reports
      # make the pass fail instead.
      echo "TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1:history_size=4:exitcode=0:log_path=$2/tsan$symbolizer"
      ;;
  esac
}

seconds_since() { echo $(($(date +%s) - $1)); }

# Run with `nice`, the builds and the tests run as SCHED_IDLE as well: libdispatch sets the niceness of
# its worker threads itself (0, or -4 for a higher QoS), so swift-build, swift-test, the test binary and
# the products it starts would do most of their work at normal priority whatever niceness they inherited.
# The idle policy is inherited by every thread and process, and libdispatch leaves it alone.
idle=()
if [ "$(nice)" -gt 0 ] && command -v chrt >/dev/null; then idle=(chrt --idle 0); fi

summaries=()
overall=0
for sanitizer in "${sanitizers[@]}"; do
  scratch=".build-$sanitizer"
  logs="$root/$scratch/sanitize"
  reports="$logs/reports"
  mkdir -p "$logs"
  rm -rf "$reports"
  mkdir -p "$reports"
  build_log="$logs/build.log"
  test_log="$logs/test.log"
  flags=(--sanitize="$sanitizer" --scratch-path "$scratch")

  # What was tested: the commit, and whether the work tree differed from it.
  revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -z "$(git status --porcelain --untracked-files=no -- Sources Tests Package.swift 2>/dev/null)" ] \
    || revision="$revision + uncommitted changes"
  echo "sanitize: $sanitizer: building $revision into $scratch (log $build_log)" >&2
  started=$(date +%s)
  if ! ${idle[@]+"${idle[@]}"} swift build --build-tests "${flags[@]}" >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    summaries+=("$sanitizer: FAILED to build after $(seconds_since "$started") s; log $build_log")
    overall=1
    continue
  fi
  build_seconds=$(seconds_since "$started")

  echo "sanitize: $sanitizer: built in $build_seconds s; testing (log $test_log)" >&2
  started=$(date +%s)
  status=0
  (
    export "$(options_for "$sanitizer" "$reports")"
    # Swift's crash reporter would read the stack of a crash under ASan and be reported in ASan's place
    # (as in scripts/fuzz.sh).
    if [ "$sanitizer" = address ]; then export SWIFT_BACKTRACE=enable=no; fi
    exec ${idle[@]+"${idle[@]}"} timeout -k 30 "$timeout_seconds" \
      swift test --skip-build "${flags[@]}" --no-parallel --skip 'OutageTests' ${test_args[@]+"${test_args[@]}"}
  ) >"$test_log" 2>&1 || status=$?
  test_seconds=$(seconds_since "$started")

  # swift-testing's last line: "Test run with N tests in M suites passed|failed after S seconds ...".
  run_line=$(grep -aE 'Test run with [0-9]+ tests?' "$test_log" | tail -n 1 || true)
  tests=$(sed -nE 's/.*Test run with ([0-9]+) tests?.*/\1/p' <<<"$run_line")
  failed_pattern='^.{0,4}Test [^ ].* failed after'
  failed=$(grep -aE "$failed_pattern" "$test_log" | grep -vc 'Test run with' || true)
  report_pattern='ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer'
  report_files=("$reports"/*)
  [ -e "${report_files[0]}" ] || report_files=()
  report_count=$(cat ${report_files[@]+"${report_files[@]}"} /dev/null | grep -acE "$report_pattern" || true)
  # A report on the runner's stderr (log_path not honoured) counts too.
  inline=$(grep -acE "$report_pattern" "$test_log" || true)
  report_count=$((report_count + inline))

  verdict=passed
  if [ "$status" -ne 0 ] || [ "$report_count" -gt 0 ] || [ -z "$run_line" ]; then verdict=FAILED; overall=1; fi
  detail="${tests:-?} tests, $failed failed, $report_count sanitizer reports"
  [ "$status" = 124 ] && detail="$detail, timed out after $timeout_seconds s"
  [ -z "$run_line" ] && [ "$status" != 124 ] && detail="$detail, the test run did not finish (exit $status)"
  summaries+=("$sanitizer: $verdict ($detail) at $revision; build $build_seconds s, tests $test_seconds s; log $test_log; reports $reports/")
  # The distinct sanitizer summary lines, with how many times each was reported.
  if [ "$report_count" -gt 0 ]; then
    while IFS= read -r line; do summaries+=("    $line"); done < <(
      cat ${report_files[@]+"${report_files[@]}"} "$test_log" | grep -aE '^SUMMARY: (AddressSanitizer|ThreadSanitizer|LeakSanitizer)' \
        | sort | uniq -c | sort -rn | sed -E 's/^ *([0-9]+) /\1× /')
  fi
  if [ "$failed" -gt 0 ]; then
    while IFS= read -r line; do summaries+=("    failed: $line"); done < <(
      grep -aE "$failed_pattern" "$test_log" | grep -v 'Test run with' | sed -E 's/^.{0,4}Test (.*) failed after.*/\1/' | sort -u)
  fi
done

echo
for line in "${summaries[@]}"; do echo "sanitize: $line"; done
exit "$overall"
