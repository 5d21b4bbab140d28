#!/usr/bin/env bash
# Prepares moto's S3-compatible server (pinned in tests/python/requirements-object-store.txt) in a
# venv of its own, for the test that restarts a broker whose topics live in an object store.
# Prints the export the tests read. Safe to run again: the venv is rebuilt only when the pin changes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

venv=$INVESTIGATOR_HOME/object-store-venv
requirements=$REPO_ROOT/tests/python/requirements-object-store.txt
stamp=$venv/.requirements.sha256
wanted=$(sha256sum < "$requirements" | cut -d' ' -f1)

if [ ! -x "$venv/bin/moto_server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  say "installing moto's S3 server into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  echo "$wanted" > "$stamp"
fi
echo "export INVESTIGATOR_S3_SERVER='$venv/bin/moto_server'"
