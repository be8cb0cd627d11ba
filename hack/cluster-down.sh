#!/usr/bin/env bash
# Stops the local control plane started by cluster-up.sh and removes its state.
set -euo pipefail
cd "$(dirname "$0")/.."
state=bin/local
if [[ -f $state/pid ]]; then
  pid=$(cat "$state/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  # Anything left in its process group (it ran under setsid) is killed.
  kill -KILL -- "-$pid" 2>/dev/null || true
fi
rm -rf "$state"
echo "local control plane stopped"
