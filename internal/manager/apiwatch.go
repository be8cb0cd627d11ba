package manager

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/landlord-dev/landlord/internal/apiwatch"
	"github.com/landlord-dev/landlord/internal/platform"
)

// APIKinds are the optional kinds the manager with cfg writes: the Gateway
// API's HTTPRoute, ReferenceGrant and ListenerSet (custom domains'
// listeners, standard channel since v1.5) when routing with it, and
// cert-manager's Certificate.
func APIKinds(cfg platform.Config) []schema.GroupVersionKind {
	var kinds []schema.GroupVersionKind
	if cfg.RouteKind != platform.RouteIngress {
		kinds = append(kinds, apiwatch.HTTPRoute, apiwatch.ReferenceGrant, apiwatch.ListenerSet)
	}
	return append(kinds, apiwatch.Certificate)
}

// NewAPIWatcher returns a Watcher of APIKinds(cfg), checked every
// cfg.APICheckInterval through an uncached discovery client of restConfig.
// Add it to the manager (mgr.Add) to run it; it runs without leader election.
func NewAPIWatcher(restConfig *rest.Config, cfg platform.Config) (*apiwatch.Watcher, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("creating a discovery client: %w", err)
	}
	return apiwatch.New(dc, cfg.APICheckInterval, APIKinds(cfg)...), nil
}
