#!/usr/bin/env bash
# The run command: the investigator service on its defaults, on this machine alone.
#
#   scripts/run.sh        start (or restart) `investigator serve` in the background and show it
#                         at work on a demo feed (solver documents and Thoth messages for 37 real
#                         packages, broken records mixed in): the graph grows, workflow requests
#                         and dead letters come out
#   scripts/run.sh stop   stop the service (the broker keeps running: scripts/broker.sh stop dev)
#
# It runs on PostgreSQL (the database `investigator`, created if missing) and a local tansu
# broker, with Thoth's topics under THOTH_DEPLOYMENT_NAME (default `local`), and serves
# /_health, /metrics, /halt and /resume on INVESTIGATOR_HTTP_ADDR (default 127.0.0.1:6066), with
# the API token (writes, /halt, /resume) in $INVESTIGATOR_HOME/api-token.
# Workflow requests are recorded, not submitted (no cluster here). Safe to run again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

pidfile=$INVESTIGATOR_HOME/serve.pid
logfile=$INVESTIGATOR_HOME/serve.log
stop_service() {
  if [ -f "$pidfile" ] && tr '\0' ' ' 2>/dev/null < "/proc/$(cat "$pidfile")/cmdline" | grep -q 'investigator serve'; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    say "investigator serve stopped"
  fi
  rm -f "$pidfile"
}
if [ "${1:-}" = stop ]; then stop_service; exit 0; fi

prepare_infrastructure dev
export THOTH_DEPLOYMENT_NAME=${THOTH_DEPLOYMENT_NAME:-local}
export INVESTIGATOR_HTTP_ADDR=${INVESTIGATOR_HTTP_ADDR:-127.0.0.1:6066}
# The local broker holds each consumer-group join for half the session timeout.
export KAFKA_CONSUMER_SESSION_TIMEOUT_MS=${KAFKA_CONSUMER_SESSION_TIMEOUT_MS:-6000}
export KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS=${KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS:-2000}

say "building the investigator (release; the first build takes several minutes)"
cargo build --release --quiet -p investigator-ops
investigator=$CARGO_TARGET_DIR/release/investigator

# The knowledge graph gets a database of its own on the same server.
server_url=$DATABASE_URL
export DATABASE_URL; DATABASE_URL=$(url_with_database "$server_url" investigator)
if ! psql -w "$server_url" -XAtqc "SELECT 1 FROM pg_database WHERE datname = 'investigator'" | grep -q 1; then
  psql -w "$server_url" -Xqc 'CREATE DATABASE investigator' >/dev/null
fi
# The demo feed: a busy minute of Thoth traffic for 37 real packages, failures mixed in.
demo=$INVESTIGATOR_HOME/demo
rm -rf "$demo"
python3 scripts/demo_feed.py "$demo" >/dev/null
graph_counts() {
  psql -w "$DATABASE_URL" -XAtqc "SELECT format('%s packages, %s versions, %s dependency edges, %s solver runs, %s CVE links',
      (SELECT count(DISTINCT package_name) FROM graph.python_package_version_entity),
      (SELECT count(*) FROM graph.python_package_version_entity WHERE package_version IS NOT NULL),
      (SELECT count(*) FROM graph.depends_on), (SELECT count(*) FROM graph.solved),
      (SELECT count(*) FROM graph.has_vulnerability))" 2>/dev/null || echo "nothing yet (a new database)"
}
say "the knowledge graph before: $(graph_counts)"
say "syncing 37 solver documents of the demo feed and the samples of tests/data/documents (three are broken on purpose)"
"$investigator" sync "$demo/documents" tests/data/documents 2>/dev/null | tail -1 >&2 || true
say "the knowledge graph after the sync: $(graph_counts)"

stop_service
# The dev broker keeps its topics in memory: a new broker starts every topic at offset 0 again,
# so offsets the database kept from an earlier broker would skip the new records.
broker_pid=$(cat "$INVESTIGATOR_HOME/broker-dev.pid")
offsets_of="$INVESTIGATOR_HOME/run-offsets-broker.pid"
if [ "$(cat "$offsets_of" 2>/dev/null)" != "$broker_pid" ]; then
  psql -w "$DATABASE_URL" -Xqc "DELETE FROM investigator.consumer_offset" >/dev/null
  echo "$broker_pid" > "$offsets_of"
