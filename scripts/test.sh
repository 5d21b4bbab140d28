#!/usr/bin/env bash
# The test command. Prepares this machine (system packages, PostgreSQL, Thoth's Python libraries,
# a tansu broker of its own), then runs every test of the workspace against them. Safe to run
# again. Arguments go to cargo nextest, e.g. `scripts/test.sh -E 'test(interop)'`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

broker=test-$$
trap '"$REPO_ROOT/scripts/broker.sh" stop "$broker"' EXIT
prepare_infrastructure "$broker"
# The broker-restart test keeps a broker's topics in an S3-compatible store.
load_exports "$REPO_ROOT/scripts/object-store.sh"
export INVESTIGATOR_S3_SERVER
say "PostgreSQL: $(redact_url "$DATABASE_URL")   Kafka (tansu): $KAFKA_BOOTSTRAP_SERVERS   cargo target: $CARGO_TARGET_DIR"

# The end-to-end tests run the real `investigator` binary, so it is built first.
cargo build --workspace --bins --quiet
cargo nextest run --workspace --no-fail-fast "$@"
# nextest does not run doc tests; run them too when the whole suite was asked for.
if [ $# -eq 0 ]; then cargo test --workspace --doc --quiet; fi
