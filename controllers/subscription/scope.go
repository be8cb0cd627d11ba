package subscription

import (
	"context"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/lifecycle"
	"github.com/landlord-dev/landlord/internal/platform"
)

// scope is what one reconcile learns and decides, passed through the phases.
type scope struct {
	sub *v1.Subscription
	// old is the status as read, to patch against and to notice a phase change.
	old *v1.SubscriptionStatus
	now time.Time

	accountName string
	// siteNS is the site namespace's name; siteNSReady says it exists and
	// is this site's (applied in this reconcile).
	siteNS      string
	siteNSReady bool
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
	// appliedDeployment is the Deployment as this reconcile's apply left it,
	// and deploymentRead the resourceVersion the cache showed before it.
	appliedDeployment *appsv1.Deployment
	deploymentRead    string
	volume            *corev1.PersistentVolumeClaim
	// resizePending says why the volume is not (yet) as the limits want it.
	resizePending string

	// routesMissing: the Gateway API is not served, so no route was written.
	routesMissing bool
	// taken says which of the site's names hold objects Landlord did not
	// make (adopt.go); the site is then not applied.
	taken string

	// stoppedWorkloads counts the tenant's workloads that carry a
	// suspension's record (reconcileWorkloads); nil: none.
	stoppedWorkloads *v1.StoppedWorkloads

	// facts, while set, waits for the facts recordFacts is writing.
	facts func() error

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
	return r.inNamespace(ctx, ns)
}

// ofNamespace maps a site namespace to its subscription and an account
// namespace to all of the account's.
func (r *Reconciler) ofNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	if req := r.siteRequest(o.GetLabels()); req != nil {
		return req
	}
	return r.inNamespace(ctx, o.GetName())
}

// siteOf maps a site object to its subscription, by the object's labels.
func (r *Reconciler) siteOf(_ context.Context, o client.Object) []reconcile.Request {
	return r.siteRequest(o.GetLabels())
}

// siteOfNamespace maps an object a tenant created in a site namespace (a
// CustomDomain) to the site, by the namespace's labels.
func (r *Reconciler) siteOfNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: o.GetNamespace()}, ns); err != nil {
		return nil
	}
	return r.siteRequest(ns.Labels)
}

func (r *Reconciler) siteRequest(labels map[string]string) []reconcile.Request {
	account, sub := platform.SiteOfNamespace(labels)
	if account == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: r.Config.AccountNamespace(account), Name: sub}}}
}

// inNamespace is every subscription in namespace.
func (r *Reconciler) inNamespace(ctx context.Context, namespace string) []reconcile.Request {
	var list v1.SubscriptionList
	if err := r.Client.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	return requests(list.Items)
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

// quotaHardChanged passes quota events that change a limit, as set
// (spec.hard, or in the cache the digest of the fields Landlord owns in its
// place) or as enforced (status.hard), and not those of usage alone.
func quotaHardChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, okOld := e.ObjectOld.(*corev1.ResourceQuota)
		n, okNew := e.ObjectNew.(*corev1.ResourceQuota)
		if !okOld || !okNew {
			return true
		}
		return !equality.Semantic.DeepEqual(o.Spec.Hard, n.Spec.Hard) || !equality.Semantic.DeepEqual(o.Status.Hard, n.Status.Hard) ||
			o.Annotations[kernel.DigestAnnotation] != n.Annotations[kernel.DigestAnnotation] ||
			!equality.Semantic.DeepEqual(o.Labels, n.Labels)
	}}
}
