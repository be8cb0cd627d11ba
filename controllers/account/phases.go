package account

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/rbacbind"
	"github.com/landlord-dev/landlord/internal/tenancy"
)

// terminatingRetry is how often a terminating namespace is looked at again;
// its deletion event normally comes first.
const terminatingRetry = 5 * time.Second

// getNamespace reads the account namespace: from the cache when Landlord
// labels it, else from the API server. found is false when it does not exist.
func (r *Reconciler) getNamespace(ctx context.Context, name string) (ns *corev1.Namespace, found bool, err error) {
	ns = &corev1.Namespace{}
	key := types.NamespacedName{Name: name}
	err = r.Get(ctx, key, ns)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, ns)
	}
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading namespace %s: %w", name, err)
	}
	return ns, true, nil
}

// ownsNamespace: Landlord may manage ns for acct when it carries the
// account label with acct's name, or is already controlled by acct (a
// hand-deleted label is repaired, not a reason to let go).
func ownsNamespace(acct *hostingv1alpha1.Account, ns *corev1.Namespace) bool {
	return platform.AccountOfNamespace(ns.Labels) == acct.Name || metav1.IsControlledBy(ns, acct)
}

// reconcileNamespace creates or adopts the account namespace and keeps its
// labels; a namespace of that name it may not adopt is left untouched.
func (r *Reconciler) reconcileNamespace(ctx context.Context, s *scope) (ctrl.Result, error) {
	ns, found, err := r.getNamespace(ctx, s.namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	switch {
	case found && !ownsNamespace(s.account, ns):
		s.nsState = nsNotOwned
		return ctrl.Result{}, nil
	case found && !ns.DeletionTimestamp.IsZero():
		s.nsState = nsTerminating
		return ctrl.Result{RequeueAfter: terminatingRetry}, nil
	}
	if _, err := kernel.Apply(ctx, r.Client, nil, tenancy.BuildNamespace(s.account, r.Config)); err != nil {
		return ctrl.Result{}, err
	}
	s.nsState = nsReady
	return ctrl.Result{}, nil
}

// reconcileGuardRails applies the default-deny NetworkPolicy and the
// ResourceQuota that keeps workloads out of the account namespace (sites run
// in their own namespaces).
func (r *Reconciler) reconcileGuardRails(ctx context.Context, s *scope) (ctrl.Result, error) {
	if _, err := kernel.Apply(ctx, r.Client, nil, tenancy.BuildNetworkPolicy(s.account, r.Config)); err != nil {
		return ctrl.Result{}, fmt.Errorf("applying the NetworkPolicy of account %s: %w", s.account.Name, err)
	}
	if _, err := kernel.Apply(ctx, r.Client, nil, tenancy.BuildAccountQuota(s.account, r.Config)); err != nil {
		return ctrl.Result{}, fmt.Errorf("applying the ResourceQuota of account %s: %w", s.account.Name, err)
	}
	s.guardRails = true
	return ctrl.Result{}, nil
}

// reconcileOwnerBinding gives spec.owner the Owner role, or the read-only
// role while the account is suspended.
func (r *Reconciler) reconcileOwnerBinding(ctx context.Context, s *scope) (ctrl.Result, error) {
	if err := rbacbind.Apply(ctx, r.Client, tenancy.BuildOwnerBinding(s.account, r.Config)); err != nil {
		return ctrl.Result{}, fmt.Errorf("binding the owner of account %s: %w", s.account.Name, err)
	}
	s.ownerBound = true
	return ctrl.Result{}, nil
}

// observeTenants counts the account's subscriptions by phase and its members.
func (r *Reconciler) observeTenants(ctx context.Context, s *scope) (ctrl.Result, error) {
	subs := &hostingv1alpha1.SubscriptionList{}
	if err := r.List(ctx, subs, client.InNamespace(s.namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the subscriptions of account %s: %w", s.account.Name, err)
	}
	s.counts = countSubscriptions(subs.Items)
	members := &hostingv1alpha1.MembershipList{}
	if err := r.List(ctx, members, client.InNamespace(s.namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the memberships of account %s: %w", s.account.Name, err)
	}
	s.members = countMembers(members.Items, r.Clock.Now())
	return ctrl.Result{}, nil
}

// countSubscriptions counts subscriptions by their reported phase. One that
// reports none yet (not reconciled) is not counted: it is counted once its
// first phase is written, which wakes the account (phaseMayMove), so a new
// subscription costs the account one count write, not two.
func countSubscriptions(subs []hostingv1alpha1.Subscription) hostingv1alpha1.SubscriptionCounts {
	var c hostingv1alpha1.SubscriptionCounts
	for _, s := range subs {
		switch s.Status.Phase {
		case "":
		case hostingv1alpha1.PhaseTrialing:
			c.Trialing++
		case hostingv1alpha1.PhaseActive:
			c.Active++
		case hostingv1alpha1.PhasePastDue:
			c.PastDue++
		case hostingv1alpha1.PhaseSuspended:
			c.Suspended++
		case hostingv1alpha1.PhaseCancelled:
			c.Cancelled++
		case hostingv1alpha1.PhaseTerminated:
			c.Terminated++
		default:
			c.Pending++
		}
	}
	return c
}

// countMembers counts the distinct subjects of the memberships that have not
// expired at now (duplicates count once).
func countMembers(ms []hostingv1alpha1.Membership, now time.Time) int32 {
	seen := map[hostingv1alpha1.Subject]bool{}
	for _, m := range ms {
		if !m.DeletionTimestamp.IsZero() || (m.Spec.ExpiresAt != nil && !now.Before(m.Spec.ExpiresAt.Time)) {
			continue
		}
		seen[m.Spec.Subject] = true
	}
	return int32(len(seen))
}
