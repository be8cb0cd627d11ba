// Package subscription reconciles Subscriptions: it resolves the plan and
// template, computes the lifecycle phase, applies the site objects and the
// namespace quota, and reports status.
package subscription

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/metrics"
	"github.com/landlord-dev/landlord/internal/platform"
)

// FieldManager is the server-side apply field manager of everything this
// controller applies.
const FieldManager = "landlord-subscription"

// Field indexes on Subscriptions (names unique to this controller).
const (
	indexPlan     = "landlord.subscription.spec.plan"
	indexTemplate = "landlord.subscription.spec.site.template"
)

// Reconciler reconciles Subscriptions.
type Reconciler struct {
	Client client.Client
	// APIReader reads past the cache: namespaces Landlord has not labelled
	// (one it may not adopt) and PersistentVolumes (retained at termination).
	APIReader client.Reader
	Config    platform.Config
	Clock     clock.Clock
	Recorder  events.EventRecorder
	// APIs says whether the Gateway API is served (nil: assume it is).
	APIs kernel.APIs
	// Optional is the cache of the kinds that may be installed after
	// Landlord starts (HTTPRoute, ReferenceGrant); nil: Client.
	Optional cache.Cache

	// quotaBackoff spaces out retries of a volume the quota refuses.
	quotaBackoff workqueue.TypedRateLimiter[types.UID]
}

// HTTPRouteGVK is the Gateway API kind the site routes are.
var HTTPRouteGVK = gatewayv1.SchemeGroupVersion.WithKind("HTTPRoute")

// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=subscriptions,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=subscriptions/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=subscriptions/finalizers,verbs=update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=plans;sitetemplates;accounts;customdomains,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=persistentvolumes,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=limitranges,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=landlord-tenant-owner;landlord-tenant-suspended
// +kubebuilder:rbac:groups="",resources=services;persistentvolumeclaims;resourcequotas,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes;referencegrants,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the controller and its watches.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	ctx := context.Background()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &v1.Subscription{}, indexPlan, func(o client.Object) []string {
		return []string{o.(*v1.Subscription).Spec.Plan}
	}); err != nil {
		return fmt.Errorf("indexing subscriptions by plan: %w", err)
	}
	if err := idx.IndexField(ctx, &v1.Subscription{}, indexTemplate, func(o client.Object) []string {
		return []string{o.(*v1.Subscription).Spec.Site.Template}
	}); err != nil {
		return fmt.Errorf("indexing subscriptions by template: %w", err)
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("landlord-subscription")
	}
	r.quotaBackoff = workqueue.NewTypedItemExponentialFailureRateLimiter[types.UID](2*time.Second, 5*time.Minute)
	requeue := kernel.NewRequeue(mgr.GetClient(), func() client.ObjectList { return &v1.SubscriptionList{} })

	// Site objects live in the site namespace, the Subscription in the
	// account namespace: they are mapped back by their labels, not by owner
	// references (which cannot cross namespaces).
	toSite := handler.EnqueueRequestsFromMapFunc(r.siteOf)
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1.Subscription{}).
		Named("subscription").
		Watches(&appsv1.Deployment{}, toSite).
		Watches(&corev1.Service{}, toSite).
		Watches(&corev1.PersistentVolumeClaim{}, toSite).
		Watches(&networkingv1.NetworkPolicy{}, toSite).
		Watches(&corev1.LimitRange{}, toSite).
		Watches(&rbacv1.RoleBinding{}, toSite, builder.WithPredicates(namedPredicate(platform.OwnerBindingName))).
		Watches(&v1.Plan{}, handler.EnqueueRequestsFromMapFunc(r.byIndex(indexPlan))).
		Watches(&v1.SiteTemplate{}, handler.EnqueueRequestsFromMapFunc(r.byIndex(indexTemplate))).
		Watches(&v1.Account{}, handler.EnqueueRequestsFromMapFunc(r.ofAccount)).
		// An account namespace's events concern its subscriptions, a site
		// namespace's its own subscription.
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.ofNamespace)).
		// The quota's status.used moves with every pod: what matters is a
		// change of what Landlord set, and the moment the quota controller
		// makes a raised limit effective (status.hard), when a volume the
		// quota refused may grow.
		Watches(&corev1.ResourceQuota{}, toSite, builder.WithPredicates(namedPredicate(platform.QuotaName), quotaHardChanged())).
		Watches(&v1.CustomDomain{}, handler.EnqueueRequestsFromMapFunc(r.siteOfNamespace)).
		// A Team's seats (Leases in the account namespace) make usage.seats.
		Watches(&coordinationv1.Lease{}, handler.EnqueueRequestsFromMapFunc(seatOf)).
		WatchesRawSource(requeue.Source())
	if r.Config.RouteKind == platform.RouteIngress {
		b = b.Watches(&networkingv1.Ingress{}, toSite)
	}
	if src := clock.WakeSource(r.Clock, mgr.GetClient(), func() client.ObjectList { return &v1.SubscriptionList{} }); src != nil {
		b = b.WatchesRawSource(src)
	}
	ctl, err := b.Build(r)
	if err != nil {
		return err
	}
	if r.Config.RouteKind == platform.RouteIngress || r.APIs == nil {
		return nil
	}
	// The Gateway API may come after Landlord: watch the routes once it is
	// served, and reconcile every subscription then to write them.
	r.APIs.OnServed(HTTPRouteGVK, func() {
		routes := source.Kind(r.Optional, &gatewayv1.HTTPRoute{},
			handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, o *gatewayv1.HTTPRoute) []reconcile.Request { return r.siteOf(ctx, o) }))
		if err := ctl.Watch(routes); err != nil {
			mgr.GetLogger().Error(err, "watching HTTPRoutes")
		}
		requeue.Fire()
	})
	return nil
}

