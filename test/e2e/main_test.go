// Package e2e runs the whole of Landlord — every controller, the shipped
// samples, the portal example, the metrics endpoint, the Argo CD health
// check — against a real control plane with kwok, a volume provisioner and a
// loopback DNS server that publishes the records customers are asked to add.
package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env         *testenv.Env
	clk         *clock.Fake
	cfg         platform.Config
	dns         *dnstest.Server
	metricsAddr string
)

// unpublished hostnames get no TXT record: their verification must fail.
const unpublishedSuffix = ".no-record.example"

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	if env, err = testenv.Start(ctx, testenv.Options{Kwok: true, VolumeProvisioner: true}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if dns, err = dnstest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = dns.Close() }()
	go dns.Publish(ctx, env.Client, 200*time.Millisecond, func(h string) bool {
		return len(h) < len(unpublishedSuffix) || h[len(h)-len(unpublishedSuffix):] != unpublishedSuffix
	}, nil)

	cfg = platform.Default()
	cfg.DNSServer = dns.Addr()
	for _, ns := range []string{cfg.OperatorNamespace, cfg.IngressNamespace} {
		if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if metricsAddr, err = freeAddr(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	clk = clock.NewFake(time.Now().UTC().Truncate(time.Second))
	mgr, err := env.StartManagerWith(testenv.ManagerOptions{Config: cfg, Clock: clk, MetricsAddr: metricsAddr})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = mgr.Stop() }()
	return m.Run()
}

// recheckDNS lets a minute pass: Landlord looks up a missing TXT record
// again a minute later, so a record the customer has just added verifies.
func recheckDNS() { clk.Step(time.Minute) }

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
