package rbacbind

import (
	"testing"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// For: a binding is a Membership's or a Team's only when its labels name
// that membership (or team) and its account; the owner's binding is not
// checked.
func TestFor(t *testing.T) {
	const acct, mbr, team = hostingv1alpha1.AccountLabel, hostingv1alpha1.MembershipLabel, hostingv1alpha1.TeamLabel
	member := map[string]string{acct: "hooli", mbr: "richard"}
	for _, tc := range []struct {
		name          string
		live, desired map[string]string
		want          bool
	}{
		{"the membership's own", map[string]string{acct: "hooli", mbr: "richard", hostingv1alpha1.SubscriptionLabel: "www"}, member, true},
		{"unlabelled", map[string]string{}, member, false},
		{"another membership's", map[string]string{acct: "hooli", mbr: "gavin"}, member, false},
		{"another account's", map[string]string{acct: "piedpiper", mbr: "richard"}, member, false},
		{"a team's of that name", map[string]string{acct: "hooli", team: "richard"}, member, false},
		{"the team's own", map[string]string{acct: "hooli", team: "www-freelancers"}, map[string]string{acct: "hooli", team: "www-freelancers"}, true},
		{"the owner's (not checked)", map[string]string{}, map[string]string{acct: "hooli"}, true},
	} {
		if got := For(tc.live, tc.desired); got != tc.want {
			t.Errorf("%s: For(%v, %v) = %v, want %v", tc.name, tc.live, tc.desired, got, tc.want)
		}
	}
}
