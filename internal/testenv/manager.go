package testenv

import (
	"context"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
)

// Manager is a running Landlord manager in a test environment.
type Manager struct {
	ctrl.Manager
	Clock  *clock.Fake
	Config platform.Config
	cancel context.CancelFunc
	done   chan error

	stopOnce sync.Once
	stopErr  error
}

// StartManager starts the real Landlord manager (the production cache
// options; every controller, or only those named) against the environment as
// Landlord's own identity (Env.ManagerConfig), driven by the fake clock clk. Stop it with Stop; StartManager returns once
// its caches sync. Set LANDLORD_TEST_LOG to see its log.
func (e *Env) StartManager(cfg platform.Config, clk *clock.Fake, controllers ...string) (*Manager, error) {
	return e.StartManagerWith(ManagerOptions{Config: cfg, Clock: clk, Controllers: controllers})
}

// ManagerOptions configure StartManagerWith; Config and Clock are required.
type ManagerOptions struct {
	Config      platform.Config
	Clock       *clock.Fake
	Controllers []string // empty: all
	// MetricsAddr serves the metrics endpoint there (host:port); empty: none.
	MetricsAddr string
	// WrapTransport wraps the manager's HTTP transport: every request the
	// manager makes to the API server (its clients, caches, event recorder and
	// leader election) goes through it, e.g. to count writes or to fail them.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// LeaderElection runs the manager with leader election on, with a Lease
	// of this ID in the default namespace and short durations (a second or
	// two), so that a test sees a hand-over quickly.
	LeaderElection string
	// Workers is each controller's MaxConcurrentReconciles; 0: the
	// production default (manager.DefaultWorkers), as every test runs.
	Workers int
}

// StartManagerWith is StartManager with every option.
func (e *Env) StartManagerWith(o ManagerOptions) (*Manager, error) {
	cfg, clk, controllers := o.Config, o.Clock, o.Controllers
	opts := manager.Options(e.Scheme, cfg)
	opts.Metrics = metricsserver.Options{BindAddress: "0"}
	if o.MetricsAddr != "" {
		opts.Metrics.BindAddress = o.MetricsAddr
	}
	opts.HealthProbeBindAddress = "0"
	opts.Controller.SkipNameValidation = ptr.To(true)
	if o.Workers > 0 {
		opts.Controller.MaxConcurrentReconciles = o.Workers
	}
	restCfg := e.ManagerConfig
	if o.WrapTransport != nil {
		restCfg = rest.CopyConfig(e.ManagerConfig)
		restCfg.Wrap(o.WrapTransport)
	}
	if o.LeaderElection != "" {
		opts.LeaderElection = true
		opts.LeaderElectionID = o.LeaderElection
		opts.LeaderElectionNamespace = metav1.NamespaceDefault
		opts.LeaseDuration = ptr.To(2 * time.Second)
		opts.RenewDeadline = ptr.To(1500 * time.Millisecond)
		opts.RetryPeriod = ptr.To(250 * time.Millisecond)
	}
	mgr, err := ctrl.NewManager(restCfg, opts)
	if err != nil {
		return nil, err
	}
	if err := manager.SetupControllers(mgr, cfg, clk, controllers...); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{Manager: mgr, Clock: clk, Config: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- mgr.Start(ctx) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		cancel()
		return nil, <-m.done
	}
	return m, nil
}

// Stop stops the manager and waits for it; later calls return the same.
func (m *Manager) Stop() error {
	m.stopOnce.Do(func() {
		m.cancel()
		m.stopErr = <-m.done
	})
	return m.stopErr
}

// StartManagerT is StartManager for one test: it fails the test on error and
// stops the manager at the test's cleanup.
func (e *Env) StartManagerT(t testing.TB, cfg platform.Config, now time.Time, controllers ...string) *Manager {
	t.Helper()
	m, err := e.StartManager(cfg, clock.NewFake(now), controllers...)
	if err != nil {
		t.Fatalf("starting the manager: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return m
}

// ManagerEpoch is the fake clock's reading when Main starts the manager.
var ManagerEpoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func init() {
	if os.Getenv("LANDLORD_TEST_LOG") != "" {
		log.SetLogger(zap.New(zap.UseDevMode(true)))
	} else {
		log.SetLogger(logr.Discard())
	}
}