fi
# Writes (and /halt, /resume) need a token: one is made once and kept, readable by us alone.
token_file=$INVESTIGATOR_HOME/api-token
if [ ! -s "$token_file" ]; then
  (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' > "$token_file")
fi
say "starting investigator serve (log: $logfile)"
INVESTIGATOR_API_TOKEN=$(cat "$token_file") nohup "$investigator" serve >"$logfile" 2>&1 </dev/null &
echo $! > "$pidfile"
health="http://$INVESTIGATOR_HTTP_ADDR/_health"
for _ in $(seq 600); do
  curl -fsS "$health" >/dev/null 2>&1 && break
  kill -0 "$(cat "$pidfile")" 2>/dev/null || die "investigator serve stopped, see $logfile"
  sleep 0.1
done
curl -fsS "$health" >/dev/null || die "investigator serve is not healthy, see $logfile"
say "healthy: $(curl -fsS "$health")"

applied() { psql -w "$DATABASE_URL" -XAtqc "SELECT coalesce(sum(next_offset), 0) FROM investigator.consumer_offset"; }
before=$(applied)
say "publishing the demo feed: one message of every type, 39 messages about the demo packages, 5 broken records"
"$investigator" emit --from-file events/tests/golden/thoth-messages.full.json >/dev/null
"$investigator" emit --from-file "$demo/messages.json" >/dev/null
# Broken records cannot go through `emit` (it validates first): they are sent raw.
"$INVESTIGATOR_TEST_PYTHON" - "$demo/bad.jsonl" <<'PY'
import json, os, sys
from confluent_kafka import Producer
producer = Producer({"bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"]})
prefix = os.environ.get("THOTH_DEPLOYMENT_NAME")
for line in open(sys.argv[1]):
    record = json.loads(line)
    topic = f"{prefix}.{record['topic']}" if prefix else record["topic"]
    producer.produce(topic, record["payload"].encode())
producer.flush(30)
PY
# 18 of the 19 golden messages are consumed (advise-justification belongs to the metrics mode).
expected=$((before + 18 + 39 + 5))
for _ in $(seq 600); do [ "$(applied)" -ge "$expected" ] && break; sleep 0.1; done
say "records applied: $(( $(applied) - before )) new, $(applied) in all"
# The launcher (the log launcher here: no cluster) takes the requests within a second or two.
waiting() { psql -w "$DATABASE_URL" -XAtqc "SELECT count(*) FROM graph.workflow_run WHERE status = 'requested'"; }
for _ in $(seq 50); do [ "$(waiting)" -eq 0 ] && break; sleep 0.1; done
say "the knowledge graph now: $(graph_counts)"
say "the learning drivers: OSV advisories, then the graph refresh (what the graph does not know yet)"
"$investigator" import-cves "$demo/osv" 2>/dev/null | tail -1 >&2 || true
"$investigator" refresh 2>/dev/null | tail -1 >&2 || true
# The pipeline takes what the drivers published; wait until it has and the launcher is done.
previous=-1
for _ in $(seq 50); do
  now=$(applied); [ "$now" -eq "$previous" ] && [ "$(waiting)" -eq 0 ] && break; previous=$now; sleep 0.5
done
say "the knowledge graph after learning: $(graph_counts)"
say "workflows written to the service's log as they would be submitted (INVESTIGATOR_LAUNCHER=log): grep 'log launcher' $logfile"

psql -w "$DATABASE_URL" -XP pager=off -c "SELECT kind, status, count(*) AS workflows, min(package_name) AS \"for example\" \
  FROM graph.workflow_run GROUP BY kind, status ORDER BY kind, status"
psql -w "$DATABASE_URL" -XP pager=off -c "SELECT reason_code, count(*) AS dead_letters, left(min(reason), 90) AS \"for example\" \
  FROM graph.dead_letter GROUP BY reason_code ORDER BY reason_code"

cat >&2 <<SUMMARY

What runs now:
  investigator serve        pid $(cat "$pidfile"), http://$INVESTIGATOR_HTTP_ADDR   stop: scripts/run.sh stop
  Kafka (tansu, in memory)  $KAFKA_BOOTSTRAP_SERVERS   stop: scripts/broker.sh stop dev
  PostgreSQL                $(redact_url "$DATABASE_URL")   (log: schema investigator, graph: schema graph)

Try:
  curl -s http://$INVESTIGATOR_HTTP_ADDR/api/v1/python/package/versions?name=flask
  curl -s 'http://$INVESTIGATOR_HTTP_ADDR/api/v1/python/package/dependencies?name=flask&version=2.0.2&index=https://pypi.org/simple'
  curl -s http://$INVESTIGATOR_HTTP_ADDR/api/v1/workflows?status=submitted
  curl -s http://$INVESTIGATOR_HTTP_ADDR/api/v1/dead-letters
  curl -s http://$INVESTIGATOR_HTTP_ADDR/api/v1/status
  export KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS THOTH_DEPLOYMENT_NAME=$THOTH_DEPLOYMENT_NAME DATABASE_URL=$DATABASE_URL
  $investigator emit thoth.investigator.unresolved-package --json '{"package_name": "flask", "package_version": "2.0.1", "index_url": "https://pypi.org/simple"}'
  $investigator events tail --last 5
  curl -s http://$INVESTIGATOR_HTTP_ADDR/metrics | grep ^thoth_investigator
  curl -s -X POST -H "Authorization: Bearer \$(cat $token_file)" http://$INVESTIGATOR_HTTP_ADDR/halt/thoth.investigator.unresolved-package
  tail -f $logfile
SUMMARY
