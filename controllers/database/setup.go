package database

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/platform"
)

// Setup builds the Reconciler (connecting with the admin Secret of the
// operator namespace) and the TemplateReconciler, and registers them with mgr.
func Setup(mgr ctrl.Manager, cfg platform.Config, clk clock.Clock) error {
	r := &Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Config:    cfg,
		Clock:     clk,
		Recorder:  mgr.GetEventRecorder("landlord-database"),
		Servers:   &adminServers{reader: mgr.GetAPIReader(), cfg: cfg},
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return err
	}
	return (&TemplateReconciler{Client: mgr.GetClient(), Config: cfg}).SetupWithManager(mgr)
}

// SetupWithManager registers the controller and its watches.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("database").
		For(&v1.Database{}).
		// A Database deleted or created changes what its waiting siblings
		// may do (the plan gate).
		Watches(&v1.Database{}, handler.EnqueueRequestsFromMapFunc(r.siblingsOf)).
		// The site's phase (lock), limits (gate, connections, storage) and
		// deletionPolicy.
		Watches(&v1.Subscription{}, handler.EnqueueRequestsFromMapFunc(r.databasesOfSubscription),
			builder.WithPredicates(subscriptionMatters())).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.databasesOfNamespace)).
		Watches(&coordinationv1.Lease{}, handler.EnqueueRequestsFromMapFunc(r.databasesOfSlot)).
		Complete(r)
}

func (r *Reconciler) databasesIn(ctx context.Context, namespace string, skip string) []reconcile.Request {
	list := &v1.DatabaseList{}
	if err := r.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, d := range list.Items {
		if d.Name != skip {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&d)})
		}
	}
	return out
}

func (r *Reconciler) siblingsOf(ctx context.Context, o client.Object) []reconcile.Request {
	return r.databasesIn(ctx, o.GetNamespace(), o.GetName())
}

// databasesOfSubscription wakes the Databases of a subscription's site
// namespace (the account being the one of the subscription's namespace).
func (r *Reconciler) databasesOfSubscription(ctx context.Context, o client.Object) []reconcile.Request {
	account, ok := r.Config.AccountOfNamespaceName(o.GetNamespace())
	if !ok {
		return nil
	}
	return r.databasesIn(ctx, r.Config.SiteNamespace(account, o.GetName()), "")
}

func (r *Reconciler) databasesOfNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	return r.databasesIn(ctx, o.GetName(), "")
}

func (r *Reconciler) databasesOfSlot(ctx context.Context, o client.Object) []reconcile.Request {
	if _, ok := slotIndex(o.GetLabels()[v1.SubscriptionLabel], o.GetName()); !ok {
		return nil
	}
	return r.databasesIn(ctx, o.GetNamespace(), "")
}

// subscriptionMatters passes the Subscription changes Databases act on.
func subscriptionMatters() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			a, b := e.ObjectOld.(*v1.Subscription), e.ObjectNew.(*v1.Subscription)
			return a.Status.Phase != b.Status.Phase ||
				!equalLimits(a.Status.EffectiveLimits, b.Status.EffectiveLimits) ||
				a.Spec.DeletionPolicy != b.Spec.DeletionPolicy ||
				a.DeletionTimestamp.IsZero() != b.DeletionTimestamp.IsZero()
		},
	}
}

func equalLimits(a, b v1.Limits) bool {
	eqInt := func(x, y *int32) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	eqQ := func(x, y interface{ String() string }) bool { return x.String() == y.String() }
	if !eqInt(a.Databases, b.Databases) || !eqInt(a.DatabaseConnections, b.DatabaseConnections) {
		return false
	}
	if (a.DatabaseStorage == nil) != (b.DatabaseStorage == nil) {
		return false
	}
	return a.DatabaseStorage == nil || eqQ(a.DatabaseStorage, b.DatabaseStorage)
}
