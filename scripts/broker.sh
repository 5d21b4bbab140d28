#!/usr/bin/env bash
# Runs a tansu broker (in-memory storage) on a loopback port.
#   broker.sh start [NAME]  start the broker NAME (default: dev) unless it runs already, and
#                           print `export KAFKA_BOOTSTRAP_SERVERS=...`
#   broker.sh stop [NAME]   stop it
# Needs TANSU_BIN (see python-peer.sh). State: $INVESTIGATOR_HOME/broker-NAME.{pid,port,log}.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

action=${1:-start}
name=${2:-dev}
pidfile=$INVESTIGATOR_HOME/broker-$name.pid
portfile=$INVESTIGATOR_HOME/broker-$name.port
logfile=$INVESTIGATOR_HOME/broker-$name.log

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && [ -f "$portfile" ] && port_open "$(cat "$portfile")"; }

case $action in
  start)
    if ! running; then
      : "${TANSU_BIN:?set TANSU_BIN (eval \"\$(scripts/python-peer.sh)\")}"
      port=$(free_port)
      RUST_LOG=${TANSU_LOG:-warn} nohup "$TANSU_BIN" broker \
        --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
        >"$logfile" 2>&1 </dev/null &
      echo $! > "$pidfile"
      echo "$port" > "$portfile"
      wait_for_port "$port" 200 || die "tansu did not start, see $logfile"
      say "tansu broker '$name' listening on 127.0.0.1:$port (pid $(cat "$pidfile"))"
    fi
    echo "export KAFKA_BOOTSTRAP_SERVERS='127.0.0.1:$(cat "$portfile")'"
    ;;
  stop)
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      # The pidfile may outlive a reboot; only a process that is a tansu broker is stopped.
      if tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -q 'tansu broker'; then
        kill "$pid"
      fi
      rm -f "$pidfile" "$portfile"
    fi
    ;;
  *) die "usage: broker.sh start|stop [NAME]" ;;
esac
