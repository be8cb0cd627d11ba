// Command localcluster runs the local control plane of `make cluster-up` in
// the foreground: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and a node, all on loopback. The node is kwok's fake node,
// or with -node=real a real kubelet with containerd in namespaces of its own
// (internal/node: needs root and `make node`), where site pods really run.
// It writes the admin kubeconfig and Landlord's own (manager.kubeconfig: a
// user in the group landlord:managers, see internal/platform.ManagerGroup)
// into the state directory, then a "ready" file holding the API server's
// address and the node kind, and stops everything on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/landlord-dev/landlord/internal/controlplane"
	"github.com/landlord-dev/landlord/internal/node"
	"github.com/landlord-dev/landlord/internal/platform"
)

func main() {
	state := flag.String("state", "bin/local", "State directory: etcd data, certificates, kubeconfig.")
	bin := flag.String("bin", "", "Directory of the control-plane binaries (default bin/).")
	nodeKind := flag.String("node", "kwok", "The node: kwok (a fake node: pods never run) or real (kubelet + containerd; root).")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	abs, err := filepath.Abs(*state)
	if err != nil {
		fail(err)
	}
	opts := controlplane.Options{BinDir: *bin, VolumeProvisioner: true, StateDir: abs, Log: os.Stderr}
	var n *node.Node
	switch *nodeKind {
	case "kwok":
		opts.Kwok = true
	case "real":
		n, err = node.New(node.Options{BinDir: *bin, StateDir: filepath.Join(abs, "node"), Log: prefixed{"[node] "}})
		if err != nil {
			fail(fmt.Errorf("the real node: %w", err))
		}
		opts.Scheduler = true
		opts.APIServerArgs = n.APIServerArgs()
	default:
		fail(fmt.Errorf("-node=%s: want kwok or real", *nodeKind))
	}
	stopAll := func(cp *controlplane.ControlPlane) {
		if n != nil {
			if err := n.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "localcluster: stopping the node:", err)
			}
		}
		if cp != nil {
			_ = cp.Stop()
		}
	}
	cp, err := controlplane.Start(ctx, opts)
	if err != nil {
		stopAll(nil)
		fail(err)
	}
	if n != nil {
		if err := n.Start(ctx, cp.Kubeconfig); err != nil {
			stopAll(cp)
			fail(fmt.Errorf("the real node: %w", err))
		}
	}
	_, managerKC, err := cp.AddUser("landlord-manager", "system:masters", platform.ManagerGroup)
	if err == nil {
		err = os.WriteFile(filepath.Join(abs, "manager.kubeconfig"), managerKC, 0o600)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(abs, "ready"), []byte(cp.Config.Host+"\n"+*nodeKind+"\n"), 0o644)
	}
	if err != nil {
		stopAll(cp)
		fail(err)
	}
	fmt.Printf("control plane ready at %s with a %s node; kubeconfig %s\n", cp.Config.Host, *nodeKind, cp.KubeconfigPath)
	<-ctx.Done()
	fmt.Println("stopping the control plane")
	stopAll(cp)
}

// prefixed writes to stderr with a prefix per write (the node's processes
// write whole lines).
type prefixed struct{ prefix string }

func (p prefixed) Write(b []byte) (int, error) {
	_, err := os.Stderr.Write(append([]byte(p.prefix), b...))
	return len(b), err
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "localcluster:", err)
	os.Exit(1)
}
