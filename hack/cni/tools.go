//go:build tools

// Package tools pins the CNI plugins the real node (internal/node) wires pod
// networking with: bridge, host-local, loopback and portmap, built into bin/
// by the Makefile (make node). A module of its own, so that neither
// Landlord's nor hack/tools' dependencies move.
package tools

import (
	_ "github.com/containernetworking/plugins/plugins/ipam/host-local"
	_ "github.com/containernetworking/plugins/plugins/main/bridge"
	_ "github.com/containernetworking/plugins/plugins/main/loopback"
	_ "github.com/containernetworking/plugins/plugins/meta/portmap"
)
