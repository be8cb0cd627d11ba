#!/usr/bin/env bash
# make install-gateway-api: applies the Gateway API standard CRDs Landlord
# uses (GatewayClass, Gateway, HTTPRoute, ReferenceGrant) into $KUBECONFIG's
# cluster, at the sigs.k8s.io/gateway-api version go.mod pins, from the Go
# module cache (downloaded through the module proxy if need be).
set -euo pipefail
cd "$(dirname "$0")/.."
KUBECTL=${LANDLORD_KUBECTL:-bin/kubectl}
gwdir=$(go mod download -json sigs.k8s.io/gateway-api | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -n $gwdir ]] || { echo "install-gateway-api: sigs.k8s.io/gateway-api is not in the module cache and could not be downloaded" >&2; exit 1; }
for f in gatewayclasses gateways httproutes referencegrants listenersets; do
  "$KUBECTL" apply --server-side -f "$gwdir/config/crd/standard/gateway.networking.k8s.io_$f.yaml"
done
"$KUBECTL" wait --for=condition=Established --timeout=60s \
  crd/gatewayclasses.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io \
  crd/httproutes.gateway.networking.k8s.io crd/referencegrants.gateway.networking.k8s.io crd/listenersets.gateway.networking.k8s.io
