#!/usr/bin/env bash
# The run command: starts the investigator on its defaults, on this machine alone.
#
# The service itself (`investigator serve`) is not built yet. Until it is, this prepares and
# starts everything it will run on, and shows what works today: PostgreSQL, a local tansu
# broker, Thoth's 19 topics under THOTH_DEPLOYMENT_NAME (default `local`), one message of every
# type published by `investigator emit`, and the knowledge graph in the database `investigator`:
# migrated, the sample documents synced, replayed and verified. Safe to run again; the broker
# keeps running, and documents synced before are left as they are.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

prepare_infrastructure dev
export THOTH_DEPLOYMENT_NAME=${THOTH_DEPLOYMENT_NAME:-local}

say "building the investigator (release; the first build takes several minutes)"
cargo build --release --quiet -p investigator
investigator=$CARGO_TARGET_DIR/release/investigator

say "creating Thoth's topics"
"$investigator" topics create >/dev/null
say "publishing one message of every type"
"$investigator" emit --from-file events/tests/golden/thoth-messages.full.json
"$investigator" topics list

# The knowledge graph gets a database of its own on the same server.
server_url=$DATABASE_URL
export DATABASE_URL; DATABASE_URL=$(url_with_database "$server_url" investigator)
if ! psql -w "$server_url" -XAtqc "SELECT 1 FROM pg_database WHERE datname = 'investigator'" | grep -q 1; then
  psql -w "$server_url" -Xqc 'CREATE DATABASE investigator' >/dev/null
fi
say "migrating the knowledge graph in $(redact_url "$DATABASE_URL")"
"$investigator" migrate
say "syncing the sample documents (three are broken on purpose: watch the errors)"
"$investigator" sync tests/data/documents || true
say "rebuilding the graph from the event log and comparing it with the live one"
"$investigator" replay --verify | tail -n 1
psql -w "$DATABASE_URL" -XP pager=off -c "SELECT v.package_name, v.package_version, v.os_name, v.os_version, \
  v.python_version, count(d.entity_id) AS dependency_versions FROM graph.python_package_version v \
  LEFT JOIN graph.depends_on d ON d.version_id = v.id GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 3"

cat >&2 <<SUMMARY

What runs now:
  Kafka (tansu, in memory)  $KAFKA_BOOTSTRAP_SERVERS   stop: scripts/broker.sh stop dev
  PostgreSQL                $(redact_url "$DATABASE_URL")   (the knowledge graph: schema graph)
  Topics                    Thoth's 19, prefixed '$THOTH_DEPLOYMENT_NAME.'

Try:
  export KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS THOTH_DEPLOYMENT_NAME=$THOTH_DEPLOYMENT_NAME DATABASE_URL=$DATABASE_URL
  $investigator events tail --last 5
  $investigator replay
  $investigator events export /tmp/investigator-log.inv
  $investigator emit thoth.investigator.unresolved-package --json '{"package_name": "flask", "index_url": "https://pypi.org/simple"}'
  $investigator topics list
  $TANSU_BIN cat consume --broker tcp://$KAFKA_BOOTSTRAP_SERVERS --partition 0 --max-wait-time-ms 500 $THOTH_DEPLOYMENT_NAME.thoth.investigator.unresolved-package

Not built yet: 'investigator serve' (Kafka ingest, the actors, workflows, the REST API).
SUMMARY
