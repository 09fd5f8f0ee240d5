#!/usr/bin/env bash
# The clustered counterpart of scripts/services.sh, for failover tests: a Postgres primary with a streaming
# standby, a Redis master with a replica and three Sentinels (master name `pool`), and a 3-node RabbitMQ
# cluster (no management plugin), all on loopback in a private directory. Idempotent: `start` leaves
# running servers alone and brings back missing ones.
#
#   scripts/ha-services.sh start                 install if needed (services.sh install), start all, print env
#   scripts/ha-services.sh stop                  stop everything cleanly (the private epmd too)
#   scripts/ha-services.sh env                   print `export` lines: HA_DATABASE_URL, HA_REDIS_URL,
#                                                HA_REDIS_SENTINELS, HA_REDIS_MASTER_NAME, HA_AMQP_URL, ...
#   scripts/ha-services.sh status                which processes are up, in which role
#   scripts/ha-services.sh rabbit-stop-app N     rabbitmqctl stop_app on node N (1..3)
#   scripts/ha-services.sh rabbit-start-app N    start_app on node N, wait until it runs again
#   scripts/ha-services.sh rabbitmqctl N ARGS    rabbitmqctl against node N
#   scripts/ha-services.sh redis-kill-master     SIGKILL the current master (per the Sentinels), print its port
#   scripts/ha-services.sh redis-restore         restart dead Redis servers as replicas of the current master,
#                                                wait for a master with a linked replica that all Sentinels name
#   scripts/ha-services.sh redis-master-port     the current master's port per the Sentinels
#   scripts/ha-services.sh pg-stop-primary       fast-stop the current primary, print its port
#   scripts/ha-services.sh pg-promote            promote the standby, wait until it takes writes, print its port
#   scripts/ha-services.sh pg-reset              delete both Postgres data dirs, start a fresh primary + standby
#
# XZ_HA_PORT_BASE (default 23000) moves every port: Postgres primary BASE+432, standby BASE+433; Redis
# master BASE+379, replica BASE+380, Sentinels BASE+381..383; RabbitMQ AMQP BASE+672/682/692, Erlang
# distribution BASE+674/684/694, epmd BASE+369, rabbitmqctl's own distribution port BASE+700..719.
# XZ_HA_SERVICES_DIR (default /tmp/xiaozhi-pool-ha-BASE) holds data, logs and pid files. Passwords as in
# services.sh: XZ_PG_PASSWORD, XZ_REDIS_PASSWORD, XZ_AMQP_PASSWORD (AMQP user xiaozhi).
# Roles move with failovers: after `pg-promote` the standby port is the primary (a later `start` rebuilds
# the old primary as its standby; `pg-reset` restores the initial roles), and after `redis-kill-master`
# the replica port is the master until a fresh `start` from a stopped set.
set -euo pipefail

BASE=${XZ_HA_PORT_BASE:-23000}
DIR=${XZ_HA_SERVICES_DIR:-/tmp/xiaozhi-pool-ha-$BASE}
HERE=$(cd "$(dirname "$0")" && pwd)
PG_PORTS=($((BASE + 432)) $((BASE + 433)))
REDIS_PORTS=($((BASE + 379)) $((BASE + 380)))
SENTINEL_PORTS=($((BASE + 381)) $((BASE + 382)) $((BASE + 383)))
EPMD_PORT=$((BASE + 369))
MASTER_NAME=pool
PG_PASSWORD=${XZ_PG_PASSWORD:-xiaozhi-pg}
REDIS_PASSWORD=${XZ_REDIS_PASSWORD:-xiaozhi-redis}
SENTINEL_PASSWORD=${XZ_SENTINEL_PASSWORD:-xiaozhi-sentinel}
AMQP_USER=xiaozhi
AMQP_PASSWORD=${XZ_AMQP_PASSWORD:-xiaozhi-amqp}
PG_DIR=$DIR/postgres
PG_RUN=$PG_DIR/run
RD=$DIR/redis
RQ=$DIR/rabbitmq
RMQ_BIN=/usr/lib/rabbitmq/bin

