// Package node runs Landlord's sites on a real node (internal/node: the
// kubelet with containerd and runc, pod networking on a bridge in the node's
// own namespaces) beside the real control plane — kube-apiserver, etcd,
// kube-controller-manager with its host-path volume provisioner,
// kube-scheduler — and Landlord's manager. Containers really start, from
// the images internal/node builds here (no registry), files really land in
// site volumes, and what a Developer writes is really served.
//
// Which part of a visitor's path each test covers: the pod (really running,
// serving its volume) and the Service (kubectl port-forward to the site's
// Service resolves it to the pod through its selector and target port, then
// reaches the pod through the API server, the kubelet and containerd). The
// route → Service part is judged in test/gateway, by Envoy Gateway's status
// on Landlord's routes: Envoy itself cannot run here, and no ClusterIP is
// served (no kube-proxy), so no test sends a packet to a Service address.
//
// NetworkPolicies are enforced on the node by kube-router's policy
// controller, and policy_test.go sends real TCP connections between pods
// on the node's bridge to prove the isolation Landlord writes.
//
// It needs root (namespaces, mounts, cgroups) and `make node`; without
// them it is skipped with the reason, unless LANDLORD_REQUIRE_NODE is set
// (make test sets it when run as root): then it fails.
package node

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/controlplane"
	"github.com/landlord-dev/landlord/internal/node"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	cfg platform.Config
	clk *clock.Fake
	ctx = context.Background()
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if err := node.Preflight(controlplane.BinDir()); err != nil {
		if os.Getenv("LANDLORD_REQUIRE_NODE") != "" {
			fmt.Fprintf(os.Stderr, "test/node: LANDLORD_REQUIRE_NODE is set and no real node can run: %v\n", err)
			return 1
		}
		fmt.Printf("test/node: skipped, no real node here: %v (kwok's fake node covers the other suites)\n", err)
		return 0
	}
	started := time.Now()
	var err error
	if env, err = testenv.Start(ctx, testenv.Options{Node: true, VolumeProvisioner: true}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	fmt.Printf("test/node: control plane and real node ready in %s\n", time.Since(started).Round(time.Second))

	cfg = platform.Default()
	for _, ns := range []string{cfg.OperatorNamespace, cfg.IngressNamespace} {
		if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	clk = clock.NewFake(time.Now().UTC().Truncate(time.Second))
	mgr, err := env.StartManagerWith(testenv.ManagerOptions{Config: cfg, Clock: clk})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = mgr.Stop() }()
	return m.Run()
}
