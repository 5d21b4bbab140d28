#!/usr/bin/env bash
# Makes a PostgreSQL server reachable and prints `export DATABASE_URL=...` for it.
#   1. DATABASE_URL, when it is set and answers;
#   2. otherwise a server on 127.0.0.1:5432 (user postgres, trust authentication);
#   3. otherwise a private cluster of ours, installing PostgreSQL with apt-get first when its
#      binaries are missing.
# `--private` skips 1 and 2. Safe to run again: a running private cluster is reused.
#
# The private cluster is private: its directory is ours (mode 0700; as root, the postgres
# user's, since the server runs as postgres), it listens on a Unix socket in a 0700 directory
# and on no TCP port, and every connection needs a password generated once and kept in
# $INVESTIGATOR_HOME/postgres-password (0600). Where it lives: $INVESTIGATOR_HOME/postgres; as
# root (the postgres user cannot enter root's home), a directory made with an unpredictable name
# under /var/tmp and recorded in $INVESTIGATOR_HOME/postgres-cluster. A directory someone else
# owns is never used.
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

if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "no 'postgres' user to run the private cluster as"
  server_user=postgres
else
  server_user=$(id -un)
fi
run_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Whether $1 is a real directory (not a link), owned by $2, that no one else may enter.
private_dir_of() {
  [ -d "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %U "$1")" = "$2" ] && [ "$(stat -c %a "$1")" = 700 ]
}

cluster_record=$INVESTIGATOR_HOME/postgres-cluster
if [ "$(id -u)" -eq 0 ]; then
  cluster=$(cat "$cluster_record" 2>/dev/null || true)
  if [ -z "$cluster" ] || ! private_dir_of "$cluster" postgres; then
    [ -n "$cluster" ] && say "not using $cluster (not a private directory of the postgres user): making a new cluster"
    cluster=$(mktemp -d /var/tmp/investigator-postgres.XXXXXXXXXX)   # 0700, unpredictable
    chown postgres:postgres "$cluster"
    (umask 077 && echo "$cluster" > "$cluster_record")
  fi
else
  cluster=$INVESTIGATOR_HOME/postgres
  if [ -e "$cluster" ] || [ -L "$cluster" ]; then
    private_dir_of "$cluster" "$server_user" || die "$cluster exists and is not a private directory of $server_user: refusing to use it"
  else
    mkdir -m 700 "$cluster"
  fi
fi
socket=$cluster/socket
if [ ! -d "$socket" ]; then
  run_pg mkdir -m 700 "$socket"
fi
private_dir_of "$socket" "$server_user" || die "$socket is not a private directory of $server_user"

password_file=$INVESTIGATOR_HOME/postgres-password
[ -s "$password_file" ] || (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' > "$password_file")
password=$(cat "$password_file")

[ -f "$cluster/port" ] || free_port > "$cluster/port"
port=$(cat "$cluster/port")
if [ ! -f "$cluster/data/PG_VERSION" ]; then
  say "creating a private PostgreSQL cluster in $cluster"
  # initdb reads the password from a file its user can open: one inside the 0700 cluster
  # directory, removed at once.
  pwfile=$cluster/initdb-password
  (umask 077 && echo "$password" > "$pwfile")
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$pwfile"
  initialised=0
  run_pg "$pg_bin/initdb" -D "$cluster/data" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" \
    -E UTF8 --locale=C.UTF-8 -N >"$cluster/initdb.log" 2>&1 && initialised=1
  rm -f "$pwfile"
  [ "$initialised" -eq 1 ] || die "initdb failed, see $cluster/initdb.log"
fi
# Every connection needs the password; no trust, no replication.
hba=$'local all all scram-sha-256\nhost  all all all scram-sha-256'
if [ "$(run_pg cat "$cluster/data/pg_hba.conf")" != "$hba" ]; then
  printf '%s\n' "$hba" | run_pg tee "$cluster/data/pg_hba.conf" >/dev/null
  run_pg "$pg_bin/pg_ctl" -D "$cluster/data" reload >/dev/null 2>&1 || true
fi
if ! run_pg "$pg_bin/pg_ctl" -D "$cluster/data" status >/dev/null 2>&1; then
  say "starting the private PostgreSQL cluster (socket in $socket)"
  run_pg "$pg_bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
    -o "-c listen_addresses='' -p $port -k '$socket' -c unix_socket_permissions=0700" start >/dev/null \
    || die "PostgreSQL did not start, see $cluster/server.log"
fi
# The socket's directory as the URL's host, percent-encoded (libpq and tokio-postgres read it so).
host=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$socket")
echo "export DATABASE_URL='postgresql://postgres:$password@$host:$port/postgres'"
