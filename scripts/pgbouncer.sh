#!/usr/bin/env bash
# pgbouncer in transaction pooling, as Thoth deploys it, in front of the PostgreSQL server of
# DATABASE_URL (as scripts/postgres.sh gives it: TCP or a Unix socket, with or without a
# password). Installs Debian's pgbouncer when missing. It listens on 127.0.0.1 only and asks
# its clients for no password (loopback tests only).
#   scripts/pgbouncer.sh start NAME   starts one (reused when running) and prints
#                                     `export INVESTIGATOR_TEST_POOLER_URL=...`
#   scripts/pgbouncer.sh stop NAME
#   scripts/pgbouncer.sh restart NAME stops it and starts it again on the same port (tests)
#   scripts/pgbouncer.sh remove NAME  stops it and removes its files
# PGBOUNCER_POOL_SIZE (40) sets the server connections per database and user, and
# PGBOUNCER_ROUND_ROBIN=1 hands them out in turn rather than the most recent first: a test uses
# both to make a transaction's late message reach another server connection.
# Its port is kept in $INVESTIGATOR_HOME/pgbouncer/NAME. pgbouncer refuses to run as root, so as
# root it runs as the postgres user, with its files (configuration, log, pid) in a directory
# made for it by mktemp (the postgres user cannot reach $HOME), which the `rundir` file names.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

action=${1:?usage: pgbouncer.sh start|stop|restart NAME}
name=${2:?usage: pgbouncer.sh start|stop|restart NAME}
[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set: the server pgbouncer stands in front of"

directory=$INVESTIGATOR_HOME/pgbouncer/$name
run_as_service_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where pgbouncer's own files are (empty when it never ran).
rundir() { if [ -f "$directory/rundir" ]; then cat "$directory/rundir"; fi; }

running() { local run; run=$(rundir); [ -n "$run" ] && [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; }

stop() {
  local run
  run=$(rundir)
  if running; then
    kill "$(cat "$run/pid")" 2>/dev/null || true
    for _ in $(seq 100); do running || break; sleep 0.05; done
  fi
  if [ -n "$run" ]; then rm -f "$run/pid"; fi
}

# Stops it and removes its files.
remove() {
  local run
  run=$(rundir)
  stop
  case "$run" in /tmp/investigator-pgbouncer-*) rm -rf "$run" ;; esac
  rm -rf "$directory"
}

start() {
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || apt_install pgbouncer
  local binary
  binary=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  # The server of DATABASE_URL: where and as whom (the test databases come and go).
  local server
  server=$(python3 - "$DATABASE_URL" <<'PY'
import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
if url.scheme not in ("postgres", "postgresql"):
    sys.exit("not a postgresql:// URL")
host = urllib.parse.unquote(url.hostname or "127.0.0.1") if url.netloc else "127.0.0.1"
if "%2f" in url.netloc.lower():
    host = urllib.parse.unquote(url.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0])
parts = [f"host={host}", f"port={url.port or 5432}", f"user={urllib.parse.unquote(url.username or 'postgres')}"]
if url.password:
    parts.append(f"password={urllib.parse.unquote(url.password)}")
print(" ".join(parts))
PY
  ) || die "pgbouncer.sh cannot read DATABASE_URL $(redact_url "$DATABASE_URL")"
  mkdir -p "$directory"
  [ -f "$directory/port" ] || free_port > "$directory/port"
  local port run
  port=$(cat "$directory/port")
  if ! running; then
    if [ "$(id -u)" -eq 0 ]; then
      run=$(rundir)
      if [ -z "$run" ] || [ ! -d "$run" ] || [ "$(stat -c %U "$run")" != postgres ]; then
        run=$(mktemp -d /tmp/investigator-pgbouncer-XXXXXXXX)
        chown postgres: "$run"
      fi
    else
      run=$directory
    fi
    chmod 700 "$run"
    # The configuration may hold the server's password.
    umask 077
    echo "$run" > "$directory/rundir"
    # Transaction pooling with pgbouncer 1.18's defaults otherwise: no prepared statements
    # across transactions, no session state. Every database of the server is reachable, as
    # the postgres user (auth_type any: loopback tests only).
    cat > "$run/pgbouncer.ini" <<INI
[databases]
* = $server

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE:-40}
server_round_robin = ${PGBOUNCER_ROUND_ROBIN:-0}
max_client_conn = 2000
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = $run/pgbouncer.log
pidfile = $run/pid
INI
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$run/pgbouncer.ini"; fi
    run_as_service_user "$binary" -d "$run/pgbouncer.ini" || die "pgbouncer did not start, see $run/pgbouncer.log"
    wait_for_port "$port" 200 || die "pgbouncer does not listen on 127.0.0.1:$port, see $run/pgbouncer.log"
    say "pgbouncer '$name' (transaction pooling) on 127.0.0.1:$port in front of $(redact_url "$DATABASE_URL")"
  fi
  echo "export INVESTIGATOR_TEST_POOLER_URL='postgresql://postgres@127.0.0.1:$port/postgres'"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  remove) remove ;;
  restart) stop; start >/dev/null ;;
  *) die "usage: pgbouncer.sh start|stop|restart|remove NAME" ;;
esac