// seatOf maps a seat to its Subscription.
func seatOf(_ context.Context, o client.Object) []reconcile.Request {
	sub := o.GetLabels()[v1.SeatLabel]
	if sub == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: sub}}}
}

// Reconcile runs get → one deferred status patch → paused? → deletion, or
// finalizer and the phases.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	sub := &v1.Subscription{}
	if err := r.Client.Get(ctx, req.NamespacedName, sub); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if kernel.Behind(sub) {
		return kernel.CatchUp(), nil // the cache has not seen Landlord's last write yet
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("subscription", klog.KObj(sub)))

	p := kernel.NewPatcher(r.Client, sub)
	s := &scope{sub: sub, old: sub.Status.DeepCopy(), now: r.Clock.Now()}
	defer func() { retErr = errors.Join(retErr, r.patchStatus(ctx, p, s, retErr)) }()

	if kernel.Paused(sub) {
		return ctrl.Result{}, nil
	}
	if !sub.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}
	if err := kernel.EnsureFinalizer(ctx, r.Client, sub); err != nil {
		return ctrl.Result{}, err
	}
	return kernel.Run(ctx, s,
		r.resolveAccount,
		r.resolveSpec,
		r.computeLifecycle,
		r.recordFacts,
		r.reconcileSiteNamespace,
		r.applySite,
		r.joinFacts,
		r.reconcileWorkloads,
		r.observe,
	)
}

// reconcileDelete removes the site at once, whatever the phase, as
// termination does (deletionPolicy Retain keeps the volume's data), and
// lets the Subscription go. The account may already be gone (a confirmed
// account deletion): the site namespace is then found by its name and
// labels.
func (r *Reconciler) reconcileDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(s.sub, v1.Finalizer) {
		return ctrl.Result{}, nil
	}
	if account, ok := strings.CutPrefix(s.sub.Namespace, r.Config.NamespacePrefix); ok {
		s.accountName = account
		s.siteNS = r.Config.SiteNamespace(account, s.sub.Name)
	}
	if err := r.removeSite(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.releaseFinalizer(ctx, s)
}

func (r *Reconciler) releaseFinalizer(ctx context.Context, s *scope) error {
	if err := kernel.RemoveFinalizer(ctx, r.Client, s.sub); err != nil {
		return err
	}
	s.gone = true
	return nil
}

// patchStatus writes what this reconcile found, once, and records an Event
// when the phase changed. A failed reconcile still reports the phase it
// computed, and Ready=False says why it failed (kernel.Patcher).
func (r *Reconciler) patchStatus(ctx context.Context, p *kernel.Patcher, s *scope, reconcileErr error) error {
	if s.gone {
		return nil
	}
	var factsErr error
	if s.facts != nil {
		// A phase stopped or failed before joinFacts.
		factsErr = s.facts()
		reconcileErr = errors.Join(reconcileErr, factsErr)
	}
	if reconcileErr != nil && !s.statusComputed && s.life.Phase != "" {
		setLifecycleStatus(s)
	}
	wrote, err := p.Patch(ctx, s.sub, reconcileErr)
	if err != nil || !wrote {
		return errors.Join(factsErr, err)
	}
	if p := s.sub.Status.Phase; p != s.old.Phase && p != "" {
		recordPhaseChange(p, s.life.Since, s.now)
		if !bornServing(s.old.Phase, p) {
			r.phaseEvent(s.sub, s.old.Phase)
		}
	}
	return factsErr
}

// phaseEvent records the change of sub's phase from old as an Event: a
// warning for a phase that stops or threatens the site.
func (r *Reconciler) phaseEvent(sub *v1.Subscription, old v1.SubscriptionPhase) {
	p := sub.Status.Phase
	kind := corev1.EventTypeNormal
	switch p {
	case v1.PhasePastDue, v1.PhaseSuspended, v1.PhaseCancelled, v1.PhaseTerminated, v1.PhasePending:
		kind = corev1.EventTypeWarning
	}
	note := fmt.Sprintf("phase %s (was %s)", p, orNone(old))
	if c := readyCondition(sub); c != nil && c.Message != "" {
		note += ": " + c.Message
	}
	r.Recorder.Eventf(sub, nil, kind, string(p), "PhaseChange", "%s", truncate(note, 1000))
}

// bornServing: a new subscription whose first phase is Active or Trialing.
// Its status says so (phase, Ready with its transition time); an Event
// would be one more write per subscription while onboarding, as for a new
// Account or Membership. A first phase that is a warning (Pending, say)
// still makes one.
func bornServing(old, cur v1.SubscriptionPhase) bool {
	return old == "" && (cur == v1.PhaseActive || cur == v1.PhaseTrialing)
}

// recordPhaseChange counts the transition and, for a phase entered because
// a deadline passed (since), how long after the deadline Landlord acted.
func recordPhaseChange(p v1.SubscriptionPhase, since *time.Time, now time.Time) {
	metrics.PhaseTransitions.WithLabelValues(string(p)).Inc()
	switch p {
	case v1.PhasePastDue, v1.PhaseSuspended, v1.PhaseCancelled, v1.PhaseTerminated:
		if since != nil {
			metrics.ObserveDeadline(strings.ToLower(string(p)), *since, now)
		}
	}
}

func orNone(p v1.SubscriptionPhase) string {
	if p == "" {
		return "none"
	}
	return string(p)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// untilNext is the requeue for a deadline (a little after, so that the
// deadline has passed when the reconcile runs).
func untilNext(now time.Time, next *time.Time) ctrl.Result {
	if next == nil {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: next.Sub(now) + 100*time.Millisecond}
}
