package membership

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
)

// siteTargets are account's site namespaces among nss, sorted by name:
// labelled with the account and a subscription, named as that site's
// namespace (a namespace labelled by hand cannot pose as another account's
// site), and not terminating.
func siteTargets(cfg platform.Config, account string, nss []corev1.Namespace) []tenancy.Target {
	var out []tenancy.Target
	for i := range nss {
		ns := &nss[i]
		a, sub := platform.SiteOfNamespace(ns.Labels)
		if a != account || cfg.SiteNamespace(a, sub) != ns.Name ||
			!ns.DeletionTimestamp.IsZero() || ns.Status.Phase == corev1.NamespaceTerminating {
			continue
		}
		out = append(out, tenancy.SiteTarget(a, sub, cfg))
	}
	slices.SortFunc(out, func(a, b tenancy.Target) int { return strings.Compare(a.Namespace, b.Namespace) })
	return out
}

// bindingsOf are the RoleBindings among rbs that belong to the membership
// name of the account namespace namespace: labelled with its membership
// label value and an account whose namespace that is.
func bindingsOf(cfg platform.Config, namespace, name string, rbs []rbacv1.RoleBinding) []rbacv1.RoleBinding {
	var out []rbacv1.RoleBinding
	for _, rb := range rbs {
		account := rb.Labels[hostingv1alpha1.AccountLabel]
		if account == "" || cfg.AccountNamespace(account) != namespace ||
			rb.Labels[hostingv1alpha1.MembershipLabel] != tenancy.MembershipLabelValue(name) {
			continue
		}
		out = append(out, rb)
	}
	return out
}

// expired: spec.expiresAt has passed at now.
func expired(m *hostingv1alpha1.Membership, now time.Time) bool {
	return m.Spec.ExpiresAt != nil && !now.Before(m.Spec.ExpiresAt.Time)
}

// nextDeadline is how long until this membership's binding must change
// again by itself: its own expiry, or the expiry of the older membership it
// duplicates (then this one takes over). Zero means no deadline.
func nextDeadline(s *scope, now time.Time) time.Duration {
	var next time.Duration
	for _, m := range []*hostingv1alpha1.Membership{s.membership, s.duplicateOf} {
		if m == nil || m.Spec.ExpiresAt == nil || expired(m, now) {
			continue
		}
		if d := m.Spec.ExpiresAt.Sub(now); next == 0 || d < next {
			next = d
		}
	}
	return next
}

// older orders memberships by age: creation time, then name.
func older(a, b *hostingv1alpha1.Membership) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// duplicateOf returns the oldest other live (not expired, not deleted)
// membership of m's subject among all when it is older than m, else nil: of
// several memberships of one subject, only the oldest is bound.
func duplicateOf(m *hostingv1alpha1.Membership, all []hostingv1alpha1.Membership, now time.Time) *hostingv1alpha1.Membership {
	var oldest *hostingv1alpha1.Membership
	for i := range all {
		o := &all[i]
		if o.UID == m.UID || o.Name == m.Name || o.Spec.Subject != m.Spec.Subject ||
			!o.DeletionTimestamp.IsZero() || expired(o, now) {
			continue
		}
		if older(o, m) && (oldest == nil || older(o, oldest)) {
			oldest = o
		}
	}
	return oldest
}

// setStatus computes the membership's status from this reconcile's observations.
func setStatus(s *scope) {
	m := s.membership
	m.Status.Phase = hostingv1alpha1.MembershipActive
	ready, reason, msg := readiness(s)
	if s.expired {
		m.Status.Phase = hostingv1alpha1.MembershipExpired
	}
	kernel.SetCondition(m, hostingv1alpha1.ConditionReady, ready, reason, msg)
}

func readiness(s *scope) (ready bool, reason, msg string) {
	m := s.membership
	subj := fmt.Sprintf("%s %s", m.Spec.Subject.Kind, m.Spec.Subject.Name)
	switch {
	case s.account == nil:
		return false, hostingv1alpha1.ReasonNoAccount, fmt.Sprintf(
			"namespace %s belongs to no Account; memberships only work in an account namespace: no access was granted", m.Namespace)
	case !s.account.DeletionTimestamp.IsZero():
		return false, hostingv1alpha1.ReasonDeleting, fmt.Sprintf("account %s is being deleted", s.account.Name)
	case s.expired:
		return false, hostingv1alpha1.ReasonExpired, fmt.Sprintf(
			"the membership expired at %s; %s's access was removed", m.Spec.ExpiresAt.UTC().Format(time.RFC3339), subj)
	case s.refused != "":
		return false, s.refused, s.refusedMsg
	case s.duplicateOf != nil:
		return false, hostingv1alpha1.ReasonDuplicateSubject, fmt.Sprintf(
			"%s is already a member through the older membership %s (role %s); delete one of them, this one grants nothing",
			subj, s.duplicateOf.Name, s.duplicateOf.Spec.Role)
	case s.account.Spec.Suspension != nil:
		return false, hostingv1alpha1.ReasonAccountSuspended, fmt.Sprintf(
			"account %s is suspended (%s): %s is bound to the read-only role %s, in the account namespace and every site namespace of the account, until it is lifted",
			s.account.Name, s.account.Spec.Suspension.Reason, subj, s.boundTo)
	default:
		// No count of sites: it would cost a status write on every
		// membership of the account each time a site comes or goes.
		return true, hostingv1alpha1.ReasonReconciled, fmt.Sprintf("%s has the role %s (ClusterRole %s) in the account namespace and every site namespace of the account",
			subj, m.Spec.Role, s.boundTo)
	}
}

// subjectOrLifecycleChanged passes the events of a membership that can change
// whether a sibling is a duplicate: creation, deletion, and spec changes.
func subjectOrLifecycleChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
				!e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp())
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// labelsOrLifecycleChanged passes the events of a namespace that can make it
// a site namespace or stop it being one: creation, deletion, label changes
// and the start of its deletion.
func labelsOrLifecycleChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !maps.Equal(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels()) ||
				!e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp())
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// supportRefusal says why a Support membership grants nothing at now (its
// subject is not the provider's support group, or its expiresAt is further
// than cfg.SupportMaxDuration), or "" for any other membership and a valid
// one. Admission (CEL) already requires expiresAt and a Group subject; the
// group's name and the bound are flags, which CEL cannot read.
func supportRefusal(m *hostingv1alpha1.Membership, cfg platform.Config, now time.Time) (reason, msg string) {
	if m.Spec.Role != hostingv1alpha1.RoleSupport {
		return "", ""
	}
	if m.Spec.Subject.Kind != hostingv1alpha1.SubjectGroup || m.Spec.Subject.Name != cfg.SupportGroup {
		return hostingv1alpha1.ReasonNotSupportGroup, fmt.Sprintf(
			"a Support membership gives access to the provider's support group only: its subject must be Group %s; no access was granted", cfg.SupportGroup)
	}
	if m.Spec.ExpiresAt == nil {
		return hostingv1alpha1.ReasonSupportTooLong, "a Support membership needs expiresAt; no access was granted"
	}
	if m.Spec.ExpiresAt.Sub(now) > cfg.SupportMaxDuration {
		return hostingv1alpha1.ReasonSupportTooLong, fmt.Sprintf(
			"support access may last at most %s from now, and expiresAt %s is later: no access was granted; set an earlier expiresAt",
			cfg.SupportMaxDuration, m.Spec.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return "", ""
}
