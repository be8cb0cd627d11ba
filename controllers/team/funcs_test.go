package team

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func u(name string) v1.Subject { return v1.Subject{Kind: v1.SubjectUser, Name: name} }

func team(name string, age time.Duration, sites []string, added map[string]time.Duration, ms ...v1.TeamMember) v1.Team {
	t := v1.Team{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(now.Add(-age))},
		Spec: v1.TeamSpec{Role: v1.TeamRoleDeveloper, Sites: sites, Members: ms}}
	for n, d := range added {
		t.Status.Members = append(t.Status.Members, v1.TeamMemberStatus{Subject: u(n), AddedAt: metav1.NewTime(now.Add(-d))})
	}
	return t
}

func m(name string) v1.TeamMember { return v1.TeamMember{Subject: u(name)} }

func TestMembersOf(t *testing.T) {
	soon, later := metav1.NewTime(now.Add(time.Hour)), metav1.NewTime(now.Add(2*time.Hour))
	tm := team("t", 0, nil, map[string]time.Duration{"a": time.Hour},
		v1.TeamMember{Subject: u("a"), ExpiresAt: &soon}, m("b"), v1.TeamMember{Subject: u("a"), ExpiresAt: &later})
	got := membersOf(&tm, now)
	if len(got) != 2 || got[0].key != "User//a" || !got[0].expiresAt.Equal(&later) || !got[0].addedAt.Equal(now.Add(-time.Hour)) || !got[1].addedAt.Equal(now) {
		t.Fatalf("membersOf = %+v", got)
	}
	tm = team("t", 0, nil, nil, v1.TeamMember{Subject: u("a"), ExpiresAt: &soon}, m("a"))
	if got := membersOf(&tm, now); got[0].expiresAt != nil {
		t.Errorf("an entry without expiresAt must win: %+v", got[0])
	}
	tm = team("t", 0, nil, nil, v1.TeamMember{Subject: u("a"), ExpiresAt: &soon}, m("b"))
	if next := nextExpiry(membersOf(&tm, now), now); next != time.Hour {
		t.Errorf("nextExpiry = %s", next)
	}
}

func TestQueue(t *testing.T) {
	past := metav1.NewTime(now.Add(-time.Minute))
	teams := []v1.Team{
		// added 10m ago: first, whatever the team's age.
		team("young", time.Minute, []string{"www"}, map[string]time.Duration{"early": 10 * time.Minute}, m("early"), m("fresh1")),
		// same addedAt (now) as fresh1: the older team first.
		team("old", time.Hour, []string{"www"}, nil, m("fresh0"), m("held"), v1.TeamMember{Subject: u("gone"), ExpiresAt: &past}),
		// another site: not in the queue.
		team("elsewhere", 2*time.Hour, []string{"shop"}, nil, m("other")),
	}
	deleting := team("deleting", 3*time.Hour, []string{"www"}, nil, m("deleted"))
	deleting.DeletionTimestamp = &past
	teams = append(teams, deleting)
	got := queue(teams, "www", map[string]bool{"User//held": true}, now)
	want := []string{"User//early", "User//fresh0", "User//fresh1"}
	if !slices.Equal(got, want) {
		t.Errorf("queue = %v, want %v", got, want)
	}
	if !wantedBy(teams, "User//held", "www", now) || wantedBy(teams, "User//gone", "www", now) ||
		wantedBy(teams, "User//deleted", "www", now) || wantedBy(teams, "User//other", "www", now) {
		t.Error("wantedBy: wrong answer")
	}
}
