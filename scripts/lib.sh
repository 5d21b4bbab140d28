# Shared by the scripts in this directory; source it, do not run it.
# Everything the scripts keep between runs lives under INVESTIGATOR_HOME, outside the clone.

INVESTIGATOR_HOME=${INVESTIGATOR_HOME:-$HOME/.cache/investigator}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Ours alone (mode 0700): it holds the private cluster's password and the API token. One that
# exists and is not a directory of ours (a link, someone else's) is never used.
if [ -e "$INVESTIGATOR_HOME" ] || [ -L "$INVESTIGATOR_HOME" ]; then
  if [ ! -d "$INVESTIGATOR_HOME" ] || [ -L "$INVESTIGATOR_HOME" ] || [ "$(stat -c %u "$INVESTIGATOR_HOME")" != "$(id -u)" ]; then
    printf '[investigator] error: %s is not a directory of ours: refusing to use it\n' "$INVESTIGATOR_HOME" >&2
    exit 1
  fi
else
  mkdir -p "$(dirname "$INVESTIGATOR_HOME")"
  mkdir -m 700 "$INVESTIGATOR_HOME"
fi
chmod 700 "$INVESTIGATOR_HOME"

say() { printf '[investigator] %s\n' "$*" >&2; }
die() { printf '[investigator] error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# Installs the Debian packages among "$@" that are not installed yet.
apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]} with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A PostgreSQL URL (or key=value string) naming database $2 instead of its own.
url_with_database() {
  case "$1" in
    *://*) printf '%s' "$1" | sed -E "s#^([a-z]+://[^/?]*)(/[^?]*)?(\?.*)?\$#\1/$2\3#" ;;
    *) printf '%s dbname=%s' "$1" "$2" ;;
  esac
}

# A URL with its password (if any) masked, for printing.
redact_url() { printf '%s' "$1" | sed -E 's#(://[^:@/]*):[^@/]*@#\1:***@#'; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  local port=$1 tries=${2:-100}
  for _ in $(seq "$tries"); do port_open "$port" && return 0; sleep 0.05; done
  return 1
}

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$INVESTIGATOR_HOME/target}

# Makes this machine ready and exports where everything is: DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS
# (a tansu broker named $1), INVESTIGATOR_TEST_PYTHON and TANSU_BIN.
prepare_infrastructure() {
  local broker=$1
  "$REPO_ROOT/scripts/install-system.sh"
  load_exports "$REPO_ROOT/scripts/postgres.sh"
  load_exports "$REPO_ROOT/scripts/python-peer.sh"
  load_exports "$REPO_ROOT/scripts/broker.sh" start "$broker"
  export DATABASE_URL KAFKA_BOOTSTRAP_SERVERS INVESTIGATOR_TEST_PYTHON TANSU_BIN
}

# Runs a script that prints `export ...` lines and applies them. A failing script stops us here
# (`eval "$(script)"` would carry on with whatever the variables held before).
load_exports() {
  local exports
  exports=$("$@") || die "$(basename "$1") failed"
  eval "$exports"
}
