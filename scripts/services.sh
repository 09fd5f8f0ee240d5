#!/usr/bin/env bash
# Local Postgres, Redis and RabbitMQ (with the management plugin) on loopback, in a private directory,
# on non-default ports. Idempotent: `start` leaves running servers alone.
#
#   scripts/services.sh install             apt-get the missing packages
#   scripts/services.sh start               install if needed, start all three, print their URLs
#   scripts/services.sh stop                stop all three cleanly
#   scripts/services.sh restart NAME        stop and start one of postgres|redis|rabbitmq
#   scripts/services.sh stop-one NAME       stop one (for outage tests); start brings it back
#   scripts/services.sh env                 print `export` lines for DATABASE_URL, REDIS_URL, AMQP_URL
#   scripts/services.sh status              which are up
#   scripts/services.sh rabbitmqctl ARGS    rabbitmqctl against the private node
#
# XZ_PORT_BASE (default 24000) moves every port: Postgres BASE+432, Redis BASE+379, AMQP BASE+672,
# RabbitMQ management BASE+673, Erlang distribution BASE+674, epmd BASE+369.
# XZ_SERVICES_DIR (default /tmp/xiaozhi-pool-services-BASE) holds data, logs and pid files.
set -euo pipefail

BASE=${XZ_PORT_BASE:-24000}
DIR=${XZ_SERVICES_DIR:-/tmp/xiaozhi-pool-services-$BASE}
PG_PORT=$((BASE + 432))
REDIS_PORT=$((BASE + 379))
AMQP_PORT=$((BASE + 672))
MGMT_PORT=$((BASE + 673))
DIST_PORT=$((BASE + 674))
EPMD_PORT=$((BASE + 369))
PG_PASSWORD=${XZ_PG_PASSWORD:-xiaozhi-pg}
REDIS_PASSWORD=${XZ_REDIS_PASSWORD:-xiaozhi-redis}
AMQP_USER=xiaozhi
AMQP_PASSWORD=${XZ_AMQP_PASSWORD:-xiaozhi-amqp}

log() { printf 'services: %s\n' "$*" >&2; }
# shellcheck source=lib/servers.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"

