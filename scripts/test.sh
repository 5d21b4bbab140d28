#!/usr/bin/env bash
# The test command. Prepares this machine (system packages, PostgreSQL, pgbouncer, Thoth's Python
# libraries, a tansu broker of its own), then runs every test of the workspace against them, and
# the end-to-end tests a second time through pgbouncer in transaction pooling (as Thoth deploys
# PostgreSQL). Safe to run again. Arguments go to cargo nextest, e.g.
# `scripts/test.sh -E 'test(interop)'`; with arguments, one pass runs: straight to PostgreSQL, or
# through pgbouncer when INVESTIGATOR_TEST_POOLER=transaction.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

broker=test-$$
pooler=test-$$
trap '"$REPO_ROOT/scripts/broker.sh" stop "$broker"; "$REPO_ROOT/scripts/pgbouncer.sh" remove "$pooler" 2>/dev/null || true' EXIT
prepare_infrastructure "$broker"
# The broker-restart test keeps a broker's topics in an S3-compatible store; the contract test
# runs schemathesis over the API; the deploy-manifest tests render ops/deploy with kustomize.
load_exports "$REPO_ROOT/scripts/tool-venv.sh" object-store
load_exports "$REPO_ROOT/scripts/tool-venv.sh" schemathesis
load_exports "$REPO_ROOT/scripts/kustomize.sh"
export INVESTIGATOR_S3_SERVER INVESTIGATOR_TEST_SCHEMATHESIS INVESTIGATOR_TEST_KUSTOMIZE
# pgbouncer in transaction pooling in front of the same server.
load_exports "$REPO_ROOT/scripts/pgbouncer.sh" start "$pooler"
pooled_url=$INVESTIGATOR_TEST_POOLER_URL
unset INVESTIGATOR_TEST_POOLER_URL
say "PostgreSQL: $(redact_url "$DATABASE_URL")   pgbouncer: $pooled_url   Kafka (tansu): $KAFKA_BOOTSTRAP_SERVERS   cargo target: $CARGO_TARGET_DIR"

# The end-to-end tests run the real `investigator` binary, so it is built first.
cargo build --workspace --bins --quiet
if [ $# -gt 0 ]; then
  if [ "${INVESTIGATOR_TEST_POOLER:-}" = transaction ]; then export INVESTIGATOR_TEST_POOLER_URL=$pooled_url; fi
  cargo nextest run --workspace --no-fail-fast "$@"
  exit
fi
status=0
say "every test, straight to PostgreSQL"
cargo nextest run --workspace --no-fail-fast || status=1
say "the end-to-end tests again, through pgbouncer in transaction pooling"
INVESTIGATOR_TEST_POOLER_URL=$pooled_url cargo nextest run --package investigator-tests --no-fail-fast || status=1
# nextest does not run doc tests.
cargo test --workspace --doc --quiet || status=1
exit $status
