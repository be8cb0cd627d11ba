#!/usr/bin/env bash
# make run-local: the whole platform on this machine, in the foreground.
#   1. the local control plane (make cluster-up: etcd, kube-apiserver,
#      kube-controller-manager, kube-scheduler) and a node: as root, a real
#      one (internal/node: kubelet + containerd in namespaces of its own, so
#      site pods really run and serve); otherwise, or with LANDLORD_NODE=kwok,
#      kwok's fake node
#   2. Landlord's CRDs, tenant roles and admission policies, the Gateway API CRDs
#   3. Envoy Gateway's controller, out of cluster (hack/envoy-gateway.sh), with
#      the platform Gateway (config/gateway, with its GatewayClass:
#      config/local) and a self-signed wildcard certificate for the base domain
#   4. a DNS server on loopback that publishes the TXT records of the sample
#      custom domains (hack/localdns), so they verify as a customer's would
#   5. a private MariaDB server on loopback (hack/localmariadb: Debian's
#      mariadbd, data in bin/local/mariadb) for the sites' Databases
#   6. Landlord itself, logging here
#   7. config/samples (on the real node config/local/real-node: the static
#      template with the image built here), applied until everything is accepted
# Ctrl-C stops everything it started and removes bin/local.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/bin
# Tool paths come from the Makefile (make run-local builds them).
KUBECTL=${LANDLORD_KUBECTL:-$BIN/kubectl}
KUSTOMIZE=${LANDLORD_KUSTOMIZE:?run this through make run-local, which builds kustomize and sets LANDLORD_KUSTOMIZE}
export KUBECONFIG=$ROOT/bin/local/kubeconfig
DNS_PORT=${LANDLORD_DNS_PORT:-15353}
METRICS_ADDR=${LANDLORD_METRICS_ADDR:-127.0.0.1:18080}
PROBE_ADDR=${LANDLORD_PROBE_ADDR:-127.0.0.1:18081}
PAGE_ADDR=${LANDLORD_PAGE_ADDR:-127.0.0.1:18082}
MYSQL_PORT=${LANDLORD_MYSQL_PORT:-13306}

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "run-local: stopping Landlord, the DNS server, MariaDB, Envoy Gateway and the control plane"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  hack/envoy-gateway.sh stop >/dev/null || true
  hack/cluster-down.sh >/dev/null
  echo "run-local: stopped"
}
trap cleanup INT TERM EXIT

# The real node needs root (namespaces, mounts, cgroups); kwok's needs nothing.
if [[ -z ${LANDLORD_NODE:-} ]]; then
  if [[ $(id -u) == 0 ]]; then LANDLORD_NODE=real; else LANDLORD_NODE=kwok; fi
fi
export LANDLORD_NODE
SAMPLES=config/samples
if [[ $LANDLORD_NODE == real ]]; then
  SAMPLES=config/local/real-node
  echo "run-local: a real node (kubelet + containerd; log: bin/local/control-plane.log)"
else
  echo "run-local: kwok's fake node (not root, or LANDLORD_NODE=kwok): site pods never really run"
fi

hack/envoy-gateway.sh stop >/dev/null 2>&1 || true
hack/cluster-down.sh >/dev/null 2>&1 || true
hack/cluster-up.sh

echo "run-local: installing CRDs, tenant roles, admission policies and the Gateway API CRDs"
LANDLORD_KUBECTL=$KUBECTL hack/install-gateway-api.sh >/dev/null
# As make install: the CRDs, tenant roles, admission policies, namespace
# landlord-system and the suspended-page Service.
"$KUSTOMIZE" build config/install | $KUBECTL apply --server-side -f - >/dev/null
$KUBECTL wait --for=condition=Established crd --all --timeout=60s >/dev/null

echo "run-local: starting Envoy Gateway (log: bin/local/envoy-gateway.log)"
hack/envoy-gateway.sh start
# The platform Gateway (config/gateway) and Envoy Gateway's GatewayClass, and
# the HTTPS listener's wildcard certificate, self-signed here.
"$KUSTOMIZE" build config/local | $KUBECTL apply --server-side -f - >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj "/CN=*.sites.landlord.localhost" -addext "subjectAltName=DNS:*.sites.landlord.localhost" \
  -keyout bin/local/wildcard.key -out bin/local/wildcard.crt 2>/dev/null
