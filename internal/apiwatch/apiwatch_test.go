package apiwatch_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/landlord-dev/landlord/internal/apiwatch"
	"github.com/landlord-dev/landlord/internal/controlplane"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// logLines collects what a Watcher logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(prefix, args string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, prefix+" "+args)
}

func (l *logLines) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

// A cluster without the Gateway API: the Watcher says so (and logs how to
// install it, once), then the CRDs are installed and within one interval
// Served turns true and the callbacks fire, once each.
func TestKindsBecomeServed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := controlplane.Options{}
	if os.Getenv("LANDLORD_TEST_LOG") != "" {
		opts.Log = os.Stderr
	}
	cp, err := controlplane.Start(ctx, opts) // no CRDs at all
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cp.Stop() }()

	dc, err := discovery.NewDiscoveryClientForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	const interval = time.Second
	w := apiwatch.New(dc, interval, apiwatch.HTTPRoute, apiwatch.ReferenceGrant, apiwatch.Certificate)
	var logs logLines
	w.Log = funcr.New(logs.add, funcr.Options{})

	var _ manager.LeaderElectionRunnable = w
	if w.NeedLeaderElection() {
		t.Error("the watcher needs leader election; followers must know which APIs are served too")
	}

	var routeCalls, grantCalls, lateCalls atomic.Int32
	w.OnServed(apiwatch.HTTPRoute, func() { routeCalls.Add(1) })
	w.OnServed(apiwatch.ReferenceGrant, func() { grantCalls.Add(1) })
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()

	select {
	case <-w.Checked():
	case <-time.After(30 * time.Second):
		t.Fatal("no first check in 30s")
	}
	if w.Served(apiwatch.HTTPRoute) || w.Served(apiwatch.ReferenceGrant) || w.Served(apiwatch.Certificate) {
		t.Fatal("a kind reads as served on an API server without its CRD")
	}
	// A few more checks: still not served, and the hints are logged once.
	time.Sleep(3 * interval)
	if routeCalls.Load() != 0 || grantCalls.Load() != 0 {
		t.Fatal("a callback fired before its kind was served")
	}
	if n := logs.count("Gateway API CRDs are not installed"); n != 1 {
		t.Errorf("the Gateway API hint was logged %d times, want once; log:\n%s", n, strings.Join(logs.lines, "\n"))
	}
	if n := logs.count("make install-gateway-api"); n != 1 {
		t.Errorf("the hint does not say how to install the Gateway API (%d lines)", n)
	}
	if n := logs.count("cert-manager is not installed"); n != 1 {
		t.Errorf("the cert-manager hint was logged %d times, want once", n)
	}

	files, err := testenv.GatewayAPICRDs()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envtest.InstallCRDs(cp.Config, envtest.CRDInstallOptions{Paths: files, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err) // returns once the CRDs are established
	}
	installed := time.Now()
	deadline := installed.Add(interval + 3*time.Second) // one interval, plus a discovery round trip on a loaded machine
	for !(w.Served(apiwatch.HTTPRoute) && w.Served(apiwatch.ReferenceGrant)) {
		if time.Now().After(deadline) {
			t.Fatalf("HTTPRoute/ReferenceGrant not served %v after their CRDs were established", time.Since(installed))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("served %v after the CRDs were established", time.Since(installed).Round(time.Millisecond))
	// Callbacks run after Served is updated, on the watcher's goroutine.
	for time.Now().Before(deadline) && (routeCalls.Load() == 0 || grantCalls.Load() == 0) {
		time.Sleep(20 * time.Millisecond)
	}
	if routeCalls.Load() != 1 || grantCalls.Load() != 1 {
		t.Fatalf("callbacks fired %d (HTTPRoute) and %d (ReferenceGrant) times, want once each", routeCalls.Load(), grantCalls.Load())
	}
	if w.Served(apiwatch.Certificate) {
		t.Error("Certificate reads as served without cert-manager's CRDs")
	}
	// The two CRDs may become established in different checks: each kind is
	// said to be served once, in one line or two.
	if logs.count("Kind=HTTPRoute") != 1 || logs.count("Kind=ReferenceGrant") != 1 {
		t.Errorf("HTTPRoute and ReferenceGrant are not each said once to be served; log:\n%s", strings.Join(logs.lines, "\n"))
	}

	// Later checks fire nothing again; a callback registered now runs at once.
	time.Sleep(3 * interval)
	if routeCalls.Load() != 1 || grantCalls.Load() != 1 {
		t.Errorf("callbacks fired again: %d, %d", routeCalls.Load(), grantCalls.Load())
	}
	w.OnServed(apiwatch.HTTPRoute, func() { lateCalls.Add(1) })
	if lateCalls.Load() != 1 {
		t.Error("OnServed of an already served kind did not call back at once")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Start returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Start did not return after its context ended")
	}
}
