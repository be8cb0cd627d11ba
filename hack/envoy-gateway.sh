#!/usr/bin/env bash
# hack/envoy-gateway.sh start|stop: Envoy Gateway's controller (a real
# Gateway API implementation) against the local control plane of
# cluster-up.sh, out of cluster (internal/gatewayimpl, hack/localgateway).
#   start  installs its CRDs and the Gateway API standard CRDs, creates
#          namespace envoy-gateway-system and its certificates (certgen),
#          starts the server in the background and returns when it is ready.
#          The server runs in a private mount and network namespace (needs
#          root): every port it opens is on the loopback of that namespace,
#          unreachable from the host and clashing with nothing here.
#   stop   stops it.
# Log: bin/local/envoy-gateway.log. The binary comes from the Makefile
# (make envoy-gateway), through LANDLORD_ENVOY_GATEWAY.
set -euo pipefail
cd "$(dirname "$0")/.."
state=bin/local/envoy-gateway
pidfile=bin/local/envoy-gateway.pid
log=bin/local/envoy-gateway.log

stop() {
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  # Anything left in its process group (it ran under setsid) is killed.
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "envoy gateway stopped"
}

case ${1:-} in
start)
  binary=${LANDLORD_ENVOY_GATEWAY:?run this through make (run-local), which builds envoy-gateway and sets LANDLORD_ENVOY_GATEWAY}
  [[ -f bin/local/kubeconfig ]] || { echo "envoy-gateway: no local control plane (hack/cluster-up.sh)" >&2; exit 1; }
  stop >/dev/null
  rm -rf "$state"
  go build -o bin/localgateway ./hack/localgateway
  setsid bin/localgateway -admin-kubeconfig "$PWD/bin/local/kubeconfig" -state "$PWD/$state" -binary "$binary" >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 900); do
    [[ -f $state/ready ]] && break
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "envoy gateway failed to start; last lines of $log:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
  [[ -f $state/ready ]] || { echo "envoy gateway did not become ready in 3 minutes (see $log)" >&2; exit 1; }
  echo "envoy gateway ready (log: $log)"
  ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
