// Package account reconciles Accounts: the account namespace with its guard
// rails and the owner's RoleBinding, the account's status, suspension, and a
// confirmed deletion that removes the namespace and releases domain claims.
package account

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"k8s.io/client-go/tools/events"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
)

// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=accounts,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=accounts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=accounts/finalizers,verbs=update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=subscriptions;memberships,verbs=get;list;watch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=domainclaims,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=resourcequotas,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=landlord-tenant-owner;landlord-tenant-admin;landlord-tenant-developer;landlord-tenant-editor;landlord-tenant-billing;landlord-tenant-viewer;landlord-tenant-suspended
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler reconciles Accounts.
type Reconciler struct {
	client.Client
	// APIReader reads past the cache: a namespace without Landlord's labels
	// (one it may not adopt) is invisible to the cached client.
	APIReader client.Reader
	Config    platform.Config
	Clock     clock.Clock
	Recorder  events.EventRecorder
}

// scope is what one reconcile observed and did.
type scope struct {
	account *hostingv1alpha1.Account
	// namespace is the account namespace's name, and nsState what became of it.
	namespace string
	nsState   namespaceState
	// guardRails: the NetworkPolicy and ResourceQuota are applied.
	guardRails bool
	// ownerBound: the owner's RoleBinding is applied.
	ownerBound bool
	counts     hostingv1alpha1.SubscriptionCounts
	members    int32
	// gone: the finalizer was removed; the account no longer exists.
	gone bool
}

// Stopped ends the phases when the namespace is not the account's to set up
// (another's, or being deleted).
func (s *scope) Stopped() bool { return s.nsState == nsNotOwned || s.nsState == nsTerminating }

type namespaceState int

const (
	nsUnknown namespaceState = iota
	nsReady
	nsNotOwned
	nsTerminating
)

// Reconcile runs get → one deferred status patch → paused? → deletion, or
// finalizer and the phases (kernel).
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("account", klog.KRef("", req.Name)))
	acct := &hostingv1alpha1.Account{}
	if err := r.Get(ctx, req.NamespacedName, acct); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if kernel.Behind(acct) {
		return kernel.CatchUp(), nil // the cache has not seen Landlord's last write yet
	}
	p := kernel.NewPatcher(r.Client, acct)
	s := &scope{account: acct, namespace: r.Config.AccountNamespace(acct.Name)}
	defer func() {
		if s.gone {
			return
		}
		setStatus(s) // dropped by the patch helper while paused
		if _, err := p.Patch(ctx, acct, retErr); err != nil {
			retErr = errors.Join(retErr, err)
			return
		}
		r.recordTransitions(p.Before().(*hostingv1alpha1.Account), acct)
	}()

	if kernel.Paused(acct) {
		return ctrl.Result{}, nil
	}
	if !acct.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}
	if err := kernel.EnsureFinalizer(ctx, r.Client, acct); err != nil {
		return ctrl.Result{}, err
	}
	return kernel.Run(ctx, s, r.reconcileNamespace, r.reconcileGuardRails, r.reconcileOwnerBinding, r.observeTenants)
}

// SetupWithManager registers the controller: Accounts, the objects they own,
// and the Memberships and Subscriptions of account namespaces (for counts).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&hostingv1alpha1.Account{}).
		// Not Owns: a namespace being labelled for adoption has no owner yet.
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(accountOfNamespaceObject)).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&corev1.ResourceQuota{}, builder.WithPredicates(kernel.IgnoreStatusOnly())).
		Owns(&rbacv1.RoleBinding{}).
		Watches(&hostingv1alpha1.Membership{}, r.countsOf(memberCountMayMove, nil)).
		Watches(&hostingv1alpha1.Subscription{}, r.countsOf(phaseMayMove, reportsPhase)).
		Named("account").
		Complete(r)
}

// accountOfNamespaceObject maps an account namespace to its Account: the one
// its label names and the one controlling it (they differ only when the
// label was changed by hand).
func accountOfNamespaceObject(_ context.Context, o client.Object) []reconcile.Request {
	var reqs []reconcile.Request
	if name := platform.AccountOfNamespace(o.GetLabels()); name != "" {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
	}
	if ref := metav1.GetControllerOf(o); ref != nil && ref.Kind == "Account" && ref.APIVersion == hostingv1alpha1.GroupVersion.String() &&
		(len(reqs) == 0 || reqs[0].Name != ref.Name) {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: ref.Name}})
	}
	return reqs
}

// accountOfNamespace maps an object in an account namespace to its Account,
// by the namespace's account label.
func (r *Reconciler) accountOfNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: o.GetNamespace()}, ns); err != nil {
		return nil
	}
	if name := platform.AccountOfNamespace(ns.Labels); name != "" {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
	}
	return nil
}

// countsOf enqueues the account of a subscription or membership whose count
// may have moved: not for the status writes that leave its phase alone, nor
// for the create of one that counted (when set) says is not counted yet.
// (Batching the counts for 5 s was measured — 2.25 Account status writes per
// tenant instead of ~3 — and dropped: the crash-point and idle tests take a
// tenant as settled after ~1 s without writes, and a delayed count write
// came after that.)
func (r *Reconciler) countsOf(moved func(old, cur client.Object) bool, counted func(client.Object) bool) handler.EventHandler {
	add := func(ctx context.Context, o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		for _, req := range r.accountOfNamespace(ctx, o) {
			q.Add(req)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if counted == nil || counted(e.Object) {
				add(ctx, e.Object, q)
			}
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if moved(e.ObjectOld, e.ObjectNew) {
				add(ctx, e.ObjectNew, q)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(ctx, e.Object, q)
		},
	}
}

// phaseMayMove: the counts are by the phase a subscription reports.
func phaseMayMove(old, cur client.Object) bool {
	o, okOld := old.(*hostingv1alpha1.Subscription)
	n, okNew := cur.(*hostingv1alpha1.Subscription)
	return !okOld || !okNew || o.Status.Phase != n.Status.Phase || !o.DeletionTimestamp.Equal(n.DeletionTimestamp)
}

// reportsPhase: a subscription is counted once it reports a phase
// (countSubscriptions); its create before that moves no count.
func reportsPhase(o client.Object) bool {
	sub, ok := o.(*hostingv1alpha1.Subscription)
	return !ok || sub.Status.Phase != ""
}

// memberCountMayMove: members are counted by subject and expiry (spec),
// deletion, and the clock (a membership reports its expiry as its phase).
func memberCountMayMove(old, cur client.Object) bool {
	o, okOld := old.(*hostingv1alpha1.Membership)
	n, okNew := cur.(*hostingv1alpha1.Membership)
	return !okOld || !okNew || o.Generation != n.Generation || o.Status.Phase != n.Status.Phase ||
		!o.DeletionTimestamp.Equal(n.DeletionTimestamp)
}
