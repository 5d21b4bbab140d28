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
#     package versions, cached, and uncached at a fixed rate (tests/benches/api.rs);
#   - the workflow launcher against the fake Kubernetes API: launches per second, and the
#     latency from an unresolved-package record to its workflows submitted
#     (tests/benches/launcher.rs).
# Figures go to standard output; BENCHMARKS.md keeps the latest ones. Not part of CI.
# `scripts/bench.sh event_log`, `codec`, `pipeline`, `api` or `launcher` runs one of them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/install-system.sh"
load_exports "$REPO_ROOT/scripts/postgres.sh"
export DATABASE_URL
say "PostgreSQL: $(redact_url "$DATABASE_URL")   cargo target: $CARGO_TARGET_DIR"

which=${1:-all}
wanted() { [ "$which" = all ] || [ "$which" = "$1" ]; }

# The end-to-end benchmarks run the release binary, some against a broker of their own.
release_binary() { cargo build --quiet --release -p investigator-ops; }
broker_started=no
with_broker() {
  [ "$broker_started" = yes ] && return 0
  load_exports "$REPO_ROOT/scripts/python-peer.sh"
  load_exports "$REPO_ROOT/scripts/broker.sh" start bench
  export KAFKA_BOOTSTRAP_SERVERS
  trap '"$REPO_ROOT/scripts/broker.sh" stop bench' EXIT
  broker_started=yes
}

if wanted event_log; then
  cargo bench --quiet -p investigator-tests --bench event_log
fi
if wanted codec; then
  cargo bench --quiet -p investigator-events --bench codec
fi
if wanted pipeline; then
  with_broker
  release_binary
  cargo bench --quiet -p investigator-tests --bench pipeline
fi
if wanted api; then
  apt_install wrk
  release_binary
  cargo bench --quiet -p investigator-tests --bench api
fi
if wanted launcher; then
  with_broker
  release_binary
  cargo bench --quiet -p investigator-tests --bench launcher
fi
