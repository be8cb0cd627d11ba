#!/usr/bin/env bash
# make test-local: proves the README's first command, `make run-local`, the way
# a new contributor meets it: in a fresh clone of HEAD with an empty bin/, so
# that a tool a target forgets to build fails here (only the Go module and
# build caches are shared). Non-interactively: start it as a person would,
# wait until the samples reach their intended phases, press Ctrl-C (SIGINT),
# and check that no process, port or state is left behind.
#
# Only committed work is tested (HEAD). LANDLORD_TEST_LOCAL_INPLACE=1 runs in
# this tree instead (its bin/ and uncommitted changes), for quick iteration.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
timeout=${LANDLORD_TEST_LOCAL_TIMEOUT:-3600}   # seconds for run-local to come up
ports="15353 18080 18081 18082 13306"
started=$(date +%s)
elapsed() { echo "$(( $(date +%s) - started ))s"; }

clone=""
if [[ ${LANDLORD_TEST_LOCAL_INPLACE:-} == 1 ]]; then
  dir=$src
else
  rev=$(git rev-parse HEAD)
  clone=$(mktemp -d "${TMPDIR:-/tmp}/landlord-fresh-clone.XXXXXX")
  git clone -q --no-checkout "$src" "$clone/landlord"
  git -C "$clone/landlord" checkout -q --detach "$rev"
  dir=$clone/landlord
  [[ ! -e $dir/bin ]] || { echo "test-run-local: the fresh clone has a bin/" >&2; exit 1; }
  echo "test-run-local: fresh clone of $rev in $dir"
fi
cd "$dir"

# Nothing of the calling make may leak in: its tool paths, its bin/ on PATH.
unset LANDLORD_KUSTOMIZE LANDLORD_KUBECTL LANDLORD_BIN_DIR KUBEBUILDER_ASSETS MAKEFLAGS MFLAGS MAKELEVEL
PATH=$(tr ':' '\n' <<<"$PATH" | grep -vxF "$src/bin" | paste -sd: -)
export PATH
export KUBECONFIG=$dir/bin/local/kubeconfig
KUBECTL=$dir/bin/kubectl
log=$(mktemp)

setsid make run-local >"$log" 2>&1 < /dev/null &
pgid=$!
fail() {
  echo "test-run-local: $* (after $(elapsed))" >&2
  echo "--- last lines of the run-local output:" >&2
  tail -n 60 "$log" >&2
  kill -INT -- "-$pgid" 2>/dev/null || true
  sleep 5
  kill -KILL -- "-$pgid" 2>/dev/null || true
  hack/cluster-down.sh >/dev/null 2>&1 || true
  [[ -z $clone ]] || echo "test-run-local: the clone is left in $clone for a look" >&2
  exit 1
}

for _ in $(seq 1 "$timeout"); do
  grep -q "Press Ctrl-C" "$log" && break
  kill -0 "$pgid" 2>/dev/null || fail "run-local exited early"
  sleep 1
done
grep -q "Press Ctrl-C" "$log" || fail "run-local did not come up in $timeout seconds"
echo "test-run-local: run-local is up after $(elapsed) (tools, control plane, manager built)"

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
wait_phase customdomain acct-acme--www www-acme Active   # CustomDomains live in the site namespace
wait_phase database acct-acme--www wordpress Ready       # the WordPress template's database, on the local MariaDB
wait_phase database acct-acme--docs notes Ready
node=$(sed -n 2p bin/local/ready)
if [[ $node == kwok ]]; then
  $KUBECTL wait subscription/www -n acct-acme --for=condition=Ready --timeout=120s >/dev/null || fail "subscription www is not Ready"
  url=$($KUBECTL get subscription/www -n acct-acme -o jsonpath='{.status.site.url}')
  [[ -n $url ]] || fail "subscription www has no URL"
  echo "ok: acct-acme/www is Ready at $url"
