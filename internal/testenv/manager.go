package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
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
}

// StartManager starts the real Landlord manager (the production cache
// options; every controller, or only those named) against the environment,
// driven by the fake clock clk. Stop it with Stop; StartManager returns once
// its caches sync. Set LANDLORD_TEST_LOG to see its log.
func (e *Env) StartManager(cfg platform.Config, clk *clock.Fake, controllers ...string) (*Manager, error) {
	return e.StartManagerWith(ManagerOptions{Config: cfg, Clock: clk, Controllers: controllers})
}

// ManagerOptions configure StartManagerWith.
type ManagerOptions struct {
	Config      platform.Config
	Clock       *clock.Fake
	Controllers []string // empty: all
	// MetricsAddr serves the metrics endpoint there (host:port); empty: none.
	MetricsAddr string
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
	mgr, err := ctrl.NewManager(e.Config, opts)
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

// Stop stops the manager and waits for it.
func (m *Manager) Stop() error {
	m.cancel()
	return <-m.done
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
