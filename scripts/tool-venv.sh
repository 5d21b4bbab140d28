#!/usr/bin/env bash
# Prepares one pinned Python tool of the tests in a venv of its own (its dependencies have
# nothing to do with Thoth's libraries) and prints the export the tests read:
#   object-store   moto's S3-compatible server, for the broker that keeps its topics in an object
#                  store (tests/python/requirements-object-store.txt) -> INVESTIGATOR_S3_SERVER
#   schemathesis   the API contract checker (tests/python/requirements-schemathesis.txt)
#                  -> INVESTIGATOR_TEST_SCHEMATHESIS
# Safe to run again: a venv is rebuilt only when its pin changes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

case "${1:-}" in
  object-store) program=moto_server; variable=INVESTIGATOR_S3_SERVER ;;
  schemathesis) program=schemathesis; variable=INVESTIGATOR_TEST_SCHEMATHESIS ;;
  *) die "usage: $0 object-store|schemathesis" ;;
esac
venv=$INVESTIGATOR_HOME/$1-venv
requirements=$REPO_ROOT/tests/python/requirements-$1.txt
stamp=$venv/.requirements.sha256
wanted=$(sha256sum < "$requirements" | cut -d' ' -f1)

if [ ! -x "$venv/bin/$program" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  say "installing $1 into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  echo "$wanted" > "$stamp"
fi
echo "export $variable='$venv/bin/$program'"