$KUBECTL -n landlord-gateway create secret tls landlord-wildcard-tls --cert=bin/local/wildcard.crt --key=bin/local/wildcard.key \
  --dry-run=client -o yaml | $KUBECTL apply --server-side -f - >/dev/null

go build -o "$BIN/manager" ./cmd/manager
go build -o "$BIN/localdns" ./hack/localdns
go build -o "$BIN/localmariadb" ./hack/localmariadb

echo "run-local: DNS server for the sample domains on 127.0.0.1:$DNS_PORT"
"$BIN/localdns" -listen "127.0.0.1:$DNS_PORT" -kubeconfig "$KUBECONFIG" > >(sed -u 's/^/[dns] /') 2>&1 &
pids+=($!)

echo "run-local: MariaDB for the sites' Databases on 127.0.0.1:$MYSQL_PORT (log: bin/local/mariadb/mariadb.log)"
"$BIN/localmariadb" -port "$MYSQL_PORT" -dir "$ROOT/bin/local/mariadb" -kubeconfig "$KUBECONFIG" > >(sed -u 's/^/[mariadb] /') 2>&1 &
pids+=($!)
for i in $(seq 1 60); do
  if $KUBECTL -n landlord-system get secret landlord-database-admin >/dev/null 2>&1; then break; fi
  sleep 1
done

echo "run-local: starting Landlord"
# As Landlord's own identity (group landlord:managers), not the admin.
"$BIN/manager" --kubeconfig "$ROOT/bin/local/manager.kubeconfig" \
  --dns-server "127.0.0.1:$DNS_PORT" \
  --metrics-bind-address "$METRICS_ADDR" --health-probe-bind-address "$PROBE_ADDR" \
  --suspended-page-bind-address "$PAGE_ADDR" \
  --base-domain sites.landlord.localhost \
  --database-host 127.0.0.1 --database-port "$MYSQL_PORT" \
  --domain-reverify-interval 1m --log-format=console --zap-stacktrace-level=panic ${LANDLORD_ARGS:-} > >(sed -u 's/^/[landlord] /') 2>&1 &
pids+=($!)

echo "run-local: applying $SAMPLES"
for i in $(seq 1 120); do
  if "$KUSTOMIZE" build "$SAMPLES" | $KUBECTL apply --server-side -f - >/dev/null 2>&1; then break; fi
  sleep 1   # the account namespaces appear once Landlord has reconciled the Accounts
done

cat <<MSG

Landlord is running. In another terminal:

  export KUBECONFIG=$KUBECONFIG
  bin/kubectl get landlord -A                    # every Landlord object
  bin/kubectl get subscriptions -A               # phases, paid-through dates, URLs
  bin/kubectl get customdomain -n acct-acme--www www-acme -o yaml   # DNS instructions
  bin/kubectl get gateway,httproute -A -o wide  # as Envoy Gateway reports them
  bin/kubectl get database -n acct-acme--www wordpress   # a site's MySQL database on the local MariaDB
  curl -s http://$METRICS_ADDR/metrics | grep ^landlord_
MSG
if [[ $LANDLORD_NODE == real ]]; then
cat <<MSG

The sites run on a real node. Put a page into acct-acme/docs's volume and fetch it:

  bin/kubectl -n acct-acme--docs exec deploy/docs -- sh -c 'echo hello from docs > /usr/share/nginx/html/index.html'
  bin/kubectl -n acct-acme--docs port-forward service/docs 8088:80 &
  curl -s http://127.0.0.1:8088/
  # the suspended page, as the route of a suspended site (acct-globex/shop) sends it:
  curl -s -H 'Host: shop--globex.sites.landlord.localhost' http://$PAGE_ADDR/
MSG
fi
cat <<MSG

Press Ctrl-C to stop everything.
MSG
wait "${pids[@]}"