install() {
  local need=()
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
  command -v redis-server >/dev/null || need+=(redis-server)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  [ -f /usr/include/amqp.h ] || need+=(librabbitmq-dev)
  [ -f /usr/include/hiredis/hiredis.h ] || need+=(libhiredis-dev)
  [ -f /usr/include/postgresql/libpq-fe.h ] || need+=(libpq-dev)
  [ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
  command -v pkg-config >/dev/null || need+=(pkg-config)
  command -v redis-cli >/dev/null || need+=(redis-tools)
  command -v psql >/dev/null || need+=(postgresql-client)
  # The console's browser tests: Debian's Chromium, its driver, and Selenium for Debian's python3.
  [ -x /usr/bin/chromium ] || need+=(chromium)
  [ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
  /usr/bin/python3 -c 'import selenium' 2>/dev/null || need+=(python3-selenium)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# --- Postgres -------------------------------------------------------------------------------------
pg_start() {
  local bin data="$DIR/postgres/data" run="$DIR/postgres/run"
  bin=$(pg_bin)
  if port_open "$PG_PORT"; then return 0; fi
  mkdir -p "$DIR/postgres" "$run"
  chown -R postgres:postgres "$DIR/postgres"
  chmod 755 "$DIR"
  if [ ! -f "$data/PG_VERSION" ]; then
    printf '%s\n' "$PG_PASSWORD" >"$DIR/postgres/pwfile"
    chown postgres:postgres "$DIR/postgres/pwfile"
    runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres --pwfile="$DIR/postgres/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/postgres/initdb.log" 2>&1 \
      || { cat "$DIR/postgres/initdb.log" >&2; return 1; }
    rm -f "$DIR/postgres/pwfile"
  fi
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$DIR/postgres/server.log" -w -t 30 \
    -o "-p $PG_PORT -k $run -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null
  wait_port "$PG_PORT" 30 postgres
  runuser -u postgres -- psql -h "$run" -p "$PG_PORT" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'xiaozhi'" | grep -q 1 \
    || runuser -u postgres -- psql -h "$run" -p "$PG_PORT" -d postgres -qc "CREATE DATABASE xiaozhi" >/dev/null
}

pg_stop() {
  local bin
  bin=$(pg_bin)
  [ -f "$DIR/postgres/data/postmaster.pid" ] || return 0
  runuser -u postgres -- "$bin/pg_ctl" -D "$DIR/postgres/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

# --- Redis ----------------------------------------------------------------------------------------
redis_start() {
  if port_open "$REDIS_PORT"; then return 0; fi
  mkdir -p "$DIR/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$DIR/redis" \
    --pidfile "$DIR/redis/redis.pid" --logfile "$DIR/redis/redis.log" --requirepass "$REDIS_PASSWORD" \
    --save '' --appendonly no --maxclients 20000 >/dev/null
  wait_port "$REDIS_PORT" 10 redis
}

redis_stop() {
  port_open "$REDIS_PORT" || return 0
  REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  wait_port_closed "$REDIS_PORT" 10 || true
}

# --- RabbitMQ -------------------------------------------------------------------------------------
rabbit_env() {
  export HOME="$DIR/rabbitmq/home"
  export RABBITMQ_NODENAME="xiaozhi$BASE@localhost"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$AMQP_PORT"
  export RABBITMQ_DIST_PORT="$DIST_PORT"
  export ERL_EPMD_PORT="$EPMD_PORT"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_MNESIA_BASE="$DIR/rabbitmq/mnesia"
  export RABBITMQ_LOG_BASE="$DIR/rabbitmq/log"
  export RABBITMQ_PID_FILE="$DIR/rabbitmq/rabbitmq.pid"
  export RABBITMQ_CONFIG_FILE="$DIR/rabbitmq/rabbitmq.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/rabbitmq/enabled_plugins"
  export RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq/rabbitmq-env.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$DIR/rabbitmq/advanced.config"
}

rmqctl() { (rabbit_env; /usr/lib/rabbitmq/bin/rabbitmqctl -q "$@"); }

rabbit_start() {
  if port_open "$AMQP_PORT"; then return 0; fi
  mkdir -p "$DIR/rabbitmq/home" "$DIR/rabbitmq/mnesia" "$DIR/rabbitmq/log"
  cat >"$DIR/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.default = $AMQP_PORT
management.tcp.port = $MGMT_PORT
management.tcp.ip = 127.0.0.1
loopback_users = none
EOF
  printf '[rabbitmq_management].\n' >"$DIR/rabbitmq/enabled_plugins"
  : >"$DIR/rabbitmq/rabbitmq-env.conf"
  printf '[].\n' >"$DIR/rabbitmq/advanced.config"
  (rabbit_env; /usr/lib/rabbitmq/bin/rabbitmq-server -detached >/dev/null 2>&1)
  wait_port "$AMQP_PORT" 60 rabbitmq
  rmqctl await_startup >/dev/null
  if ! rmqctl list_users | grep -q "^$AMQP_USER"; then
    rmqctl add_user "$AMQP_USER" "$AMQP_PASSWORD" >/dev/null
    rmqctl set_user_tags "$AMQP_USER" administrator >/dev/null
    rmqctl set_permissions -p / "$AMQP_USER" '.*' '.*' '.*' >/dev/null
  fi
}

rabbit_stop() {
  if port_open "$AMQP_PORT" || [ -f "$DIR/rabbitmq/rabbitmq.pid" ]; then
    rmqctl stop "$DIR/rabbitmq/rabbitmq.pid" >/dev/null 2>&1 || true
    wait_port_closed "$AMQP_PORT" 30 || true
  fi
  (rabbit_env; epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true)
}

# --- commands -------------------------------------------------------------------------------------
print_env() {
  cat <<EOF
export DATABASE_URL='postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/xiaozhi?sslmode=disable'
export REDIS_URL='redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0'
export AMQP_URL='amqp://$AMQP_USER:$AMQP_PASSWORD@127.0.0.1:$AMQP_PORT/%2f'
export RABBITMQ_MANAGEMENT_URL='http://127.0.0.1:$MGMT_PORT'
export XZ_SERVICES_SCRIPT='$(cd "$(dirname "$0")" && pwd)/services.sh'
export XZ_PORT_BASE='$BASE'
export XZ_SERVICES_DIR='$DIR'
EOF
}

one() {
  case "$1" in
    postgres) echo pg ;;
    redis) echo redis ;;
    rabbitmq) echo rabbit ;;
    *) log "unknown service '$1' (postgres, redis or rabbitmq)"; exit 2 ;;
  esac
}

cmd=${1:-}
shift || true
case "$cmd" in
  install) install ;;
  start)
    install
    mkdir -p "$DIR"
    redis_start
    pg_start
    rabbit_start
    print_env
    ;;
  stop) rabbit_stop; redis_stop; pg_stop ;;
  restart) s=$(one "${1:-}"); "${s}_stop"; "${s}_start" ;;
  stop-one) s=$(one "${1:-}"); "${s}_stop" ;;
  start-one) s=$(one "${1:-}"); "${s}_start" ;;
  env) print_env ;;
  status)
    for p in "postgres:$PG_PORT" "redis:$REDIS_PORT" "rabbitmq:$AMQP_PORT"; do
      if port_open "${p#*:}"; then echo "${p%%:*} up on ${p#*:}"; else echo "${p%%:*} down"; fi
    done
    ;;
  rabbitmqctl) rmqctl "$@" ;;
  *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
