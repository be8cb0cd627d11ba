package account

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

func TestSetStatus(t *testing.T) {
	now := metav1.Now()
	for _, tc := range []struct {
		name       string
		s          scope
		mut        func(*v1.Account)
		phase      v1.AccountPhase
		ready      metav1.ConditionStatus
		readyWhy   string
		nsWhy      string
		suspendWhy string
		namespace  string
	}{
		{"active", scope{nsState: nsReady, guardRails: true, ownerBound: true}, nil,
			v1.AccountActive, metav1.ConditionTrue, v1.ReasonReconciled, v1.ReasonReconciled, v1.ReasonNotSuspended, "acct-acme"},
		{"suspended", scope{nsState: nsReady, guardRails: true, ownerBound: true},
			func(a *v1.Account) { a.Spec.Suspension = &v1.Suspension{Reason: v1.SuspensionAbuse} },
			v1.AccountSuspended, metav1.ConditionTrue, v1.ReasonReconciled, v1.ReasonReconciled, "Abuse", "acct-acme"},
		{"namespace not owned", scope{nsState: nsNotOwned}, nil,
			v1.AccountPending, metav1.ConditionFalse, v1.ReasonNamespaceNotOwned, v1.ReasonNamespaceNotOwned, v1.ReasonNotSuspended, ""},
		{"namespace terminating", scope{nsState: nsTerminating}, nil,
			v1.AccountPending, metav1.ConditionFalse, v1.ReasonNamespaceTerminating, v1.ReasonNamespaceTerminating, v1.ReasonNotSuspended, "acct-acme"},
		{"guard rails failed", scope{nsState: nsReady}, nil,
			v1.AccountPending, metav1.ConditionFalse, v1.ReasonProgressing, v1.ReasonProgressing, v1.ReasonNotSuspended, "acct-acme"},
		{"owner not bound", scope{nsState: nsReady, guardRails: true}, nil,
			v1.AccountPending, metav1.ConditionFalse, v1.ReasonProgressing, v1.ReasonReconciled, v1.ReasonNotSuspended, "acct-acme"},
		{"deleting", scope{nsState: nsTerminating}, func(a *v1.Account) { a.DeletionTimestamp = &now },
			v1.AccountTerminating, metav1.ConditionFalse, v1.ReasonDeleting, v1.ReasonDeleting, v1.ReasonNotSuspended, "acct-acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 4}}
			if tc.mut != nil {
				tc.mut(a)
			}
			tc.s.account, tc.s.namespace = a, "acct-acme"
			setStatus(&tc.s)
			cond := func(typ string) metav1.Condition {
				c := meta.FindStatusCondition(a.Status.Conditions, typ)
				if c == nil {
					t.Fatalf("no %s condition", typ)
				}
				if c.ObservedGeneration != 4 {
					t.Errorf("%s observedGeneration %d", typ, c.ObservedGeneration)
				}
				return *c
			}
			// status.observedGeneration is the patch helper's (internal/kernel).
			if a.Status.Phase != tc.phase || a.Status.Namespace != tc.namespace {
				t.Errorf("phase %s namespace %q", a.Status.Phase, a.Status.Namespace)
			}
			if c := cond(v1.ConditionReady); c.Status != tc.ready || c.Reason != tc.readyWhy {
				t.Errorf("Ready %+v", c)
			}
			if c := cond(v1.ConditionNamespaceReady); c.Reason != tc.nsWhy {
				t.Errorf("NamespaceReady %+v", c)
			}
			if c := cond(v1.ConditionSuspended); c.Reason != tc.suspendWhy {
				t.Errorf("Suspended %+v", c)
			}
		})
	}
}

func TestCountMembers(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := func(subject string, expiresIn *time.Duration) v1.Membership {
		mb := v1.Membership{Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: subject}}}
		if expiresIn != nil {
			mb.Spec.ExpiresAt = &metav1.Time{Time: now.Add(*expiresIn)}
		}
		return mb
	}
	past, future := -time.Minute, time.Minute
	got := countMembers([]v1.Membership{m("a", nil), m("a", nil), m("b", &future), m("c", &past)}, now)
	if got != 2 {
		t.Errorf("countMembers = %d, want 2 (a once, b; c expired)", got)
	}
}

func TestCountSubscriptions(t *testing.T) {
	sub := func(p v1.SubscriptionPhase) v1.Subscription {
		return v1.Subscription{Status: v1.SubscriptionStatus{Phase: p}}
	}
	got := countSubscriptions([]v1.Subscription{sub(""), sub(v1.PhasePending), sub(v1.PhaseActive), sub(v1.PhasePastDue),
		sub(v1.PhaseTrialing), sub(v1.PhaseSuspended), sub(v1.PhaseCancelled), sub(v1.PhaseTerminated), sub(v1.PhaseActive)})
	// The one without a phase is not reconciled yet: not counted.
	want := v1.SubscriptionCounts{Pending: 1, Active: 2, PastDue: 1, Trialing: 1, Suspended: 1, Cancelled: 1, Terminated: 1}
	if got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}
