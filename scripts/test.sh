#!/usr/bin/env bash
# The test command. Prepares this machine (system packages, PostgreSQL, Thoth's Python libraries,
# a tansu broker of its own), then runs every test of the workspace against them. Safe to run
# again. Arguments go to cargo nextest, e.g. `scripts/test.sh -E 'test(interop)'`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/install-system.sh"
eval "$("$REPO_ROOT/scripts/postgres.sh")"
eval "$("$REPO_ROOT/scripts/python-peer.sh")"
broker=test-$$
eval "$("$REPO_ROOT/scripts/broker.sh" start "$broker")"
trap '"$REPO_ROOT/scripts/broker.sh" stop "$broker"' EXIT
export DATABASE_URL KAFKA_BOOTSTRAP_SERVERS INVESTIGATOR_TEST_PYTHON TANSU_BIN
say "PostgreSQL: ${DATABASE_URL%%\?*}   Kafka (tansu): $KAFKA_BOOTSTRAP_SERVERS   cargo target: $CARGO_TARGET_DIR"

# The end-to-end tests run the real `investigator` binary, so it is built first.
cargo build --workspace --bins --quiet
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
  [ $# -eq 0 ] && cargo test --workspace --doc --quiet
else
  say "cargo-nextest not found; running the tests with cargo test"
  cargo test --workspace --no-fail-fast "$@"
fi
