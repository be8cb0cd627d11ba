// Package subscription reconciles Subscriptions: it resolves the plan and
// template, computes the lifecycle phase, applies the site objects and the
// namespace quota, and reports status.
package subscription

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
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
	Client   client.Client
	Config   platform.Config
	Clock    clock.Clock
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=subscriptions,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=subscriptions/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=subscriptions/finalizers,verbs=update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=plans;sitetemplates;accounts;customdomains,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
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

	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1.Subscription{}).
		Named("subscription").
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.PersistentVolumeClaim{}).
		Watches(&v1.Plan{}, handler.EnqueueRequestsFromMapFunc(r.byIndex(indexPlan))).
		Watches(&v1.SiteTemplate{}, handler.EnqueueRequestsFromMapFunc(r.byIndex(indexTemplate))).
		Watches(&v1.Account{}, handler.EnqueueRequestsFromMapFunc(r.ofAccount)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.inNamespace(func(o client.Object) string { return o.GetName() }))).
		Watches(&corev1.ResourceQuota{}, handler.EnqueueRequestsFromMapFunc(r.inNamespace(client.Object.GetNamespace)),
			builder.WithPredicates(namedPredicate(platform.QuotaName))).
		Watches(&v1.CustomDomain{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: o.(*v1.CustomDomain).Spec.Subscription}}}
		}))
	if r.Config.RouteKind == platform.RouteIngress {
		b = b.Owns(&networkingv1.Ingress{})
	} else {
		b = b.Owns(&gatewayv1.HTTPRoute{})
	}
	if src := clock.WakeSource(r.Clock, mgr.GetClient(), func() client.ObjectList { return &v1.SubscriptionList{} }); src != nil {
		b = b.WatchesRawSource(src)
	}
	return b.Complete(r)
}

// Reconcile runs get → finalizer → one deferred status patch → deletion or
// the phases.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	sub := &v1.Subscription{}
	if err := r.Client.Get(ctx, req.NamespacedName, sub); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("subscription", klog.KObj(sub)))

	if sub.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(sub, v1.Finalizer) {
		patch := client.MergeFrom(sub.DeepCopy())
		controllerutil.AddFinalizer(sub, v1.Finalizer)
		if err := r.Client.Patch(ctx, sub, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer: %w", err)
		}
	}

	s := &scope{sub: sub, old: sub.Status.DeepCopy(), now: r.Clock.Now()}
	defer func() {
		if err := r.patchStatus(ctx, s); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()

	if !sub.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}

	phases := []func(context.Context, *scope) (ctrl.Result, error){
		r.resolveAccount,
		r.resolveSpec,
		r.computeLifecycle,
		r.recordFacts,
		r.applyQuota,
		r.applySuspendedPlumbing,
		r.reconcileSite,
		r.observe,
	}
	for _, phase := range phases {
		pr, err := phase(ctx, s)
		res = lowest(res, pr)
		if err != nil {
			return res, err
		}
		if s.stop {
			break
		}
	}
	return res, nil
}

// reconcileDelete removes the site at once, whatever the phase, as
// termination does, and lets the Subscription go.
func (r *Reconciler) reconcileDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(s.sub, v1.Finalizer) {
		return ctrl.Result{}, nil
	}
	if _, err := r.resolveAccount(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.removeSite(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	// The quota goes with a namespace being deleted: re-applying it there
	// would be refused (no new content in a terminating namespace) whenever
	// the namespace controller removed it first, and the account would
	// never finish deleting.
	if s.account != nil && !s.namespaceGoing {
		if _, err := r.applyQuota(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
	}
	patch := client.MergeFrom(s.sub.DeepCopy())
	controllerutil.RemoveFinalizer(s.sub, v1.Finalizer)
	if err := r.Client.Patch(ctx, s.sub, patch); err != nil {
		return ctrl.Result{}, fmt.Errorf("removing the finalizer: %w", err)
	}
	s.gone = true
	return ctrl.Result{}, nil
}

// patchStatus writes the status computed in this reconcile, once, if it
// changed, and records an Event when the phase changed.
func (r *Reconciler) patchStatus(ctx context.Context, s *scope) error {
	if s.gone || !s.statusComputed {
		return nil
	}
	s.sub.Status.ObservedGeneration = s.sub.Generation
	if equality.Semantic.DeepEqual(*s.old, s.sub.Status) {
		return nil
	}
	base := s.sub.DeepCopy()
	base.Status = *s.old
	if err := r.Client.Status().Patch(ctx, s.sub, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("patching the status: %w", err)
	}
	if p := s.sub.Status.Phase; p != s.old.Phase && p != "" {
		kind := corev1.EventTypeNormal
		switch p {
		case v1.PhasePastDue, v1.PhaseSuspended, v1.PhaseCancelled, v1.PhaseTerminated, v1.PhasePending:
			kind = corev1.EventTypeWarning
		}
		note := fmt.Sprintf("phase %s (was %s)", p, orNone(s.old.Phase))
		if c := readyCondition(s.sub); c != nil && c.Message != "" {
			note += ": " + c.Message
		}
		r.Recorder.Eventf(s.sub, nil, kind, string(p), "PhaseChange", "%s", truncate(note, 1000))
	}
	return nil
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

// lowest combines phase results: the earliest requeue wins.
func lowest(a, b ctrl.Result) ctrl.Result {
	if b.RequeueAfter > 0 && (a.RequeueAfter == 0 || b.RequeueAfter < a.RequeueAfter) {
		a.RequeueAfter = b.RequeueAfter
	}
	return a
}

// untilNext is the requeue for a deadline (a little after, so that the
// deadline has passed when the reconcile runs).
func untilNext(now time.Time, next *time.Time) ctrl.Result {
	if next == nil {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: next.Sub(now) + 100*time.Millisecond}
}
