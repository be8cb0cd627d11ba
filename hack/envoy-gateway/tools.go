//go:build tools

// Package tools pins Envoy Gateway's controller, built into bin/ by the
// Makefile (make envoy-gateway). A module of its own: Envoy Gateway requires
// its own Kubernetes and Gateway API versions, which must not move Landlord's
// or hack/tools' pins.
package tools

import (
	_ "github.com/envoyproxy/gateway/cmd/envoy-gateway"
)
