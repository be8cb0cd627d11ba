package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/landlord-dev/landlord/internal/mysqltest"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// run-local's database server: it starts, puts a working admin credential in
// the operator namespace, and stops when told to.
func TestServesAndWritesTheAdminSecret(t *testing.T) {
	if !mysqltest.Installed() {
		mysqltest.Require(t) // skips, or fails under LANDLORD_REQUIRE_MYSQL
	}
	ctx := context.Background()
	env, err := testenv.Start(ctx, testenv.Options{SkipManifests: true, NoGatewayAPI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	cfg := platform.Default()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.OperatorNamespace}}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()

	runCtx, cancel := context.WithCancel(ctx)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, port, filepath.Join(t.TempDir(), "mariadb"), env.Config, cfg, func() { close(ready) })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("localmariadb: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("localmariadb did not start")
	}
	sec := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: cfg.DatabaseAdminSecret}, sec); err != nil {
		t.Fatal(err)
	}
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = string(sec.Data["username"]), string(sec.Data["password"]), "tcp", fmt.Sprintf("127.0.0.1:%d", port)
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE probe"); err != nil {
		t.Fatalf("the admin Secret's credential: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", c.Addr, time.Second); err == nil {
		_ = conn.Close()
		t.Fatal("the server still listens after run returned")
	}
}
