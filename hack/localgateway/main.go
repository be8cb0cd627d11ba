// Command localgateway runs Envoy Gateway's controller for the local
// platform (hack/envoy-gateway.sh) in the foreground, through
// internal/gatewayimpl: it installs the CRDs, runs certgen, starts the server
// in its private namespaces, writes a "ready" file into the state directory
// and stops the server on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/landlord-dev/landlord/internal/gatewayimpl"
)

func main() {
	// Not -kubeconfig: controller-runtime (through envtest) registers that flag.
	kubeconfig := flag.String("admin-kubeconfig", "bin/local/kubeconfig", "Admin kubeconfig of the control plane.")
	state := flag.String("state", "bin/local/envoy-gateway", "State directory: configuration, certificates, private root.")
	binary := flag.String("binary", "", "The envoy-gateway binary (default bin/envoy-gateway-"+gatewayimpl.Version+").")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	abs, err := filepath.Abs(*state)
	if err != nil {
		fail(err)
	}
	eg, err := gatewayimpl.Start(ctx, gatewayimpl.Options{Binary: *binary, Kubeconfig: *kubeconfig, StateDir: abs, Log: os.Stderr})
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(abs, "ready"), []byte("ready\n"), 0o644); err != nil {
		_ = eg.Stop()
		fail(err)
	}
	fmt.Println("envoy gateway ready")
	<-ctx.Done()
	fmt.Println("stopping envoy gateway")
	if err := eg.Stop(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "localgateway:", err)
	os.Exit(1)
}
