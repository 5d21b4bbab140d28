#!/usr/bin/env bash
# The benchmarks. Prepares PostgreSQL (as the test command does) and runs, in release mode:
#   - the event log: a log of 1,000,000 realistic events appended in batches of 1, 100 and
#     500, recorded (append + projection), replayed, and PostgreSQL's own COPY rate for the
#     same rows, with the ratios (tests/benches/event_log.rs);
#   - the wire codec (events/benches/codec.rs);
#   - the pipeline: a backlog of 200,000 Thoth messages ingested end to end by
#     `investigator serve`, against the broker's own consume rate, and the produce-to-commit
#     latency at 1,000 msg/s (tests/benches/pipeline.rs);
#   - the REST API: wrk against two of Thoth's user-api endpoints on a graph of 100,000
#     package versions, cached, and uncached at a fixed rate (tests/benches/api.rs).
# Figures go to standard output; BENCHMARKS.md keeps the latest ones. Not part of CI.
# `scripts/bench.sh event_log`, `codec`, `pipeline` or `api` runs one of them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/install-system.sh"
load_exports "$REPO_ROOT/scripts/postgres.sh"
export DATABASE_URL
say "PostgreSQL: $(redact_url "$DATABASE_URL")   cargo target: $CARGO_TARGET_DIR"

which=${1:-all}
if [ "$which" = all ] || [ "$which" = event_log ]; then
  cargo bench --quiet -p investigator-tests --bench event_log
fi
if [ "$which" = all ] || [ "$which" = codec ]; then
  cargo bench --quiet -p investigator-events --bench codec
fi
if [ "$which" = all ] || [ "$which" = pipeline ]; then
  load_exports "$REPO_ROOT/scripts/python-peer.sh"
  load_exports "$REPO_ROOT/scripts/broker.sh" start bench
  export KAFKA_BOOTSTRAP_SERVERS
  trap '"$REPO_ROOT/scripts/broker.sh" stop bench' EXIT
  cargo build --quiet --release -p investigator
  cargo bench --quiet -p investigator-tests --bench pipeline
fi
if [ "$which" = all ] || [ "$which" = api ]; then
  apt_install wrk
  cargo build --quiet --release -p investigator
  cargo bench --quiet -p investigator-tests --bench api
fi
