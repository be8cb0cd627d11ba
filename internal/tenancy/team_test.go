package tenancy

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

func TestTeamBuilders(t *testing.T) {
	cfg := platform.Default()
	team := &hostingv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: "acct-acme", Name: "web", UID: "u1"},
		Spec: hostingv1alpha1.TeamSpec{Role: hostingv1alpha1.TeamRoleEditor, Sites: []string{"www"}}}
	a := hostingv1alpha1.Subject{Kind: hostingv1alpha1.SubjectUser, Name: "a"}
	b := hostingv1alpha1.Subject{Kind: hostingv1alpha1.SubjectUser, Name: "b"}

	// A rule without resourceNames would grant every Subscription: no sites, no Role.
	if r := BuildTeamSubscriptionRole(team, "acme", nil); r != nil {
		t.Fatalf("a Role for no sites: %+v", r)
	}
	r := BuildTeamSubscriptionRole(team, "acme", []string{"www", "shop", "www"})
	rule := r.Rules[0]
	if got := rule.ResourceNames; len(got) != 2 || got[0] != "shop" || got[1] != "www" {
		t.Errorf("resourceNames %v, want [shop www]", got)
	}
	if len(rule.Verbs) != 1 || rule.Verbs[0] != "get" || rule.Resources[0] != "subscriptions" {
		t.Errorf("rule %+v, want get on subscriptions only", rule)
	}
	if BuildTeamAccountBinding(team, "acme", nil) != nil || BuildTeamSiteBinding(team, SiteTarget("acme", "www", cfg), false, nil) != nil {
		t.Error("a binding with no subjects")
	}
	rb := BuildTeamSiteBinding(team, SiteTarget("acme", "www", cfg), false, []hostingv1alpha1.Subject{b, a, b})
	if *rb.Namespace != "acct-acme--www" || *rb.Name != "landlord-team-web" || len(rb.Subjects) != 2 || *rb.Subjects[0].Name != "a" {
		t.Errorf("site binding %s/%s subjects %d", *rb.Namespace, *rb.Name, len(rb.Subjects))
	}
	if *rb.RoleRef.Name != "landlord-tenant-editor" || rb.OwnerReferences != nil {
		t.Errorf("site binding role %s, owners %v", *rb.RoleRef.Name, rb.OwnerReferences)
	}
	l := rb.Labels
	if l[hostingv1alpha1.TeamLabel] != "web" || l[hostingv1alpha1.AccountLabel] != "acme" || l[hostingv1alpha1.SubscriptionLabel] != "www" {
		t.Errorf("labels %v", l)
	}
	if got := *BuildTeamSiteBinding(team, SiteTarget("acme", "www", cfg), true, []hostingv1alpha1.Subject{a}).RoleRef.Name; got != SuspendedClusterRole {
		t.Errorf("suspended: %s", got)
	}
}

func TestSeatNames(t *testing.T) {
	for i, c := range []struct {
		sub, name string
		idx       int32
		ok        bool
	}{
		{"www", SeatName("www", 0), 0, true},
		{"www", SeatName("www", 12), 12, true},
		{"www", "landlord-seat-www-01", 0, false},
		{"www", "landlord-seat-www-", 0, false},
		{"www", "landlord-seat-www-x", 0, false},
		{"w", SeatName("www", 1), 0, false},
	} {
		idx, ok := SeatIndex(c.sub, c.name)
		if ok != c.ok || (ok && idx != c.idx) {
			t.Errorf("%d: SeatIndex(%q, %q) = %d, %v", i, c.sub, c.name, idx, ok)
		}
	}
}
