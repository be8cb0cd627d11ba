// Package membership reconciles Memberships: each becomes a RoleBinding in
// the account namespace to its role's tenant ClusterRole (the read-only role
// while the account is suspended), removed when the membership expires, is a
// duplicate, or is deleted (owner-reference garbage collection).
package membership

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/rbacbind"
	"github.com/landlord-dev/landlord/internal/tenancy"
)

// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=memberships,verbs=get;list;watch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=memberships/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=accounts,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=landlord-tenant-owner;landlord-tenant-admin;landlord-tenant-developer;landlord-tenant-editor;landlord-tenant-billing;landlord-tenant-viewer;landlord-tenant-suspended
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler reconciles Memberships.
type Reconciler struct {
	client.Client
	Clock    clock.Clock
	Config   platform.Config
	Recorder events.EventRecorder
}

// scope is what one reconcile observed and decided.
type scope struct {
	membership *hostingv1alpha1.Membership
	// account is the Account of the membership's namespace, nil if none.
	account *hostingv1alpha1.Account
	expired bool
	// duplicateOf is the older membership of the same subject, if any.
	duplicateOf *hostingv1alpha1.Membership
	// boundTo is the ClusterRole the binding was applied with ("" = no binding).
	boundTo string
}

// Reconcile binds one Membership's subject to its role, or removes the binding.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("membership", klog.KRef(req.Namespace, req.Name)))
	m := &hostingv1alpha1.Membership{}
	if err := r.Get(ctx, req.NamespacedName, m); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !m.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the binding goes with it (owner reference)
	}

	p := kernel.NewPatcher(r.Client, m)
	s := &scope{membership: m}
	defer func() {
		setStatus(s) // dropped by the patch helper while paused
		if _, err := p.Patch(ctx, m, retErr); err != nil {
			retErr = errors.Join(retErr, err)
			return
		}
		r.recordTransitions(p.Before().(*hostingv1alpha1.Membership), m)
	}()
	if kernel.Paused(m) {
		return ctrl.Result{}, nil
	}

	if err := r.resolveAccount(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.resolveDuplicate(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	now := r.Clock.Now()
	s.expired = expired(m, now)
	if err := r.reconcileBinding(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: nextDeadline(s, now)}, nil
}

// resolveAccount finds the Account of the membership's namespace, by the
// namespace's account label (never a field of the membership).
func (r *Reconciler) resolveAccount(ctx context.Context, s *scope) error {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: s.membership.Namespace}, ns); err != nil {
		// Namespaces without Landlord's labels are not in the cache: no account.
		return client.IgnoreNotFound(err)
	}
	name := platform.AccountOfNamespace(ns.Labels)
	if name == "" || r.Config.AccountNamespace(name) != ns.Name {
		return nil
	}
	acct := &hostingv1alpha1.Account{}
	if err := r.Get(ctx, types.NamespacedName{Name: name}, acct); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading account %s: %w", name, err)
	}
	s.account = acct
	return nil
}

// resolveDuplicate finds an older live membership of the same subject.
func (r *Reconciler) resolveDuplicate(ctx context.Context, s *scope) error {
	if s.account == nil {
		return nil
	}
	all := &hostingv1alpha1.MembershipList{}
	if err := r.List(ctx, all, client.InNamespace(s.membership.Namespace)); err != nil {
		return fmt.Errorf("listing memberships in %s: %w", s.membership.Namespace, err)
	}
	s.duplicateOf = duplicateOf(s.membership, all.Items, r.Clock.Now())
	return nil
}

// reconcileBinding applies the membership's RoleBinding when it should have
// one, and deletes it otherwise.
func (r *Reconciler) reconcileBinding(ctx context.Context, s *scope) error {
	m := s.membership
	bindingName := platform.MembershipBindingName(m.Name)
	if s.account == nil || s.expired || s.duplicateOf != nil || !s.account.DeletionTimestamp.IsZero() {
		return r.deleteBinding(ctx, m.Namespace, bindingName)
	}
	rb := tenancy.BuildMemberBinding(m, s.account.Name, s.account.Spec.Suspension != nil)
	if err := rbacbind.Apply(ctx, r.Client, rb); err != nil {
		return fmt.Errorf("binding membership %s/%s: %w", m.Namespace, m.Name, err)
	}
	s.boundTo = tenancy.RoleRefOf(rb)
	return nil
}

// deleteBinding deletes the binding if the cache still knows it.
func (r *Reconciler) deleteBinding(ctx context.Context, namespace, name string) error {
	_, err := kernel.Delete(ctx, r.Client, nil, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}})
	return err
}

// SetupWithManager registers the controller: Memberships, their
// RoleBindings, the other Memberships of the namespace (duplicates), the
// Account (suspension), and the clock (expiry in tests).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := ctrl.NewControllerManagedBy(mgr).
		For(&hostingv1alpha1.Membership{}).
		Owns(&rbacv1.RoleBinding{}).
		Watches(&hostingv1alpha1.Membership{}, handler.EnqueueRequestsFromMapFunc(r.membershipsOfNamespace),
			builder.WithPredicates(subjectOrLifecycleChanged())).
		Watches(&hostingv1alpha1.Account{}, handler.EnqueueRequestsFromMapFunc(r.membershipsOfAccount)).
		Named("membership")
	if src := clock.WakeSource(r.Clock, mgr.GetClient(), func() client.ObjectList { return &hostingv1alpha1.MembershipList{} }); src != nil {
		b = b.WatchesRawSource(src)
	}
	return b.Complete(r)
}

func (r *Reconciler) membershipsOfNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	return r.listRequests(ctx, o.GetNamespace())
}

func (r *Reconciler) membershipsOfAccount(ctx context.Context, o client.Object) []reconcile.Request {
	return r.listRequests(ctx, r.Config.AccountNamespace(o.GetName()))
}

func (r *Reconciler) listRequests(ctx context.Context, namespace string) []reconcile.Request {
	list := &hostingv1alpha1.MembershipList{}
	if err := r.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, m := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: m.Namespace, Name: m.Name}})
	}
	return reqs
}

// recordTransitions emits an Event when the Ready reason changes.
func (r *Reconciler) recordTransitions(before, after *hostingv1alpha1.Membership) {
	old := meta.FindStatusCondition(before.Status.Conditions, hostingv1alpha1.ConditionReady)
	cur := meta.FindStatusCondition(after.Status.Conditions, hostingv1alpha1.ConditionReady)
	if cur == nil || (old != nil && old.Reason == cur.Reason) {
		return
	}
	typ := corev1.EventTypeNormal
	if cur.Reason == hostingv1alpha1.ReasonNoAccount || cur.Reason == hostingv1alpha1.ReasonDuplicateSubject {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(after, nil, typ, cur.Reason, "Bind", "%s", cur.Message)
}