log() { printf 'ha-services: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=lib/servers.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"

wait_until() { # seconds description command...: poll the command every 0.25 s
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 4; i++)); do
    if "$@"; then return 0; fi
    sleep 0.25
  done
  log "timed out after $secs s waiting for $what"
  return 1
}

# --- Postgres: a primary and a streaming standby (pg_basebackup -R) -------------------------------
pg_data() { printf '%s/pg-%s' "$PG_DIR" "$1"; }

pgq() { # port sql: one value, tuples only, via the private socket (local trust)
  runuser -u postgres -- psql -h "$PG_RUN" -p "$1" -d postgres -tAXqc "$2" 2>/dev/null
}

pg_role() { # port -> primary | standby | down
  local r=
  port_open "$1" && r=$(pgq "$1" 'SELECT pg_is_in_recovery()') || true
  case $r in t) echo standby ;; f) echo primary ;; *) echo down ;; esac
}

pg_timeline() { # data dir -> its newest timeline (a promotion writes the next NNNNNNNN.history)
  local f t n=1
  for f in "$1"/pg_wal/*.history; do
    [ -e "$f" ] || continue
    f=${f##*/}
    t=$((16#${f%.history}))
    ((t > n)) && n=$t
  done
  echo "$n"
}

pg_prepare() {
  mkdir -p "$PG_DIR" "$PG_RUN"
  chown postgres:postgres "$PG_DIR" "$PG_RUN"
  chmod 755 "$DIR"
}

pg_start_one() { # port
  local bin data
  port_open "$1" && return 0
  bin=$(pg_bin)
  data=$(pg_data "$1")
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$PG_DIR/pg-$1.log" -w -t 60 \
    -o "-p $1 -k $PG_RUN -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=400" \
    start >/dev/null || { tail -n 20 "$PG_DIR/pg-$1.log" >&2; return 1; }
  wait_port "$1" 30 "postgres $1"
}

pg_stop_one() { # port
  local bin data
  data=$(pg_data "$1")
  [ -f "$data/postmaster.pid" ] || return 0
  bin=$(pg_bin)
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

pg_ensure_db() { # port of a primary
  pgq "$1" "SELECT 1 FROM pg_database WHERE datname = 'xiaozhi'" | grep -q 1 \
    || runuser -u postgres -- psql -h "$PG_RUN" -p "$1" -d postgres -qc "CREATE DATABASE xiaozhi" >/dev/null
}

pg_init_primary() { # port
  local bin data
  bin=$(pg_bin)
  data=$(pg_data "$1")
  printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pwfile"
  chown postgres:postgres "$PG_DIR/pwfile"
  runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres --pwfile="$PG_DIR/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { rm -f "$PG_DIR/pwfile"; cat "$PG_DIR/initdb.log" >&2; return 1; }
  rm -f "$PG_DIR/pwfile"
  pg_start_one "$1"
  pg_ensure_db "$1"
}

pg_make_standby() { # port primary-port: a fresh base backup of the primary, streaming from it
  local bin data
  bin=$(pg_bin)
  data=$(pg_data "$1")
  pg_stop_one "$1"
  rm -rf "$data"
  # The replication line of initdb's pg_hba (host replication all 127.0.0.1/32) takes the password;
  # -R writes primary_conninfo (with it) and standby.signal. runuser keeps PGPASSWORD.
  PGPASSWORD=$PG_PASSWORD runuser -u postgres -- "$bin/pg_basebackup" -h 127.0.0.1 -p "$2" -U postgres \
    -D "$data" -R -X stream -c fast >"$PG_DIR/basebackup-$1.log" 2>&1 \
    || { cat "$PG_DIR/basebackup-$1.log" >&2; return 1; }
  pg_start_one "$1"
}

pg_streaming() { # primary port: a standby streams from it
  local n
  n=$(pgq "$1" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") || return 1
  [ "${n:-0}" -ge 1 ]
}

pg_start() {
  local p d tl best=0 writer= stand=0
  pg_prepare
  # The primary is a data dir without standby.signal; if there are two (a promotion), the higher
  # timeline wins, i.e. the promoted standby beats the primary it replaced.
  for p in "${PG_PORTS[@]}"; do
    d=$(pg_data "$p")
    [ -f "$d/PG_VERSION" ] && [ ! -f "$d/standby.signal" ] || continue
    tl=$(pg_timeline "$d")
    if ((tl > best)); then best=$tl; writer=$p; fi
  done
  if [ -z "$writer" ]; then
    for p in "${PG_PORTS[@]}"; do pg_stop_one "$p"; rm -rf "$(pg_data "$p")"; done
    pg_init_primary "${PG_PORTS[0]}"
    writer=${PG_PORTS[0]}
  else
    pg_start_one "$writer"
    pg_ensure_db "$writer"
  fi
  for p in "${PG_PORTS[@]}"; do
    [ "$p" = "$writer" ] && continue
    d=$(pg_data "$p")
    if [ -f "$d/PG_VERSION" ] && [ -f "$d/standby.signal" ]; then
      pg_start_one "$p"
      stand=1
    elif port_open "$p"; then
      log "postgres $p runs as a second primary beside $writer (split brain): run pg-reset"
    else
      [ -f "$d/PG_VERSION" ] && log "postgres $p was replaced by a promotion: rebuilding it as a standby of $writer"
      pg_make_standby "$p" "$writer"
      stand=1
    fi
  done
  [ "$stand" = 0 ] || wait_until 60 "a Postgres standby streaming from $writer" pg_streaming "$writer"
}

pg_stop() {
  local p
  for ((p = ${#PG_PORTS[@]} - 1; p >= 0; p--)); do pg_stop_one "${PG_PORTS[p]}"; done
}

pg_is_primary() { [ "$(pg_role "$1")" = primary ]; }

pg_stop_primary() {
  local p
  for p in "${PG_PORTS[@]}"; do
    if pg_is_primary "$p"; then
      pg_stop_one "$p"
      wait_port_closed "$p" 30 || die "postgres $p did not stop"
      echo "$p"
      return 0
    fi
  done
  die "no running Postgres primary"
}

pg_promote() {
  local p bin
  bin=$(pg_bin)
  for p in "${PG_PORTS[@]}"; do
    if [ "$(pg_role "$p")" = standby ]; then
      runuser -u postgres -- "$bin/pg_ctl" -D "$(pg_data "$p")" -w -t 60 promote >/dev/null
      wait_until 60 "postgres $p to leave recovery" pg_is_primary "$p"
      echo "$p"
      return 0
    fi
  done
  die "no running Postgres standby"
}

pg_reset() {
  local p
  pg_stop
  for p in "${PG_PORTS[@]}"; do rm -rf "$(pg_data "$p")"; done
  pg_start
}

# --- Redis: master, replica, three Sentinels ------------------------------------------------------
rcli() { # port args: a Redis server (with the password)
  local p=$1
  shift
  REDISCLI_AUTH=$REDIS_PASSWORD timeout 5 redis-cli -p "$p" "$@" 2>/dev/null | tr -d '\r' || true
}

scli() { # port args: a Sentinel (its own password)
  local p=$1
  shift
  REDISCLI_AUTH="$SENTINEL_PASSWORD" timeout 5 redis-cli -p "$p" "$@" 2>/dev/null | tr -d '\r' || true
}

redis_role() { # port -> master | slave | down
  local r=
  port_open "$1" && r=$(rcli "$1" ROLE | head -n 1) || true
  echo "${r:-down}"
}

sentinel_master() { scli "$1" SENTINEL get-master-addr-by-name "$MASTER_NAME" | sed -n 2p; }

sentinel_field() { # port key: a field of SENTINEL master pool
  scli "$1" SENTINEL master "$MASTER_NAME" | awk -v k="$2" 'prev == k { print; exit } { prev = $0 }'
}

sentinel_replica_ok() { # sentinel-port replica-port: the Sentinel lists the replica, flags exactly "slave"
  scli "$1" SENTINEL replicas "$MASTER_NAME" \
    | awk -v p="$2" '$0 == "port" { getline; cur = $0 } $0 == "flags" { getline; if (cur == p && $0 == "slave") ok = 1 }
                     END { exit !ok }'
}

sentinels_master() { # the master port most Sentinels name (empty if none answers)
  local s all=
  for s in "${SENTINEL_PORTS[@]}"; do
    port_open "$s" && all+="$(sentinel_master "$s")"$'\n'
  done
  grep -E '^[0-9]+$' <<<"$all" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }' || true
}

redis_write_conf() { # port [master-port]
  cat >"$RD/redis-$1.conf" <<EOF
port $1
bind 127.0.0.1
daemonize yes
dir $RD
pidfile $RD/redis-$1.pid
logfile $RD/redis-$1.log
dbfilename dump-$1.rdb
requirepass "$REDIS_PASSWORD"
masterauth "$REDIS_PASSWORD"
save ""
appendonly no
repl-diskless-sync yes
repl-diskless-sync-delay 0
maxclients 20000
EOF
  if [ -n "${2:-}" ]; then echo "replicaof 127.0.0.1 $2" >>"$RD/redis-$1.conf"; fi
}

redis_start_one() { # port [master-port]
  port_open "$1" && return 0
  redis_write_conf "$1" "${2:-}"
  rm -f "$RD/dump-$1.rdb"   # no persistence: a restarted server starts empty
  redis-server "$RD/redis-$1.conf" >/dev/null
  wait_port "$1" 10 "redis $1"
}

redis_stop_one() {
  port_open "$1" || return 0
  rcli "$1" SHUTDOWN NOSAVE >/dev/null || true
  wait_port_closed "$1" 10 || true
}

sentinel_start() { # port master-port: a Sentinel that is not running gets a fresh config (it rewrites it)
  port_open "$1" && return 0
  cat >"$RD/sentinel-$1.conf" <<EOF
port $1
bind 127.0.0.1
daemonize yes
dir $RD
pidfile $RD/sentinel-$1.pid
logfile $RD/sentinel-$1.log
sentinel monitor $MASTER_NAME 127.0.0.1 $2 2
sentinel auth-pass $MASTER_NAME "$REDIS_PASSWORD"
requirepass "$SENTINEL_PASSWORD"
sentinel sentinel-pass "$SENTINEL_PASSWORD"
sentinel down-after-milliseconds $MASTER_NAME 2000
sentinel failover-timeout $MASTER_NAME 10000
EOF
  redis-server "$RD/sentinel-$1.conf" --sentinel >/dev/null
  wait_port "$1" 10 "sentinel $1"
}

sentinel_stop() {
  local pid
  port_open "$1" || return 0
  scli "$1" SHUTDOWN >/dev/null || true
  if ! wait_port_closed "$1" 5; then
    pid=$(cat "$RD/sentinel-$1.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    wait_port_closed "$1" 10 || true
  fi
}

redis_healthy() { # one master, its replica linked, all Sentinels naming it, seeing each other and the replica
  local s m= v other= p
  for s in "${SENTINEL_PORTS[@]}"; do
    v=$(sentinel_master "$s")
    [ -n "$v" ] || return 1
    [ -z "$m" ] || [ "$v" = "$m" ] || return 1
    m=$v
  done
  for p in "${REDIS_PORTS[@]}"; do [ "$p" = "$m" ] || other=$p; done
  rcli "$m" INFO replication | grep -q '^role:master$' || return 1
  rcli "$m" INFO replication | grep -q '^connected_slaves:1$' || return 1
  rcli "$other" INFO replication | grep -q '^master_link_status:up$' || return 1
  for s in "${SENTINEL_PORTS[@]}"; do
    [ "$(sentinel_field "$s" flags)" = master ] || return 1
    [ "$(sentinel_field "$s" num-other-sentinels)" = 2 ] || return 1
    sentinel_replica_ok "$s" "$other" || return 1
  done
}

named_master_alive() { local m; m=$(sentinels_master); [ -n "$m" ] && port_open "$m"; }

redis_start() { # also redis-restore: bring back whatever is missing, around the current master
  local p s m= up=0
  mkdir -p "$RD"
  for p in "${REDIS_PORTS[@]}"; do port_open "$p" && up=1; done
  if [ "$up" = 0 ]; then
    # Nothing to keep: the initial set, with Sentinels that watch it.
    for s in "${SENTINEL_PORTS[@]}"; do sentinel_stop "$s"; done
    m=${REDIS_PORTS[0]}
    redis_start_one "$m"
    redis_start_one "${REDIS_PORTS[1]}" "$m"
  else
    if [ -n "$(sentinels_master)" ] && ! named_master_alive; then
      # The Sentinels still name a dead master: let them fail over first, or the dead one would come
      # back as an empty master and its replica would resync from it.
      log "waiting for the Sentinels to fail over from dead master $(sentinels_master)"
      wait_until 20 "a Sentinel failover" named_master_alive || true
    fi
    m=$(sentinels_master)
    if [ -z "$m" ] || ! port_open "$m"; then
      m=
      for p in "${REDIS_PORTS[@]}"; do [ "$(redis_role "$p")" = master ] && { m=$p; break; }; done
    fi
    if [ -z "$m" ]; then
      for p in "${REDIS_PORTS[@]}"; do port_open "$p" && { m=$p; break; }; done
      log "no live Redis master: promoting $m by hand"
      rcli "$m" REPLICAOF NO ONE >/dev/null
    fi
    for p in "${REDIS_PORTS[@]}"; do [ "$p" = "$m" ] || redis_start_one "$p" "$m"; done
    # A running Sentinel that names another master is restarted with a fresh config.
    for s in "${SENTINEL_PORTS[@]}"; do
      if port_open "$s" && [ "$(sentinel_master "$s")" != "$m" ]; then
        log "sentinel $s names another master: restarting it"
        sentinel_stop "$s"
      fi
    done
  fi
  for s in "${SENTINEL_PORTS[@]}"; do sentinel_start "$s" "$m"; done
  wait_until 60 "a Redis master with a linked replica that all Sentinels name" redis_healthy
}

redis_stop() {
  local s p
  for s in "${SENTINEL_PORTS[@]}"; do sentinel_stop "$s"; done
  for p in "${REDIS_PORTS[@]}"; do redis_stop_one "$p"; done
}

redis_kill_master() {
  local m pid
  m=$(sentinels_master)
  [ -n "$m" ] || die "no Sentinel names a master"
  pid=$(rcli "$m" INFO server | sed -n 's/^process_id://p')
  [ -n "$pid" ] || pid=$(cat "$RD/redis-$m.pid" 2>/dev/null || true)
  [ -n "$pid" ] || die "redis $m is not running"
  kill -KILL "$pid"
  wait_port_closed "$m" 10 || die "redis $m still open after SIGKILL"
  echo "$m"
}

redis_master_port() {
  local m
  m=$(sentinels_master)
  [ -n "$m" ] || die "no Sentinel names a master"
  echo "$m"
}

# --- RabbitMQ: a 3-node cluster ---------------------------------------------------------------------
node_name() { printf 'ha%s-%s@localhost' "$1" "$BASE"; }
amqp_port() { echo $((BASE + 662 + 10 * $1)); }
dist_port() { echo $((BASE + 664 + 10 * $1)); }

rabbit_common_env() { # what the servers and every rabbitmqctl share: the cookie (HOME) and epmd
  export HOME="$RQ/home"
  export ERL_EPMD_PORT="$EPMD_PORT"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_CONF_ENV_FILE="$RQ/rabbitmq-env.conf"
  # rabbitmqctl's own distribution port (default 35672-35682, inside the kernel's ephemeral range)
  export RABBITMQ_CTL_DIST_PORT_MIN=$((BASE + 700))
  export RABBITMQ_CTL_DIST_PORT_MAX=$((BASE + 719))
  export RABBITMQ_CTL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
}

rabbit_node_env() { # node number
  local d="$RQ/ha$1"
  rabbit_common_env
  export RABBITMQ_NODENAME
  RABBITMQ_NODENAME=$(node_name "$1")
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT
  RABBITMQ_NODE_PORT=$(amqp_port "$1")
  export RABBITMQ_DIST_PORT
  RABBITMQ_DIST_PORT=$(dist_port "$1")
  export RABBITMQ_MNESIA_BASE="$d/mnesia"
  export RABBITMQ_LOG_BASE="$d/log"
  export RABBITMQ_PID_FILE="$d/rabbitmq.pid"
  export RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
}

rmq() { # node args
  local n=$1
  shift
  (rabbit_common_env; "$RMQ_BIN/rabbitmqctl" -q -n "$(node_name "$n")" "$@")
}

rabbit_pid() { # node: the pid of its Erlang VM, if it runs
  local pid
  pid=$(cat "$RQ/ha$1/rabbitmq.pid" 2>/dev/null || true)
  [ -n "$pid" ] && grep -qaF -- "$RQ/home" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
  return 0
}

rabbit_members() { # node 1's cluster_status: key (disk_nodes | running_nodes) -> node names
  rmq 1 cluster_status --formatter json 2>/dev/null | grep -o "\"$1\":\[[^]]*\]" | grep -o '[a-z0-9-]*@localhost' || true
}

rabbit_all_running() { [ "$(rabbit_members running_nodes | wc -l)" = 3 ]; }

rabbit_start() {
  local i d pid joined
  mkdir -p "$RQ/home"
  : >"$RQ/rabbitmq-env.conf"
  if [ ! -f "$RQ/home/.erlang.cookie" ]; then
    # One cookie before three nodes start at once (each would otherwise race to create it).
    (umask 077; head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 >"$RQ/home/.erlang.cookie")
    chmod 400 "$RQ/home/.erlang.cookie"
  fi
  (rabbit_common_env; epmd -daemon)
  wait_port "$EPMD_PORT" 10 epmd
  for i in 1 2 3; do
    port_open "$(amqp_port "$i")" && continue
    pid=$(rabbit_pid "$i")
    if [ -n "$pid" ]; then
      # The VM runs but the app was stopped (rabbit-stop-app): start the app only.
      rmq "$i" start_app >/dev/null
      continue
    fi
    d="$RQ/ha$i"
    mkdir -p "$d/mnesia" "$d/log"
    cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.local = 127.0.0.1:$(amqp_port "$i")
loopback_users = none
EOF
    printf '[].\n' >"$d/enabled_plugins"
    printf '[].\n' >"$d/advanced.config"
    (rabbit_node_env "$i"; "$RMQ_BIN/rabbitmq-server" -detached >/dev/null 2>&1)
  done
  for i in 1 2 3; do
    wait_port "$(amqp_port "$i")" 180 "rabbitmq node $i"
    rmq "$i" await_startup --timeout 120 >/dev/null
  done
  joined=$(rabbit_members disk_nodes)
  for i in 2 3; do
    grep -qx "$(node_name "$i")" <<<"$joined" && continue
    log "joining $(node_name "$i") to $(node_name 1)"
    rmq "$i" stop_app >/dev/null
    rmq "$i" join_cluster "$(node_name 1)" >/dev/null
    rmq "$i" start_app >/dev/null
    rmq "$i" await_startup --timeout 120 >/dev/null
    wait_port "$(amqp_port "$i")" 60 "rabbitmq node $i"
  done
  wait_until 60 "3 running RabbitMQ nodes" rabbit_all_running
  if ! rmq 1 list_users | grep -q "^$AMQP_USER[[:space:]]"; then
    rmq 1 add_user "$AMQP_USER" "$AMQP_PASSWORD" >/dev/null
    rmq 1 set_user_tags "$AMQP_USER" administrator >/dev/null
    rmq 1 set_permissions -p / "$AMQP_USER" '.*' '.*' '.*' >/dev/null
  fi
}

rabbit_stop() {
  local i pid pids=()
  for i in 1 2 3; do
    if port_open "$(amqp_port "$i")" || [ -n "$(rabbit_pid "$i")" ]; then
      rmq "$i" stop "$RQ/ha$i/rabbitmq.pid" >/dev/null 2>&1 &
      pids+=($!)
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  for i in 1 2 3; do
    wait_port_closed "$(amqp_port "$i")" 30 || true
    pid=$(rabbit_pid "$i")
    if [ -n "$pid" ]; then
      log "rabbitmq node $i did not stop: SIGTERM, then SIGKILL"
      kill -TERM "$pid" 2>/dev/null || true
      sleep 5
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  (rabbit_common_env; epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true)
  wait_port_closed "$EPMD_PORT" 5 || true
}

rabbit_node_arg() { # validates N
  case "${1:-}" in 1 | 2 | 3) echo "$1" ;; *) log "node must be 1, 2 or 3"; exit 2 ;; esac
}

# --- commands ---------------------------------------------------------------------------------------
print_env() {
  local m
  m=$(sentinels_master 2>/dev/null || true)
  cat <<EOF
export HA_DATABASE_URL='postgres://postgres:$PG_PASSWORD@127.0.0.1:${PG_PORTS[0]},127.0.0.1:${PG_PORTS[1]}/xiaozhi?sslmode=disable&target_session_attrs=read-write'
export HA_REDIS_URL='redis://:$REDIS_PASSWORD@127.0.0.1:${m:-${REDIS_PORTS[0]}}/0'
export HA_REDIS_SENTINELS='127.0.0.1:${SENTINEL_PORTS[0]},127.0.0.1:${SENTINEL_PORTS[1]},127.0.0.1:${SENTINEL_PORTS[2]}'
export HA_REDIS_MASTER_NAME='$MASTER_NAME'
export HA_REDIS_SENTINEL_PASSWORD='$SENTINEL_PASSWORD'
export HA_AMQP_URL='amqp://$AMQP_USER:$AMQP_PASSWORD@127.0.0.1:$(amqp_port 1),127.0.0.1:$(amqp_port 2),127.0.0.1:$(amqp_port 3)/%2f'
export XZ_HA_SERVICES_SCRIPT='$HERE/$(basename "$0")'
export XZ_HA_PORT_BASE='$BASE'
export XZ_HA_SERVICES_DIR='$DIR'
EOF
}

status() {
  local p s i m
  for p in "${PG_PORTS[@]}"; do echo "postgres $p $(pg_role "$p")"; done
  for p in "${REDIS_PORTS[@]}"; do echo "redis $p $(redis_role "$p")"; done
  for s in "${SENTINEL_PORTS[@]}"; do
    if port_open "$s"; then
      m=$(sentinel_master "$s")
      echo "sentinel $s up (master ${m:-?}, $(sentinel_field "$s" num-other-sentinels) other sentinels)"
    else
      echo "sentinel $s down"
    fi
  done
  for i in 1 2 3; do
    if port_open "$(amqp_port "$i")"; then echo "rabbitmq $(node_name "$i") up on $(amqp_port "$i")"
    elif [ -n "$(rabbit_pid "$i")" ]; then echo "rabbitmq $(node_name "$i") app stopped (VM up)"
    else echo "rabbitmq $(node_name "$i") down"; fi
  done
  if port_open "$EPMD_PORT"; then echo "epmd $EPMD_PORT up"; else echo "epmd $EPMD_PORT down"; fi
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}
shift || true
case "$cmd" in
  start)
    "$HERE/services.sh" install
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    redis_start
    pg_start
    rabbit_start
    print_env
    ;;
  stop) rabbit_stop; redis_stop; pg_stop ;;
  env) print_env ;;
  status) status ;;
  rabbit-stop-app)
    n=$(rabbit_node_arg "${1:-}")
    rmq "$n" stop_app >/dev/null
    wait_port_closed "$(amqp_port "$n")" 30 || die "node $n still listens on $(amqp_port "$n")"
    ;;
  rabbit-start-app)
    n=$(rabbit_node_arg "${1:-}")
    rmq "$n" start_app >/dev/null
    rmq "$n" await_startup --timeout 120 >/dev/null
    wait_port "$(amqp_port "$n")" 60 "rabbitmq node $n"
    ;;
  rabbitmqctl) n=$(rabbit_node_arg "${1:-}"); shift; rmq "$n" "$@" ;;
  redis-kill-master) redis_kill_master ;;
  redis-restore) redis_start ;;
  redis-master-port) redis_master_port ;;
  pg-stop-primary) pg_stop_primary ;;
  pg-promote) pg_promote ;;
  pg-reset) pg_reset ;;
  *) usage ;;
esac
