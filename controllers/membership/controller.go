// Package membership reconciles Memberships: each becomes a RoleBinding to
// its role's tenant ClusterRole (the read-only role while the account is
// suspended) in the account namespace and in every site namespace of the
// account. The bindings are removed when the membership expires, is a
// duplicate, its account is gone, or it is deleted: whether or not
// Landlord's finalizer is still on it, and also once it is gone (the
// account namespace's binding is also owned by the Membership). Site
// namespaces' bindings carry no owner reference (cross-namespace owners are
// invalid): the account and membership labels identify them, and Landlord
// deletes or changes no binding whose labels do not name the membership.
package membership

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/index"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/rbacbind"
	"github.com/landlord-dev/landlord/internal/tenancy"
)

// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=memberships,verbs=get;list;watch;update;patch;manage-owners
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=memberships/finalizers,verbs=update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=memberships/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=accounts,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=landlord-tenant-owner;landlord-tenant-admin;landlord-tenant-developer;landlord-tenant-editor;landlord-tenant-billing;landlord-tenant-viewer;landlord-tenant-support;landlord-tenant-suspended
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
	// boundTo is the ClusterRole the bindings were applied with ("" = no binding).
	boundTo string
	// gone: the membership is being deleted; no status is written.
	gone bool
	// refused says why a Support membership grants nothing (reason, message).
	refused, refusedMsg string
}

