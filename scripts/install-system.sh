#!/usr/bin/env bash
# Installs, through apt-get, the system packages the build and the tests need and this machine
# lacks. Safe to run again: installed packages are skipped, and nothing runs when none is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v cargo >/dev/null 2>&1 || die "cargo is not installed; install Rust (https://rustup.rs) first"

# gcc/make/perl build librdkafka (bundled); pkg-config + libssl-dev give it TLS for Thoth's SSL
# clusters; python3-venv hosts Thoth's own libraries and the tansu broker.
apt_install build-essential pkg-config libssl-dev zlib1g-dev perl python3 python3-venv ca-certificates
python3 -m venv --help >/dev/null 2>&1 || die "python3 has no venv module"
