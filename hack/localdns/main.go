// Command localdns is the DNS server of `make run-local`: on loopback, it
// publishes for every CustomDomain in the cluster the TXT record its status
// asks for, as a customer who followed the instructions would. Landlord is
// pointed at it with --dns-server, so sample domains verify for real, over DNS.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/dnstest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:15353", "Address to serve DNS on (UDP and TCP).")
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "Kubeconfig of the cluster.")
	flag.Parse()
	if err := run(*listen, *kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, "localdns:", err)
		os.Exit(1)
	}
}

func run(listen, kubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := hostingv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	srv, err := dnstest.StartAt(listen)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("serving the TXT records of CustomDomains on %s\n", srv.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv.Publish(ctx, c, time.Second, nil, func(format string, args ...any) { fmt.Printf(format+"\n", args...) })
	return nil
}
