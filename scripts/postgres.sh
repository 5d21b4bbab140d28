#!/usr/bin/env bash
# Makes a PostgreSQL server reachable and prints `export DATABASE_URL=...` for it.
#   1. DATABASE_URL, when it is set and answers;
#   2. otherwise a server on 127.0.0.1:5432 (user postgres, trust authentication);
#   3. otherwise a private cluster under /var/tmp/investigator-<uid>/postgres, installing
#      PostgreSQL with apt-get first when its binaries are missing.
# `--private` skips 1 and 2. Safe to run again: a running private cluster is reused.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v psql >/dev/null 2>&1 || apt_install postgresql-client
# -w: never prompt for a password (a server that wants one is not ours to use).
answers() { PGCONNECT_TIMEOUT=5 psql -w "$1" -XAtqc 'select 1' >/dev/null 2>&1; }

if [ "${1:-}" != "--private" ]; then
  if [ -n "${DATABASE_URL:-}" ] && answers "$DATABASE_URL"; then
    echo "export DATABASE_URL='$DATABASE_URL'"; exit 0
  fi
  local_url='postgresql://postgres@127.0.0.1:5432/postgres'
  if answers "$local_url"; then
    echo "export DATABASE_URL='$local_url'"; exit 0
  fi
fi

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  apt_install postgresql postgresql-client
fi
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# The postgres user must be able to reach the directory, so it is not under $HOME.
cluster=/var/tmp/investigator-$(id -u)/postgres
mkdir -p "$cluster"
chmod 755 "$(dirname "$cluster")" "$cluster"
run_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user to run the private cluster as"
    chown postgres:postgres "$cluster"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

[ -f "$cluster/port" ] || free_port > "$cluster/port"
port=$(cat "$cluster/port")
if [ ! -f "$cluster/data/PG_VERSION" ]; then
  say "creating a private PostgreSQL cluster in $cluster"
  run_pg "$pg_bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N >"$cluster/initdb.log" 2>&1 \
    || die "initdb failed, see $cluster/initdb.log"
fi
if ! run_pg "$pg_bin/pg_ctl" -D "$cluster/data" status >/dev/null 2>&1; then
  say "starting the private PostgreSQL cluster on 127.0.0.1:$port"
  run_pg "$pg_bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster" start >/dev/null \
    || die "PostgreSQL did not start, see $cluster/server.log"
fi
echo "export DATABASE_URL='postgresql://postgres@127.0.0.1:$port/postgres'"
