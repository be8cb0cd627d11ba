package team_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

func supportMembership(ns, name string, subject v1.Subject, expires *metav1.Time) *v1.Membership {
	return &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1.MembershipSpec{Subject: subject, Role: v1.RoleSupport, ExpiresAt: expires}}
}

func membershipReady(t *testing.T, m *v1.Membership, status metav1.ConditionStatus, reason string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		got := &v1.Membership{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(m), got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != got.Generation {
			return fmt.Errorf("membership %s Ready=%+v, want %s/%s", m.Name, c, status, reason)
		}
		return nil
	})
}

// accountEvents waits for an Event on the Account with that reason.
func accountEvent(t *testing.T, account, reason string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		evs := &eventsv1.EventList{}
		if err := env.Client.List(ctx, evs); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Kind == "Account" && e.Regarding.Name == account && e.Reason == reason {
				return nil
			}
		}
		return fmt.Errorf("no %s Event on Account %s", reason, account)
	})
}

// TestSupportAccess: the account's Owner consents to support access with a
// Support Membership naming the provider's support group; its people then
// read, see logs of and exec into the account's sites (never secrets, never
// writes) until expiresAt, when the access ends by itself. Grant and expiry
// are Events on the Account. Admission requires expiresAt and a Group;
// the controller refuses another group or a time beyond the bound, and a
// Developer cannot create one at all.
func TestSupportAccess(t *testing.T) {
	clk := env.Manager.Clock
	f := newAccount(t, 5)
	site := f.site(t, "shop")
	owner := env.As("owner@" + f.account + ".example")
	group := v1.Subject{Kind: v1.SubjectGroup, Name: cfg.SupportGroup}
	asAgent := func(verb, grp, resource, sub, ns string) bool {
		t.Helper()
		return canAs(t, "agent@provider.example", []string{cfg.SupportGroup}, verb, grp, resource, sub, ns)
	}

	// Admission: no expiresAt, or a User subject, is refused.
	if err := owner.Create(ctx, supportMembership(f.namespace, "no-expiry", group, nil)); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "needs expiresAt") {
		t.Errorf("Support without expiresAt: want Invalid, got %v", err)
	}
	later := &metav1.Time{Time: clk.Now().Add(24 * time.Hour)}
	if err := owner.Create(ctx, supportMembership(f.namespace, "a-user", user("me@provider.example"), later)); !apierrors.IsInvalid(err) {
		t.Errorf("Support for a User: want Invalid, got %v", err)
	}
	// Only Owners and Admins consent: a Developer is refused by RBAC.
	must(t, env.Client.Create(ctx, &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: "dev"},
		Spec: v1.MembershipSpec{Subject: user("dev@" + f.account), Role: v1.RoleDeveloper}}))
	testenv.Eventually(t, timeout, func() error {
		if !can(t, "dev@"+f.account, "list", "", "pods", "", site, "") {
			return fmt.Errorf("the developer is not bound yet")
		}
		return nil
	})
	if err := env.As("dev@"+f.account).Create(ctx, supportMembership(f.namespace, "by-dev", group, later)); !apierrors.IsForbidden(err) {
		t.Errorf("a Developer granting support: want Forbidden, got %v", err)
	}
	// Beyond the bound, or another group: created, but grants nothing.
	tooLong := supportMembership(f.namespace, "too-long", group, &metav1.Time{Time: clk.Now().Add(cfg.SupportMaxDuration + time.Hour)})
	must(t, owner.Create(ctx, tooLong))
	membershipReady(t, tooLong, metav1.ConditionFalse, v1.ReasonSupportTooLong)
	// (Created by the provider: the Owner is in system:authenticated, and
	// nobody may create a Membership naming a group it is in,
	// config/admission/expiry-set-from-above.yaml.)
	other := supportMembership(f.namespace, "other-group", v1.Subject{Kind: v1.SubjectGroup, Name: "system:authenticated"}, later)
	must(t, env.Client.Create(ctx, other))
	membershipReady(t, other, metav1.ConditionFalse, v1.ReasonNotSupportGroup)
	if asAgent("list", "", "pods", "", site) {
		t.Fatal("support has access before any valid consent")
	}
	if can(t, "anyone@example.com", "list", "", "pods", "", site, "") {
		t.Fatal("system:authenticated got access through a Support membership")
	}

	// The consent. The refused one above, older (a second apart, so that
	// creation times order them), does not make it a duplicate.
	time.Sleep(1100 * time.Millisecond)
	m := supportMembership(f.namespace, "support", group, later)
	must(t, owner.Create(ctx, m))
	membershipReady(t, m, metav1.ConditionTrue, v1.ReasonReconciled)
	// (Within the bound from now it would grant too: remove it before the clock moves.)
	must(t, owner.Delete(ctx, tooLong))
	accountEvent(t, f.account, "SupportAccessGranted")
	for _, a := range []struct {
		verb, group, resource, sub string
		want                       bool
	}{
		{"list", "", "pods", "", true},
		{"get", "", "pods", "log", true},
		{"create", "", "pods", "exec", true},
		{"list", "apps", "deployments", "", true},
		{"list", "", "events", "", true},
		{"get", "", "secrets", "", false},
		{"list", "", "secrets", "", false},
		{"create", "apps", "deployments", "", false},
		{"delete", "", "pods", "", false},
		{"create", "hosting.landlord.dev", "customdomains", "", false},
		{"create", "", "pods", "portforward", false},
	} {
		if got := asAgent(a.verb, a.group, a.resource, a.sub, site); got != a.want {
			t.Errorf("support in the site: %s %s/%s allowed=%v, want %v", a.verb, a.resource, a.sub, got, a.want)
		}
	}
	if asAgent("list", "hosting.landlord.dev", "memberships", "", f.namespace) || asAgent("create", "hosting.landlord.dev", "memberships", "", f.namespace) {
		t.Error("support reads or writes the account's memberships")
	}

	// Expiry: on time, by itself.
	clk.Step(23 * time.Hour)
	if !asAgent("create", "", "pods", "exec", site) {
		t.Fatal("support lost access before expiresAt")
	}
	clk.Step(2 * time.Hour)
	membershipReady(t, m, metav1.ConditionFalse, v1.ReasonExpired)
	testenv.Eventually(t, timeout, func() error {
		if asAgent("get", "", "pods", "log", site) || asAgent("create", "", "pods", "exec", site) {
			return fmt.Errorf("support still has access after expiry")
		}
		return nil
	})
	accountEvent(t, f.account, "SupportAccessExpired")
}

// canAs is can for a user in groups.
func canAs(t *testing.T, user string, groups []string, verb, group, resource, sub, ns string) bool {
	t.Helper()
	return canWith(t, env.As(user, groups...), verb, group, resource, sub, ns)
}
