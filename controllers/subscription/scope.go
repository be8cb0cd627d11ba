package subscription

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/lifecycle"
)

// scope is what one reconcile learns and decides, passed through the phases.
type scope struct {
	sub *v1.Subscription
	// old is the status as read, to patch against and to notice a phase change.
	old *v1.SubscriptionStatus
	now time.Time

	accountName string
	url         string
	account     *v1.Account // nil: the namespace belongs to no Account

	plan     *v1.Plan
	template *v1.SiteTemplate
	// limits are the effective limits; nil when the spec does not resolve.
	limits *v1.Limits
	// problem names what is wrong with the spec (a reason and a message);
	// the site is then left as it is.
	problem *problem

	life lifecycle.Result

	deployment *appsv1.Deployment
	volume     *corev1.PersistentVolumeClaim
	// resizePending says why the volume is not (yet) as the limits want it.
	resizePending string

	// routesMissing: the Gateway API is not served, so no route was written.
	routesMissing bool

	// stop ends the phases early; statusComputed says the whole status was
	// computed.
	stop, statusComputed, gone bool
}

// Stopped ends the phases early (kernel.Stopper).
func (s *scope) Stopped() bool { return s.stop }

type problem struct{ reason, message string }

func (s *scope) serving() bool {
	switch s.life.Phase {
	case v1.PhaseSuspended, v1.PhaseCancelled, v1.PhaseTerminated:
		return false
	}
	return true
}

// byIndex maps a Plan or SiteTemplate to the subscriptions that name it.
func (r *Reconciler) byIndex(index string) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		var list v1.SubscriptionList
		if err := r.Client.List(ctx, &list, client.MatchingFields{index: o.GetName()}); err != nil {
			return nil
		}
		return requests(list.Items)
	}
}

// ofAccount maps an Account to the subscriptions in its namespace.
func (r *Reconciler) ofAccount(ctx context.Context, o client.Object) []reconcile.Request {
	ns := r.Config.AccountNamespace(o.GetName())
	if a, ok := o.(*v1.Account); ok && a.Status.Namespace != "" {
		ns = a.Status.Namespace
	}
	return r.inNamespace(func(client.Object) string { return ns })(ctx, o)
}

// inNamespace maps an object to every subscription in the namespace ns(o).
func (r *Reconciler) inNamespace(ns func(client.Object) string) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		var list v1.SubscriptionList
		if err := r.Client.List(ctx, &list, client.InNamespace(ns(o))); err != nil {
			return nil
		}
		return requests(list.Items)
	}
}

func requests(subs []v1.Subscription) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(subs))
	for i := range subs {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&subs[i])})
	}
	return out
}

func namedPredicate(name string) predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == name })
}
