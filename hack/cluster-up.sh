#!/usr/bin/env bash
# Starts the local control plane in the background and returns when it is
# ready. State, logs and the kubeconfig are in bin/local/. LANDLORD_NODE=real
# runs a real node (kubelet + containerd, internal/node; root and `make node`)
# instead of kwok's fake one.
set -euo pipefail
cd "$(dirname "$0")/.."
state=bin/local
if [[ -f $state/pid ]] && kill -0 "$(cat $state/pid)" 2>/dev/null; then
  echo "local control plane already running (KUBECONFIG=$state/kubeconfig)"
  exit 0
fi
rm -rf "$state"
mkdir -p "$state"
go build -o bin/localcluster ./hack/localcluster
# setsid: its own process group, so cluster-down can stop every process of it.
setsid bin/localcluster -state "$state" -bin "$PWD/bin" -node "${LANDLORD_NODE:-kwok}" >"$state/control-plane.log" 2>&1 < /dev/null &
echo $! >"$state/pid"
for _ in $(seq 1 1500); do
  [[ -f $state/ready ]] && break
  if ! kill -0 "$(cat $state/pid)" 2>/dev/null; then
    echo "the local control plane failed to start; last lines of $state/control-plane.log:" >&2
    tail -n 30 "$state/control-plane.log" >&2
    exit 1
  fi
  sleep 0.2
done
[[ -f $state/ready ]] || { echo "the local control plane did not become ready in 5 minutes" >&2; exit 1; }
echo "local control plane ready: export KUBECONFIG=$PWD/$state/kubeconfig"