else
  # The README tour on the real node: a page a Developer puts into the
  # static site's volume is served through the site's Service; suspended,
  # the site has no pod and the suspended page answers; restored, the page
  # is served again. (acct-acme/www runs the official WordPress image, which
  # no registry can give here: it is Active but never Ready.)
  page="hello from docs $RANDOM$RANDOM"
  $KUBECTL wait subscription/docs -n acct-acme --for=condition=Ready --timeout=180s >/dev/null || fail "subscription docs is not Ready on the real node"
  $KUBECTL -n acct-acme--docs exec deploy/docs -- sh -c "echo '$page' > /usr/share/nginx/html/index.html" || fail "could not write into docs's volume"
  serve() { # expected content
    local pf port got=""
    $KUBECTL -n acct-acme--docs port-forward --address 127.0.0.1 service/docs :80 >"$log.pf" 2>&1 &
    pf=$!
    for _ in $(seq 1 50); do port=$(sed -n 's/^Forwarding from 127.0.0.1:\([0-9]*\) .*/\1/p' "$log.pf"); [[ -n $port ]] && break; sleep 0.2; done
    [[ -n $port ]] && for _ in $(seq 1 50); do got=$(curl -s "http://127.0.0.1:$port/" || true); [[ $got == "$1" ]] && break; sleep 0.2; done
    kill "$pf" 2>/dev/null || true; wait "$pf" 2>/dev/null || true
    [[ $got == "$1" ]] || fail "port-forward to acct-acme--docs/docs served '$got', want '$1' ($(cat "$log.pf"))"
  }
  serve "$page"
  echo "ok: acct-acme/docs serves the page written into its volume, through kubectl port-forward"
  $KUBECTL patch subscription docs -n acct-acme --type=merge -p '{"spec":{"suspension":{"reason":"Manual"}}}' >/dev/null
  wait_phase subscription acct-acme docs Suspended
  $KUBECTL wait pod -n acct-acme--docs -l hosting.landlord.dev/subscription=docs --for=delete --timeout=120s >/dev/null 2>&1 || true
  [[ -z $($KUBECTL get pods -n acct-acme--docs -o name) ]] || fail "the suspended site still has pods"
  curl -s -H 'Host: docs--acme.sites.landlord.localhost' "http://127.0.0.1:18082/" | grep -q "This site is suspended" || fail "the suspended page does not answer"
  echo "ok: suspended, acct-acme/docs has no pod and the suspended page answers"
  $KUBECTL patch subscription docs -n acct-acme --type=json -p '[{"op":"remove","path":"/spec/suspension"}]' >/dev/null
  wait_phase subscription acct-acme docs Trialing
  $KUBECTL wait subscription/docs -n acct-acme --for=condition=Ready --timeout=180s >/dev/null || fail "restored, subscription docs is not Ready"
  serve "$page"
  echo "ok: restored, acct-acme/docs serves the same page again"
fi
# What make install puts in: the suspended site's route has a Service to point to.
$KUBECTL get service landlord-suspended-page -n landlord-system >/dev/null || fail "no Service landlord-system/landlord-suspended-page"
echo "ok: landlord-system/landlord-suspended-page exists"
# The manager logs readable lines (--log-format=console), not JSON.
grep -qE '^\[landlord\] [0-9:.]{12} INFO ' "$log" || fail "the manager's log is not in the console format"
$KUBECTL get landlord -A

echo "test-run-local: pressing Ctrl-C"
kill -INT -- "-$pgid"
for _ in $(seq 1 60); do kill -0 "$pgid" 2>/dev/null || break; sleep 1; done
kill -0 "$pgid" 2>/dev/null && fail "run-local still running 60s after Ctrl-C"
grep -q "run-local: stopped" "$log" || fail "run-local did not report a clean stop"

left=$(pgrep -af "$dir/bin/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok|kubelet|kube-router|manager|localdns|localmariadb|localcluster|localgateway|envoy-gateway-v[0-9.]*)|$dir/bin/local/node|mariadbd .*--datadir=$dir/bin/local/" || true)
[[ -z $left ]] || fail "processes left behind: $left"
for p in $ports; do
  if ss -ltnH "sport = :$p" | grep -q .; then fail "port $p still open"; fi
done
[[ ! -e bin/local ]] || fail "bin/local was not removed"
if [[ -n $clone ]]; then
  # make run-local regenerates the manifests: a clone of HEAD must not change.
  dirty=$(git status --porcelain)
  [[ -z $dirty ]] || fail "make run-local changed the fresh clone (generated files stale at HEAD?): $dirty"
  cd "$src"
  rm -rf "$clone"
fi
echo "test-run-local: PASS in $(elapsed) — samples converged, Ctrl-C left no process, port or state behind"
rm -f "$log"
