//go:build tools

// Package tools pins kube-router, whose network-policy controller enforces
// NetworkPolicies on the real node (internal/node) with iptables and ipset;
// only its firewall runs (no routing, no service proxy). A module of its
// own, so that neither Landlord's nor hack/tools' dependencies move.
package tools

import (
	_ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
)
