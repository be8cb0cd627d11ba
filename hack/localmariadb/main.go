// Command localmariadb is the database server of `make run-local`: a private
// MariaDB (internal/mysqltest: Debian's mariadbd, a data directory of its
// own, loopback only) with Landlord's admin account, whose credential it
// puts in the admin Secret of the operator namespace, where the manager
// (--database-host, --database-port) reads it. It stops the server on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/landlord-dev/landlord/internal/mysqltest"
	"github.com/landlord-dev/landlord/internal/platform"
)

func main() {
	port := flag.Int("port", 13306, "Port to listen on (127.0.0.1).")
	dir := flag.String("dir", "bin/local/mariadb", "Directory of the server's data, socket and log.")
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "Kubeconfig of the cluster (as its admin).")
	cfg := platform.Default()
	flag.StringVar(&cfg.OperatorNamespace, "operator-namespace", cfg.OperatorNamespace, "Namespace of Landlord (where the admin Secret goes).")
	flag.StringVar(&cfg.DatabaseAdminSecret, "admin-secret", cfg.DatabaseAdminSecret, "Name of the admin Secret.")
	flag.Parse()
	rc, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		err = run(ctx, *port, *dir, rc, cfg, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localmariadb:", err)
		os.Exit(1)
	}
}

// run starts the server, writes the admin Secret and serves until ctx ends;
// ready, if set, is called once the Secret is written.
func run(ctx context.Context, port int, dir string, rc *rest.Config, cfg platform.Config, ready func()) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	srv, err := mysqltest.Start(ctx, mysqltest.Options{Dir: dir, Port: port})
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	c, err := client.New(rc, client.Options{})
	if err != nil {
		return err
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: cfg.OperatorNamespace, Name: cfg.DatabaseAdminSecret},
		StringData: map[string]string{"username": mysqltest.AdminUser, "password": srv.AdminPassword},
	}
	_ = c.Delete(ctx, sec)
	if err := c.Create(ctx, sec); err != nil {
		return fmt.Errorf("creating the admin Secret: %w", err)
	}
	fmt.Printf("MariaDB on %s (data in %s); admin Secret %s/%s\n", srv.Addr(), dir, cfg.OperatorNamespace, cfg.DatabaseAdminSecret)
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	fmt.Println("stopping MariaDB")
	return nil
}
