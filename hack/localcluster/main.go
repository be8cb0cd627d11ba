// Command localcluster runs the local control plane of `make cluster-up` in
// the foreground: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok with one fake node, all on loopback. It writes the
// admin kubeconfig and Landlord's own (manager.kubeconfig: a user in the
// group landlord:managers, see internal/platform.ManagerGroup) into the state
// directory, then a "ready" file, and stops everything on SIGTERM or SIGINT.
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
	"github.com/landlord-dev/landlord/internal/platform"
)

func main() {
	state := flag.String("state", "bin/local", "State directory: etcd data, certificates, kubeconfig.")
	bin := flag.String("bin", "", "Directory of the control-plane binaries (default bin/).")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	abs, err := filepath.Abs(*state)
	if err != nil {
		fail(err)
	}
	cp, err := controlplane.Start(ctx, controlplane.Options{BinDir: *bin, Kwok: true, VolumeProvisioner: true, StateDir: abs, Log: os.Stderr})
	if err != nil {
		fail(err)
	}
	_, managerKC, err := cp.AddUser("landlord-manager", "system:masters", platform.ManagerGroup)
	if err == nil {
		err = os.WriteFile(filepath.Join(abs, "manager.kubeconfig"), managerKC, 0o600)
	}
	if err != nil {
		_ = cp.Stop()
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(abs, "ready"), []byte(cp.Config.Host+"\n"), 0o644); err != nil {
		_ = cp.Stop()
		fail(err)
	}
	fmt.Printf("control plane ready at %s; kubeconfig %s\n", cp.Config.Host, cp.KubeconfigPath)
	<-ctx.Done()
	fmt.Println("stopping the control plane")
	if err := cp.Stop(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "localcluster:", err)
	os.Exit(1)
}