// Reconcile binds one Membership's subject to its role in the account
// namespace and every site namespace of the account, or removes the bindings.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("membership", klog.KRef(req.Namespace, req.Name)))
	m := &hostingv1alpha1.Membership{}
	if err := r.Get(ctx, req.NamespacedName, m); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading membership %s: %w", req.NamespacedName, err)
		}
		// Bindings left behind by a membership that is gone (a binding's
		// event maps here when no membership carries its label).
		return ctrl.Result{}, r.removeBindings(ctx, req.Namespace, req.Name, nil)
	}
	if kernel.Behind(m) {
		return kernel.CatchUp(), nil // the cache has not seen Landlord's last write yet
	}

	p := kernel.NewPatcher(r.Client, m)
	s := &scope{membership: m}
	defer func() {
		if s.gone {
			// Written only when the deletion cannot finish (retErr says
			// why) or finalizers of others hold the membership.
			if retErr == nil && !kernel.SetDeletionStatus(m, "its RoleBindings in the account namespace and every site namespace") {
				return
			}
			if _, err := p.Patch(ctx, m, retErr); err != nil {
				retErr = errors.Join(retErr, err)
			}
			return
		}
		setStatus(s) // dropped by the patch helper while paused
		if _, err := p.Patch(ctx, m, retErr); err != nil {
			retErr = errors.Join(retErr, err)
			return
		}
		r.recordTransitions(p.Before().(*hostingv1alpha1.Membership), m, s.account)
	}()
	if kernel.Paused(m) {
		return ctrl.Result{}, nil
	}
	if !m.DeletionTimestamp.IsZero() {
		s.gone = true
		return ctrl.Result{}, r.reconcileDelete(ctx, m)
	}
	if err := kernel.EnsureFinalizer(ctx, r.Client, m); err != nil {
		return ctrl.Result{}, err
	}

	if err := r.resolveAccount(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.resolveDuplicate(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	now := r.Clock.Now()
	s.expired = expired(m, now)
	s.refused, s.refusedMsg = supportRefusal(m, r.Config, now)
	if err := r.reconcileBindings(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: nextDeadline(s, now)}, nil
}

// reconcileDelete removes the membership's bindings in every namespace,
// whether or not Landlord's finalizer is still on it, then lets the
// Membership go.
func (r *Reconciler) reconcileDelete(ctx context.Context, m *hostingv1alpha1.Membership) error {
	return kernel.Finalize(ctx, r.Client, m, func(ctx context.Context) error {
		return r.removeBindings(ctx, m.Namespace, m.Name, nil)
	})
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
	// A Support membership that grants nothing (another group, too long)
	// does not make a valid one a duplicate.
	now := r.Clock.Now()
	live := all.Items[:0]
	for _, o := range all.Items {
		if reason, _ := supportRefusal(&o, r.Config, now); reason == "" {
			live = append(live, o)
		}
	}
	s.duplicateOf = duplicateOf(s.membership, live, now)
	return nil
}

// bound: the membership should grant its role.
func (s *scope) bound() bool {
	return s.account != nil && s.account.DeletionTimestamp.IsZero() && !s.expired && s.duplicateOf == nil && s.refused == ""
}

// reconcileBindings applies the membership's RoleBinding in the account
// namespace and in every site namespace of the account when it should grant
// its role, and deletes its other bindings (all of them otherwise).
func (r *Reconciler) reconcileBindings(ctx context.Context, s *scope) error {
	m := s.membership
	want := map[string]*rbacv1ac.RoleBindingApplyConfiguration{}
	if s.bound() {
		nss := &corev1.NamespaceList{}
		if err := r.List(ctx, nss, index.NamespacesOf(s.account.Name)); err != nil {
			return fmt.Errorf("listing the namespaces of account %s: %w", s.account.Name, err)
		}
		suspended := s.account.Spec.Suspension != nil
		want[m.Namespace] = tenancy.BuildMemberBinding(m, s.account.Name, suspended)
		for _, t := range siteTargets(r.Config, s.account.Name, nss.Items) {
			want[t.Namespace] = tenancy.BuildSiteMemberBinding(m, t, suspended)
		}
	}
	var errs []error
	for _, ns := range slices.Sorted(maps.Keys(want)) {
		if err := rbacbind.Apply(ctx, r.Client, want[ns]); err != nil {
			errs = append(errs, fmt.Errorf("binding membership %s/%s in %s: %w", m.Namespace, m.Name, ns, err))
			continue
		}
		s.boundTo = tenancy.RoleRefOf(want[ns])
	}
	if err := r.removeBindings(ctx, m.Namespace, m.Name, want); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeBindings deletes the bindings of the membership name of the account
// namespace namespace, in every namespace but those of keep: the bindings
// whose labels name that membership and the account whose namespace that is.
// A binding of the membership's binding name that is not labelled for it is
// never touched (a Membership created in a site namespace must not delete a
// real member's binding there), and a namespace that is no account's
// namespace has no bindings of its memberships.
func (r *Reconciler) removeBindings(ctx context.Context, namespace, name string, keep map[string]*rbacv1ac.RoleBindingApplyConfiguration) error {
	account, ok := r.Config.AccountOfNamespaceName(namespace)
	if !ok {
		return nil
	}
	list := &rbacv1.RoleBindingList{}
	if err := r.List(ctx, list, index.BindingsOf(account, tenancy.MembershipLabelValue(name))); err != nil {
		return fmt.Errorf("listing the bindings of membership %s/%s: %w", namespace, name, err)
	}
	want := map[string]string{hostingv1alpha1.AccountLabel: account, hostingv1alpha1.MembershipLabel: tenancy.MembershipLabelValue(name)}
	var errs []error
	for _, rb := range bindingsOf(r.Config, namespace, name, list.Items) {
		if _, ok := keep[rb.Namespace]; ok {
			continue
		}
		if err := rbacbind.Delete(ctx, r.Client, &rb, want); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SetupWithManager registers the controller: Memberships, their
// RoleBindings (by the membership label), the other Memberships of the
// namespace (duplicates), the Account (suspension), the account's
// namespaces (a new site is bound at once), and the clock (expiry in tests).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := ctrl.NewControllerManagedBy(mgr).
		For(&hostingv1alpha1.Membership{}).
		Watches(&rbacv1.RoleBinding{}, handler.EnqueueRequestsFromMapFunc(r.membershipOfBinding),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
				return o.GetLabels()[hostingv1alpha1.MembershipLabel] != ""
			}))).
		Watches(&hostingv1alpha1.Membership{}, handler.EnqueueRequestsFromMapFunc(r.membershipsOfNamespace),
			builder.WithPredicates(subjectOrLifecycleChanged())).
		Watches(&hostingv1alpha1.Account{}, handler.EnqueueRequestsFromMapFunc(r.membershipsOfAccount)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.membershipsOfSite),
			builder.WithPredicates(labelsOrLifecycleChanged())).
		Named("membership")
	if src := clock.WakeSource(r.Clock, mgr.GetClient(), func() client.ObjectList { return &hostingv1alpha1.MembershipList{} }); src != nil {
		b = b.WatchesRawSource(src)
	}
	return b.Complete(r)
}

