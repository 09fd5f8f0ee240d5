# Helpers shared by scripts/services.sh and scripts/ha-services.sh (sourced; the caller defines `log`).

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds name
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_open "$1" && return 0
    sleep 0.1
  done
  log "$3 did not open port $1 within $2 s"
  return 1
}

wait_port_closed() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_open "$1" || return 0
    sleep 0.1
  done
  return 1
}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || { log "no PostgreSQL server under /usr/lib/postgresql"; return 1; }
  printf '%s' "$d"
}

