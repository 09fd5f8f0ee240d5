#!/usr/bin/env bash
# Recovery of a whole pool, as processes: N endpoints on xiaozhi-sim, one scheduler, W workers.
#   1. Redis flushed: time from the flush (and from the scheduler cycle that finds the endpoints
#      missing) until all N are connected again (simulator /counts connectedCount and Redis states).
#   2. One worker killed with SIGKILL: time until its sessions run elsewhere.
# Needs the release build (swift build -c release) and the servers:
#   eval "$(XZ_PORT_BASE=32000 scripts/services.sh start)"; scripts/bench/pool-recovery.sh
# Settings (environment): BENCH_ENDPOINTS (10000), BENCH_WORKERS (4), BENCH_MAX_SESSIONS (5000),
# BENCH_REDIS_DB (13), BENCH_SIM_PORT (32110), BENCH_SIM_STATUS_PORT (32111), BENCH_HANDSHAKE_DELAY_MS (0: a
# delay the simulator adds to every WebSocket handshake from the worker kill on, as a remote Xiaozhi's
# round trips would), BENCH_TLS (0; 1: the simulator serves wss:// with a throwaway CA's ECDSA certificate
# for localhost, which the workers trust through Tls:CaFile), BENCH_TIMEOUT (120 s per
# wait), BENCH_IDLE_SECONDS (5: how long the idle cost is measured), BENCH_WORKER_CHECK_INTERVAL (the workers' ConnectionMonitor:CheckIntervalSeconds, which paces
# their tool-catalog refresh; default 600 so the refresh of thousands of sessions does not hold up the
# lease renewal that shares its loop), BENCH_BIN (the directory of the executables, default .build/release:
# point it at a copy to compare two builds), and the pool's own keys (Recovery__LeaseTtlSeconds etc.,
# defaults below).
# Besides wall times, step 2 prints the rate at which the surviving workers re-opened the killed worker's
# sessions (from their log lines) and the CPU time every process of the pool spent per re-opened session
# (workers, scheduler, simulator and, when XZ_SERVICES_DIR is exported, Redis, Postgres and RabbitMQ):
# both are less noisy than wall time on a shared machine.
set -euo pipefail

for name in DATABASE_URL REDIS_URL AMQP_URL; do
  [[ -n "${!name:-}" ]] || { echo "$name is not set (eval \"\$(scripts/services.sh start)\")" >&2; exit 2; }
done

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${BENCH_BIN:-$root/.build/release}"
for product in scheduler worker xiaozhi-sim; do
  [[ -x "$bin/$product" ]] || { echo "missing $bin/$product: run swift build -c release" >&2; exit 2; }
done

endpoints="${BENCH_ENDPOINTS:-10000}"
worker_count="${BENCH_WORKERS:-4}"
max_sessions="${BENCH_MAX_SESSIONS:-5000}"
redis_db="${BENCH_REDIS_DB:-13}"
sim_port="${BENCH_SIM_PORT:-32110}"
status_port="${BENCH_SIM_STATUS_PORT:-32111}"
timeout="${BENCH_TIMEOUT:-120}"
prefix="benchpool_"
worker_check_interval="${BENCH_WORKER_CHECK_INTERVAL:-600}"

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

export REDIS_URL="${REDIS_URL%/*}/$redis_db"
export Database__TablePrefix="$prefix"
export Queue__Prefix="bench.pool"
export ConnectionMonitor__CheckIntervalSeconds="${ConnectionMonitor__CheckIntervalSeconds:-2}"
export ConnectionMonitor__HeartbeatTimeoutSeconds="${ConnectionMonitor__HeartbeatTimeoutSeconds:-20}"
export ConnectionMonitor__ReconnectCooldownSeconds="${ConnectionMonitor__ReconnectCooldownSeconds:-1}"
export Recovery__LeaseTtlSeconds="${Recovery__LeaseTtlSeconds:-4}"
export Recovery__HeartbeatIntervalSeconds="${Recovery__HeartbeatIntervalSeconds:-2}"
export Recovery__ShutdownGraceSeconds="${Recovery__ShutdownGraceSeconds:-10}"
export Retry__DelaysSeconds="${Retry__DelaysSeconds:-1,2,3}"
export Retry__MaxAttempts="${Retry__MaxAttempts:-4}"
export Worker__ConnectTimeoutSeconds="${Worker__ConnectTimeoutSeconds:-5}"
export Metrics__Port=0
export Log__Format=text

