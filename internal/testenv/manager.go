package testenv

import (
	"context"
	"fmt"

	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
)

// StartManager runs Landlord's manager — the same cache and controllers as
// the binary — against the environment, with the given platform config and
// clock. stop cancels it and waits for it to finish.
func (e *Env) StartManager(cfg platform.Config, clk clock.Clock) (stop func(), err error) {
	opts := manager.Options(e.Scheme, cfg)
	opts.Metrics = metricsserver.Options{BindAddress: "0"}
	opts.HealthProbeBindAddress = "0"
	opts.Controller.SkipNameValidation = ptr.To(true)
	mgr, err := ctrl.NewManager(e.Config, opts)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	if err := manager.SetupControllers(mgr, cfg, clk); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		cancel()
		return nil, fmt.Errorf("the manager's cache did not sync: %w", <-done)
	}
	return func() { cancel(); <-done }, nil
}
