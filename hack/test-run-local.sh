#!/usr/bin/env bash
# Proves `make run-local` end to end, non-interactively: start it as a person
# would, wait until the samples reach their intended phases, press Ctrl-C
# (SIGINT), and check that no process and no port is left behind.
set -euo pipefail
cd "$(dirname "$0")/.."
export KUBECONFIG=$PWD/bin/local/kubeconfig
KUBECTL=bin/kubectl
log=$(mktemp)
ports="15353 18080 18081 18082"

setsid make run-local >"$log" 2>&1 < /dev/null &
pgid=$!
fail() {
  echo "test-run-local: $*" >&2
  echo "--- last lines of the run-local output:" >&2
  tail -n 60 "$log" >&2
  kill -INT -- "-$pgid" 2>/dev/null || true
  sleep 5
  kill -KILL -- "-$pgid" 2>/dev/null || true
  hack/cluster-down.sh >/dev/null 2>&1 || true
  exit 1
}

for _ in $(seq 1 900); do
  grep -q "Press Ctrl-C" "$log" && break
  kill -0 "$pgid" 2>/dev/null || fail "run-local exited early"
  sleep 1
done
grep -q "Press Ctrl-C" "$log" || fail "run-local did not come up in 15 minutes"

wait_phase() { # kind namespace name phase
  local nsflag=()
  [[ -n $2 ]] && nsflag=(-n "$2")
  $KUBECTL wait "$1/$3" "${nsflag[@]}" --for=jsonpath='{.status.phase}'="$4" --timeout=120s >/dev/null \
    || fail "$1 $2/$3 did not reach phase $4 (it is $($KUBECTL get "$1/$3" "${nsflag[@]}" -o jsonpath='{.status.phase}' 2>&1))"
  echo "ok: $1 ${2:+$2/}$3 is $4"
}
wait_phase account "" acme Active
wait_phase account "" globex Active
wait_phase subscription acct-acme www Active
wait_phase subscription acct-acme docs Trialing
wait_phase subscription acct-globex shop Suspended
wait_phase membership acct-acme bob-admin Active
wait_phase customdomain acct-acme www-acme Active
$KUBECTL wait subscription/www -n acct-acme --for=condition=Ready --timeout=120s >/dev/null || fail "subscription www is not Ready"
url=$($KUBECTL get subscription/www -n acct-acme -o jsonpath='{.status.site.url}')
[[ -n $url ]] || fail "subscription www has no URL"
echo "ok: acct-acme/www is Ready at $url"
$KUBECTL get landlord -A

echo "test-run-local: pressing Ctrl-C"
kill -INT -- "-$pgid"
for _ in $(seq 1 60); do kill -0 "$pgid" 2>/dev/null || break; sleep 1; done
kill -0 "$pgid" 2>/dev/null && fail "run-local still running 60s after Ctrl-C"
grep -q "run-local: stopped" "$log" || fail "run-local did not report a clean stop"

left=$(pgrep -af "$PWD/bin/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok|manager|localdns|localcluster)" || true)
[[ -z $left ]] || fail "processes left behind: $left"
for p in $ports; do
  if ss -ltnH "sport = :$p" | grep -q .; then fail "port $p still open"; fi
done
[[ ! -e bin/local ]] || fail "bin/local was not removed"
echo "test-run-local: PASS — samples converged, Ctrl-C left no process, port or state behind"
rm -f "$log"