logs="$(mktemp -d /tmp/pool-recovery-bench.XXXXXX)"
pids=()

# redis-cli from the URL's parts (its own -u parser rejects an empty user name before the password).
redis_rest="${REDIS_URL#redis://}"
redis_password=""
if [[ "$redis_rest" == *@* ]]; then redis_password="${redis_rest%%@*}"; redis_password="${redis_password#*:}"; redis_rest="${redis_rest#*@}"; fi
redis_hostport="${redis_rest%%/*}"
redis() { REDISCLI_AUTH="$redis_password" redis-cli -h "${redis_hostport%:*}" -p "${redis_hostport##*:}" -n "$redis_db" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 2
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$DATABASE_URL" -c "DROP TABLE IF EXISTS ${prefix}mcp_tools, ${prefix}mcp_service_bindings, ${prefix}mcp_service_configs, ${prefix}xiaozhi_mcp_endpoints" >/dev/null 2>&1 || true
  redis FLUSHDB >/dev/null 2>&1 || true
  echo "logs kept in $logs"
}
trap cleanup EXIT

# Connected states in Redis, and those of them whose lease is held.
count_script='local c, l = 0, 0
for _, id in ipairs(redis.call("SMEMBERS", "mcp:connections:all")) do
  local v = redis.call("GET", "mcp:connection:" .. id)
  if v and string.find(v, "\"Status\"%s*:%s*0[^%d]") then
    c = c + 1
    if redis.call("EXISTS", "redlock:mcp:lock:connection:" .. id) == 1 then l = l + 1 end
  end
end
return {c, l}'
redis_counts() { redis EVAL "$count_script" 0 | tr '\n' ' '; }
# A number of the simulator's /counts (its counters without the session list: cheap to poll).
sim_field() {
  local body match
  body="$(curl -s --max-time 30 "http://127.0.0.1:$status_port/counts" || true)"
  match="$(grep -o -m1 "\"$1\" *: *[0-9]*" <<<"$body" || true)"
  match="${match%%$'\n'*}"
  match="${match##*[: ]}"
  echo "${match:-0}"
}

# Waits until the simulator holds all endpoints and Redis has all of them connected with a lease; sets
# all_back_at to the poll in which the simulator first said so and Redis agreed. The simulator's counters
# are polled; Redis is read (one script over every state, which holds Redis while it runs) only once the
# simulator has them all, so the measurement does not slow down the pool it measures.
wait_all_connected() {
  local deadline=$(( $(date +%s) + timeout )) polled connected leased
  while (( $(date +%s) < deadline )); do
    polled="$(now)"
    if [[ "$(sim_field connectedCount)" == "$endpoints" ]]; then
      read -r connected leased <<<"$(redis_counts)"
      if [[ "$connected" == "$endpoints" && "$leased" == "$endpoints" ]]; then
        all_back_at="$polled"
        [[ -n "${parts+set}" ]] && snapshot_cpu cpu_after
        return 0
      fi
    fi
    sleep 0.2
  done
  echo "timed out: simulator $(sim_field connectedCount), redis connected/leased $(redis_counts)" >&2
  return 1
}

# Waits until the simulator holds fewer than $1 sessions (a killed worker's sessions have closed).
wait_sim_below() {
  local deadline=$(( $(date +%s) + timeout ))
  while (( $(date +%s) < deadline )); do
    (( $(sim_field connectedCount) < $1 )) && return 0
    sleep 0.05
  done
  echo "timed out: the simulator still holds $(sim_field connectedCount) sessions" >&2
  return 1
}

