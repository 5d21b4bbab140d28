#!/usr/bin/env bash
# The run command: starts the investigator on its defaults, on this machine alone.
#
# The service itself (`investigator serve`) is not built yet. Until it is, this prepares and
# starts everything it will run on, and shows what works today: PostgreSQL, a local tansu
# broker, Thoth's 19 topics under THOTH_DEPLOYMENT_NAME (default `local`), and one message of
# every type published by `investigator emit`. Safe to run again; the broker keeps running.
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

cat >&2 <<SUMMARY

What runs now:
  Kafka (tansu, in memory)  $KAFKA_BOOTSTRAP_SERVERS   stop: scripts/broker.sh stop dev
  PostgreSQL                $(redact_url "$DATABASE_URL")
  Topics                    Thoth's 19, prefixed '$THOTH_DEPLOYMENT_NAME.'

Try:
  export KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS THOTH_DEPLOYMENT_NAME=$THOTH_DEPLOYMENT_NAME
  $investigator emit thoth.investigator.unresolved-package --json '{"package_name": "flask", "index_url": "https://pypi.org/simple"}'
  $investigator topics list
  $TANSU_BIN cat consume --broker tcp://$KAFKA_BOOTSTRAP_SERVERS --partition 0 --max-wait-time-ms 500 $THOTH_DEPLOYMENT_NAME.thoth.investigator.unresolved-package

Not built yet: 'investigator serve' (ingest, event log, workflows, REST API), 'migrate', 'replay', 'sync'.
SUMMARY