// membershipOfBinding maps a membership's RoleBinding to its Membership: the
// one of the binding's account whose label value it carries, else (the
// membership is gone) a request under the label value, whose reconcile
// removes the bindings left behind.
func (r *Reconciler) membershipOfBinding(ctx context.Context, o client.Object) []reconcile.Request {
	value, account := o.GetLabels()[hostingv1alpha1.MembershipLabel], o.GetLabels()[hostingv1alpha1.AccountLabel]
	if value == "" || account == "" {
		return nil
	}
	namespace := r.Config.AccountNamespace(account)
	list := &hostingv1alpha1.MembershipList{}
	if err := r.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	for _, m := range list.Items {
		if tenancy.MembershipLabelValue(m.Name) == value {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: namespace, Name: m.Name}}}
		}
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: namespace, Name: value}}}
}

// membershipsOfSite maps an account's namespace to the account's memberships.
func (r *Reconciler) membershipsOfSite(ctx context.Context, o client.Object) []reconcile.Request {
	account := platform.AccountOfNamespace(o.GetLabels())
	if account == "" {
		return nil
	}
	return r.listRequests(ctx, r.Config.AccountNamespace(account))
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

// recordTransitions emits an Event when the Ready reason changes (not for
// a new membership bound at once); for a
// Support membership, the grant and the end of support access are also
// Events on the Account (the customer's consent, visible where the account is).
func (r *Reconciler) recordTransitions(before, after *hostingv1alpha1.Membership, acct *hostingv1alpha1.Account) {
	if after.Spec.Role == hostingv1alpha1.RoleSupport && acct != nil {
		old := meta.FindStatusCondition(before.Status.Conditions, hostingv1alpha1.ConditionReady)
		cur := meta.FindStatusCondition(after.Status.Conditions, hostingv1alpha1.ConditionReady)
		if cur != nil && (old == nil || old.Reason != cur.Reason) {
			switch cur.Reason {
			case hostingv1alpha1.ReasonReconciled:
				r.Recorder.Eventf(acct, after, corev1.EventTypeNormal, "SupportAccessGranted", "Grant",
					"support access for %s %s (read, logs, exec on the sites) until %s, consented by Membership %s/%s",
					after.Spec.Subject.Kind, after.Spec.Subject.Name, after.Spec.ExpiresAt.UTC().Format(time.RFC3339), after.Namespace, after.Name)
			case hostingv1alpha1.ReasonExpired:
				r.Recorder.Eventf(acct, after, corev1.EventTypeNormal, "SupportAccessExpired", "Revoke",
					"support access for %s %s ended at %s (Membership %s/%s)",
					after.Spec.Subject.Kind, after.Spec.Subject.Name, after.Spec.ExpiresAt.UTC().Format(time.RFC3339), after.Namespace, after.Name)
			}
		}
	}
	old := meta.FindStatusCondition(before.Status.Conditions, hostingv1alpha1.ConditionReady)
	cur := meta.FindStatusCondition(after.Status.Conditions, hostingv1alpha1.ConditionReady)
	if cur == nil || (old != nil && old.Reason == cur.Reason) {
		return
	}
	if old == nil && cur.Reason == hostingv1alpha1.ReasonReconciled {
		return // a new membership bound at once: its Ready condition says so, no Event write
	}
	typ := corev1.EventTypeNormal
	if cur.Reason == hostingv1alpha1.ReasonNoAccount || cur.Reason == hostingv1alpha1.ReasonDuplicateSubject ||
		cur.Reason == hostingv1alpha1.ReasonNotSupportGroup || cur.Reason == hostingv1alpha1.ReasonSupportTooLong {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(after, nil, typ, cur.Reason, "Bind", "%s", cur.Message)
}