# CPU seconds (user + system) spent so far by the given processes, their threads and reaped children.
cpu_seconds() {
  local ticks=0 pid fields
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    read -r -a fields <<<"$(sed 's/^.*) //' "/proc/$pid/stat")"
    ticks=$(( ticks + fields[11] + fields[12] + fields[13] + fields[14] ))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
# The processes of one server ($1: redis, postgres (the postmaster and its backends) or rabbitmq), when
# XZ_SERVICES_DIR is known.
server_pids() {
  [[ -n "${XZ_SERVICES_DIR:-}" ]] || return 0
  local pid args
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    args="$( { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null || true)"
    case "$1:$args" in
      rabbitmq:*"$XZ_SERVICES_DIR"*beam.smp*|rabbitmq:*beam.smp*"$XZ_SERVICES_DIR"*) echo "$pid" ;;
      postgres:*"postgres -D $XZ_SERVICES_DIR"*) echo "$pid"; pgrep -P "$pid" || true ;;
      "redis:redis-server 127.0.0.1:${redis_hostport##*:}"*) echo "$pid" ;;
    esac
  done
}

# snapshot_cpu NAME: the CPU seconds of every part (the array parts: "name:pid pid ..."), into the array NAME.
snapshot_cpu() {
  local -n into="$1"
  into=()
  local part part_pids
  for part in "${parts[@]}"; do read -r -a part_pids <<<"${part#*:}"; into+=("$(cpu_seconds "${part_pids[@]}")"); done
}
# cpu_deltas BEFORE AFTER: sets cpu_report (" name N s," per part) and cpu_total from two snapshots.
cpu_deltas() {
  local -n before="$1" after="$2"
  local part part_pids spent index=0
  cpu_report="" cpu_total=0
  for part in "${parts[@]}"; do
    read -r -a part_pids <<<"${part#*:}"
    if (( ${#part_pids[@]} > 0 )); then
      spent="$(awk -v a="${before[index]}" -v b="${after[index]}" 'BEGIN { printf "%.2f", b - a }')"
      cpu_report+=" ${part%%:*} $spent s,"; cpu_total="$(awk -v a="$cpu_total" -v b="$spent" 'BEGIN { printf "%.2f", a + b }')"
    fi
    index=$(( index + 1 ))
  done
}

# Epoch seconds of the first line of log $1 after line $3 matching $2 (its own timestamp), or "never".
first_line_time() {
  local line; line="$(tail -n +"$(( $3 + 1 ))" "$1" | grep -m1 -E "$2" || true)"
  [[ -n "$line" ]] && date -d "${line%% *}" +%s.%N || echo never
}

scheme=ws sim_tls=()
if [[ "${BENCH_TLS:-0}" == 1 ]]; then
  mkdir -p "$logs/tls"
  ( cd "$logs/tls"
    openssl ecparam -name prime256v1 -genkey -noout -out ca-key.pem
    openssl req -x509 -new -key ca-key.pem -days 2 -subj /CN=bench-ca -out ca.pem
    openssl ecparam -name prime256v1 -genkey -noout -out server-key.pem
    openssl req -new -key server-key.pem -subj /CN=localhost -out server.csr
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile ext.cnf -out server.pem
    cat server.pem ca.pem >server-chain.pem ) >/dev/null 2>&1
  scheme=wss sim_tls=(--tls-cert "$logs/tls/server-chain.pem" --tls-key "$logs/tls/server-key.pem")
  export Tls__CaFile="$logs/tls/ca.pem"
fi

echo "pool recovery: $endpoints endpoints ($scheme://), $worker_count workers (--max-sessions $max_sessions), lease TTL ${Recovery__LeaseTtlSeconds} s, check interval ${ConnectionMonitor__CheckIntervalSeconds} s (workers' catalog refresh every $worker_check_interval s), load $(load)"
redis FLUSHDB >/dev/null
"$bin/scheduler" migrate >"$logs/migrate.log" 2>&1
psql -q "$DATABASE_URL" -c "DELETE FROM ${prefix}xiaozhi_mcp_endpoints" >/dev/null
psql -q "$DATABASE_URL" -c "INSERT INTO ${prefix}xiaozhi_mcp_endpoints (\"Id\", \"Name\", \"Address\", \"UserId\", \"IsEnabled\", \"IsConnected\", \"CreatedAt\", \"UpdatedAt\")
  SELECT '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), 'endpoint-' || i, '$scheme://127.0.0.1:$sim_port/mcp/?token=bench-' || i,
         'bench-user', true, false, now(), now() FROM generate_series(1, $endpoints) AS i" >/dev/null

"$bin/xiaozhi-sim" --port "$sim_port" --status-port "$status_port" --ping-interval 20 "${sim_tls[@]}" >"$logs/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "listening on ws" "$logs/sim.log" && break; sleep 0.2; done
"$bin/scheduler" run >"$logs/scheduler.log" 2>&1 &
pids+=($!)
worker_pids=()
for index in $(seq "$worker_count"); do
  ConnectionMonitor__CheckIntervalSeconds="$worker_check_interval" "$bin/worker" run --max-sessions "$max_sessions" >"$logs/worker$index.log" 2>&1 &
  pids+=($!); worker_pids+=($!)
done

start="$(now)"
wait_all_connected
echo "cold start: all $endpoints connected in $(since "$start" "$all_back_at") s after the processes started (load $(load))"
sleep 3

# 0. Every session held and nothing to recover: what holding them costs (lease renewals, heartbeats, the
# simulator's pings, the reconcile cycles), per part, over idle_seconds.
idle_seconds="${BENCH_IDLE_SECONDS:-5}"
parts=("workers:${worker_pids[*]}" "scheduler:${pids[1]}" "simulator:${pids[0]}"
       "redis:$(server_pids redis | tr '\n' ' ')" "postgres:$(server_pids postgres | tr '\n' ' ')" "rabbitmq:$(server_pids rabbitmq | tr '\n' ' ')")
snapshot_cpu cpu_before
sleep "$idle_seconds"
snapshot_cpu cpu_after
cpu_deltas cpu_before cpu_after
echo "holding $endpoints sessions idle (heartbeat every ${Recovery__HeartbeatIntervalSeconds} s, leases renewed every third of ${Recovery__LeaseTtlSeconds} s), cpu over $idle_seconds s:${cpu_report%,}; total $cpu_total s ($(awk -v c="$cpu_total" -v s="$idle_seconds" 'BEGIN { printf "%.0f", c * 100 / s }') % of one core)"

# 1. Redis flushed.
evictions_before="$(sim_field evictions)"
restored_before="$(cat "$logs"/worker*.log | grep -c "lease was gone and is taken again" || true)"
lines="$(wc -l <"$logs/scheduler.log")"
flushed="$(now)"
redis FLUSHDB >/dev/null
echo "flushed Redis database $redis_db at $(date -u -d "@$flushed" +%H:%M:%S.%3N) UTC"
wait_all_connected
done_at="$all_back_at"
seen="$(first_line_time "$logs/scheduler.log" "missing from Redis - attempting recovery|vanished from Redis" "$lines")"
restored="$(( $(cat "$logs"/worker*.log | grep -c "lease was gone and is taken again" || true) - restored_before ))"
echo "redis flushed: all $endpoints connected again $(since "$flushed" "$done_at") s after the flush, $( [[ "$seen" == never ]] && echo "no cycle found them missing" || echo "$(since "$seen" "$done_at") s after the cycle that found them gone ($(since "$flushed" "$seen") s after the flush)"); leases re-taken by their holders $restored; simulator evictions $(( $(sim_field evictions) - evictions_before )) (load $(load))"
sleep 3

# 2. One worker killed with SIGKILL.
victim="${worker_pids[0]}"
survivors=("${worker_pids[@]:1}")
# CPU accounting over the recovery, by part: name, then its processes.
parts=("survivors:${survivors[*]}" "scheduler:${pids[1]}" "simulator:${pids[0]}"
       "redis:$(server_pids redis | tr '\n' ' ')" "postgres:$(server_pids postgres | tr '\n' ' ')" "rabbitmq:$(server_pids rabbitmq | tr '\n' ' ')")
evictions_before="$(sim_field evictions)"
recovered_before=()
for index in $(seq 2 "$worker_count"); do
  recovered_before+=("$(grep -c "Successfully recovered connection" "$logs/worker$index.log" || true)")
done
# The sessions the victim holds, from the states in Redis that name it (only the simulator's counters are
# read between the kill and the end: building its full status costs it seconds of CPU).
victim_instance="$(grep -o -m1 'instance=[^ ]*' "$logs/worker1.log" | cut -d= -f2)"
moved="$(redis EVAL 'local n = 0
for _, id in ipairs(redis.call("SMEMBERS", "mcp:connections:all")) do
  local v = redis.call("GET", "mcp:connection:" .. id)
  if v and string.find(v, "\"InstanceId\":\"" .. ARGV[1] .. "\"", 1, true) then n = n + 1 end
end
return n' 0 "$victim_instance")"
handshake_delay="${BENCH_HANDSHAKE_DELAY_MS:-0}"
if (( handshake_delay > 0 )); then
  curl -s --max-time 10 -X POST -d "{\"handshakeDelayMilliseconds\": $handshake_delay}" "http://127.0.0.1:$status_port/faults" >/dev/null
  echo "the simulator now delays every handshake by $handshake_delay ms"
fi
snapshot_cpu cpu_before
killed="$(now)"
kill -KILL "$victim"
echo "killed worker pid $victim ($victim_instance, holding $moved sessions) at $(date -u -d "@$killed" +%H:%M:%S.%3N) UTC"
wait_sim_below "$endpoints"
wait_all_connected
back="$all_back_at"
cpu_deltas cpu_before cpu_after
echo "worker killed: all $endpoints connected again (simulator and Redis leases) $(since "$killed" "$back") s after SIGKILL (lease TTL ${Recovery__LeaseTtlSeconds} s; goals TTL + 5 s, and TTL + 2 s at 10,000 endpoints on 3 workers); simulator evictions $(( $(sim_field evictions) - evictions_before )) (load $(load))"
# The re-opening phase: the survivors' "Successfully recovered" lines after the kill, first to last.
stamps="$(for index in $(seq 2 "$worker_count"); do tail -n +1 "$logs/worker$index.log" | grep "Successfully recovered connection" | tail -n +"$(( recovered_before[index - 2] + 1 ))" | cut -d' ' -f1; done | sort)"
reopened="$(grep -c . <<<"$stamps" || true)"
if (( reopened > 1 )); then
  first="$(date -d "$(head -n1 <<<"$stamps")" +%s.%N)"; last="$(date -d "$(tail -n1 <<<"$stamps")" +%s.%N)"
  echo "re-opening: $reopened sessions re-opened by the $(( worker_count - 1 )) survivors from $(since "$killed" "$first") s to $(since "$killed" "$last") s after SIGKILL: $(awk -v n="$reopened" -v a="$first" -v b="$last" 'BEGIN { printf "%.0f", n / (b - a) }') sessions/s"
fi
if (( moved > 0 )); then
  survivors_cpu="${cpu_report#* survivors }"; survivors_cpu="${survivors_cpu%% s,*}"
  echo "cpu over the $(since "$killed" "$back") s:${cpu_report%,}; total $cpu_total s"
  echo "cpu per moved session ($moved moved): survivors $(awk -v c="$survivors_cpu" -v n="$moved" 'BEGIN { printf "%.2f", c * 1000 / n }') ms, everything measured $(awk -v c="$cpu_total" -v n="$moved" 'BEGIN { printf "%.2f", c * 1000 / n }') ms"
fi
