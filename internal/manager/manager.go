// Package manager assembles Landlord's controller manager: the cache (only
// what Landlord labels, only the fields it reads: CacheTransform) and the
// controllers. The
// manager binary and the integration tests share it, so tests run what ships.
package manager

import (
	"context"
	"errors"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/account"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/controllers/database"
	"github.com/landlord-dev/landlord/controllers/membership"
	"github.com/landlord-dev/landlord/controllers/subscription"
	"github.com/landlord-dev/landlord/controllers/team"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/index"
	"github.com/landlord-dev/landlord/internal/metrics"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenantpods"
)

// ManagedSelector selects the objects Landlord creates.
var ManagedSelector = labels.SelectorFromSet(labels.Set{hostingv1alpha1.ManagedByLabel: hostingv1alpha1.ManagedByValue})

// AccountNamespaceSelector selects namespaces labelled for an account.
var AccountNamespaceSelector = func() labels.Selector {
	req, err := labels.NewRequirement(hostingv1alpha1.AccountLabel, selection.Exists, nil)
	if err != nil {
		panic(err)
	}
	return labels.NewSelector().Add(*req)
}()

// DefaultWorkers is each controller's MaxConcurrentReconciles unless
// --max-concurrent-reconciles says otherwise; the tests run with it too.
const DefaultWorkers = 4

// Options are the manager options every Landlord manager uses: a cache that
// holds only Landlord-labelled built-in objects, and of them only what
// Landlord reads (CacheTransform).
func Options(scheme *runtime.Scheme, cfg platform.Config) ctrl.Options {
	managed := cache.ByObject{Label: ManagedSelector}
	opts := ctrl.Options{
		Scheme:     scheme,
		Controller: config.Controller{MaxConcurrentReconciles: DefaultWorkers},
		Cache: cache.Options{
			DefaultTransform: CacheTransform,
			ByObject: map[client.Object]cache.ByObject{
				// Every account namespace carries the account label; selecting on it
				// (not on managed-by) also shows a namespace being labelled for
				// adoption, so the Account reconciles at once.
				&corev1.Namespace{}:             {Label: AccountNamespaceSelector},
				&corev1.Service{}:               managed,
				&corev1.PersistentVolumeClaim{}: managed,
				&corev1.ResourceQuota{}:         managed,
				&corev1.LimitRange{}:            managed,
				&appsv1.Deployment{}:            managed,
				&networkingv1.NetworkPolicy{}:   managed,
				&networkingv1.Ingress{}:         managed,
				&rbacv1.RoleBinding{}:           managed,
				// Teams' Roles (get on their Subscriptions).
				&rbacv1.Role{}: managed,
				// Custom-domain and database slots (controllers/customdomain/gate.go,
				// controllers/database/slots.go).
				&coordinationv1.Lease{}: managed,
			},
		},
		Client: client.Options{
			Cache: &client.CacheOptions{
				// Landlord never reads these through the cache: no accidental
				// cluster-wide informer of Secrets or Pods.
				DisableFor: []client.Object{&corev1.Secret{}, &corev1.Pod{}, &corev1.ConfigMap{}},
			},
		},
	}
	// The Gateway API and cert-manager kinds are not in this cache: they may
	// be installed after Landlord starts, and a cache cannot be built for a
	// kind the API server does not serve. They have a cache of their own
	// (NewOptionalCache).
	return opts
}

// Controller names, for SetupControllers' only argument.
const (
	AccountController      = "account"
	MembershipController   = "membership"
	SubscriptionController = "subscription"
	CustomDomainController = "customdomain"
	TeamController         = "team"
	DatabaseController     = "database"
)

// SetupControllers registers Landlord's controllers with mgr: all of them, or
// only those named (tests of one controller run it alone, so that they can
// stand in for the others by writing status themselves).
func SetupControllers(mgr ctrl.Manager, cfg platform.Config, clk clock.Clock, only ...string) error {
	if err := metrics.Register(mgr.GetCache()); err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	apis, err := NewAPIWatcher(mgr.GetConfig(), cfg)
	if err != nil {
		return err
	}
	// One check now, so that the controllers start with the right answer
	// (a restart must not report a missing API for one interval).
	if err := apis.Check(context.Background()); err != nil {
		return fmt.Errorf("checking which optional APIs are served: %w", err)
	}
	if err := mgr.Add(apis); err != nil {
		return err
	}
	optional, err := NewOptionalCache(mgr)
	if err != nil {
		return err
	}
	if err := index.Register(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	// The provider's rules for tenant pods (--tenant-* flags) into their
	// admission policy, before anything reconciles. Without the policy they
	// do not hold at all: said loudly, but the controllers still run (as on
	// a cluster where config/admission is not installed yet).
	if err := tenantpods.Apply(context.Background(), mgr.GetClient(), mgr.GetAPIReader(), cfg); errors.Is(err, tenantpods.ErrNotInstalled) {
		mgr.GetLogger().Error(err, "tenant pod rules not enforced")
	} else if err != nil {
		return err
	}
	enabled := func(name string) bool { return len(only) == 0 || slices.Contains(only, name) }
	if enabled(AccountController) {
		if err := (&account.Reconciler{
			Client:    mgr.GetClient(),
			APIReader: mgr.GetAPIReader(),
			Config:    cfg,
			Clock:     clk,
			Recorder:  mgr.GetEventRecorder("landlord-account"),
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up the account controller: %w", err)
		}
	}
	if enabled(MembershipController) {
		if err := (&membership.Reconciler{
			Client:   mgr.GetClient(),
			Config:   cfg,
			Clock:    clk,
			Recorder: mgr.GetEventRecorder("landlord-membership"),
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up the membership controller: %w", err)
		}
	}
	if enabled(TeamController) {
		if err := (&team.Reconciler{
			Client:    mgr.GetClient(),
			APIReader: mgr.GetAPIReader(),
			Config:    cfg,
			Clock:     clk,
			Recorder:  mgr.GetEventRecorder("landlord-team"),
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up the team controller: %w", err)
		}
	}
	if enabled(SubscriptionController) {
		if err := (&subscription.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Config: cfg, Clock: clk, APIs: apis, Optional: optional}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up the subscription controller: %w", err)
		}
	}
	if enabled(CustomDomainController) {
		if err := customdomain.Setup(mgr, cfg, clk, apis, optional); err != nil {
			return fmt.Errorf("setting up the CustomDomain controller: %w", err)
		}
	}
	if enabled(DatabaseController) {
		if err := database.Setup(mgr, cfg, clk); err != nil {
			return fmt.Errorf("setting up the Database controller: %w", err)
		}
	}
	return nil
}

// NewOptionalCache is the cache of the kinds that may be installed after
// Landlord starts (HTTPRoute, ReferenceGrant, ListenerSet, Certificate): only the objects
// Landlord labels, transformed by CacheTransform; an informer starts on first use,
// which the controllers make only once the kind is served.
func NewOptionalCache(mgr ctrl.Manager) (cache.Cache, error) {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme:               mgr.GetScheme(),
		Mapper:               mgr.GetRESTMapper(),
		DefaultLabelSelector: ManagedSelector,
		DefaultTransform:     CacheTransform,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the cache of optional APIs: %w", err)
	}
	if err := mgr.Add(c); err != nil {
		return nil, err
	}
	return c, nil
}
