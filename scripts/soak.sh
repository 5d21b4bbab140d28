#!/usr/bin/env bash
# The soak run (not part of CI): `investigator serve` (release build) under a steady load, with
# resident memory, lag and batch latency sampled every 10 s.
#
#   scripts/soak.sh [MINUTES] [RATE]     default: 30 minutes at 2000 messages per second
#   SOAK_NEW_RELEASES=N scripts/soak.sh  N versions never seen before per second (default 5)
#   SOAK_SOURCE=bus scripts/soak.sh ...  through the embedded bus (PostgreSQL) instead of the
#                                        dev broker (see RELIABILITY.md)
#
# Uses a database and a deployment prefix of its own on the dev broker (started if needed), and
# writes ~/.cache/investigator/soak/<time>/soak.{csv,svg} and serve.log. Figures go into
# RELIABILITY.md by hand.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

minutes=${1:-30}
rate=${2:-2000}
prepare_infrastructure dev
say "building the investigator (release)"
cargo build --release --quiet -p investigator-ops
investigator=$CARGO_TARGET_DIR/release/investigator

out=$INVESTIGATOR_HOME/soak/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
server_url=$DATABASE_URL
database=investigator_soak
psql -w "$server_url" -Xqc "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database" >/dev/null
export DATABASE_URL; DATABASE_URL=$(url_with_database "$server_url" "$database")
export THOTH_DEPLOYMENT_NAME=soak-$(date +%s)
feed_source=()
if [ "${SOAK_SOURCE:-kafka}" = bus ]; then
  export KAFKA_BOOTSTRAP_SERVERS=
  feed_source=(--emit "$investigator")
fi
port=$(free_port)
export INVESTIGATOR_HTTP_ADDR=127.0.0.1:$port
export KAFKA_CONSUMER_SESSION_TIMEOUT_MS=6000 KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS=2000
# The log launcher records each submission: 100 a second keeps up with the mix's new releases
# (SOAK_NEW_RELEASES a second, four workflows each) and drains the first minutes' requests.
export INVESTIGATOR_KUBE_QPS=${INVESTIGATOR_KUBE_QPS:-100}
"$investigator" serve >"$out/serve.log" 2>&1 </dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 600); do curl -fsS "http://$INVESTIGATOR_HTTP_ADDR/_health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://$INVESTIGATOR_HTTP_ADDR/_health" >/dev/null || die "investigator serve did not start, see $out/serve.log"
say "soaking for $minutes minutes at $rate messages/s (pid $pid, results in $out)"
"$INVESTIGATOR_TEST_PYTHON" scripts/soak_feed.py --bootstrap "$KAFKA_BOOTSTRAP_SERVERS" \
  --prefix "$THOTH_DEPLOYMENT_NAME" --service "http://$INVESTIGATOR_HTTP_ADDR" --pid "$pid" \
  --minutes "$minutes" --rate "$rate" --new-releases "${SOAK_NEW_RELEASES:-5}" --out "$out" "${feed_source[@]}"
