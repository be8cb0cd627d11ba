package team

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/tenancy"
)

// member is one distinct subject of a team's spec.members.
type member struct {
	subject hostingv1alpha1.Subject
	key     string
	// expiresAt is the latest expiry of the subject's entries (nil: never).
	expiresAt *metav1.Time
	// addedAt: the status entry's, else now (first seen).
	addedAt time.Time
	index   int
}

// expired: the member's expiresAt has passed at now.
func (m *member) expired(now time.Time) bool {
	return m.expiresAt != nil && !now.Before(m.expiresAt.Time)
}

// membersOf are the distinct subjects of t's members in spec order; a
// subject listed twice counts once, with the later of its expiries (none
// wins). addedAt comes from t's status when it names the subject, else now.
func membersOf(t *hostingv1alpha1.Team, now time.Time) []member {
	added := map[string]time.Time{}
	for _, ms := range t.Status.Members {
		added[tenancy.SubjectKey(ms.Subject)] = ms.AddedAt.Time
	}
	var out []member
	at := map[string]int{}
	for _, tm := range t.Spec.Members {
		key := tenancy.SubjectKey(tm.Subject)
		if i, ok := at[key]; ok {
			if tm.ExpiresAt == nil || (out[i].expiresAt != nil && tm.ExpiresAt.After(out[i].expiresAt.Time)) {
				out[i].expiresAt = tm.ExpiresAt
			}
			continue
		}
		a, ok := added[key]
		if !ok || a.IsZero() {
			a = now
		}
		at[key] = len(out)
		out = append(out, member{subject: tm.Subject, key: key, expiresAt: tm.ExpiresAt, addedAt: a, index: len(out)})
	}
	return out
}

// wants reports whether team t gives the subject key access to site at now:
// t is not being deleted, lists the site, and has the subject as a member
// that has not expired.
func wants(t *hostingv1alpha1.Team, key, site string, now time.Time) bool {
	if !t.DeletionTimestamp.IsZero() || !slices.Contains(t.Spec.Sites, site) {
		return false
	}
	for _, m := range membersOf(t, now) {
		if m.key == key && !m.expired(now) {
			return true
		}
	}
	return false
}

// wantedBy reports whether any of teams gives key access to site at now.
func wantedBy(teams []hostingv1alpha1.Team, key, site string, now time.Time) bool {
	for i := range teams {
		if wants(&teams[i], key, site, now) {
			return true
		}
	}
	return false
}

// waiter is a subject waiting for a seat of a site, with its place in the
// queue.
type waiter struct {
	key       string
	addedAt   time.Time
	teamAge   time.Time
	teamName  string
	listIndex int
}

// queue orders the subjects that want a seat of site and hold none, over all
// teams: the longest waiting first (addedAt, then the older team, then the
// team's name and the member's place in it). A subject of several teams
// takes its best place.
func queue(teams []hostingv1alpha1.Team, site string, holders map[string]bool, now time.Time) []string {
	best := map[string]waiter{}
	for i := range teams {
		t := &teams[i]
		if !t.DeletionTimestamp.IsZero() || !slices.Contains(t.Spec.Sites, site) {
			continue
		}
		for _, m := range membersOf(t, now) {
			if m.expired(now) || holders[m.key] {
				continue
			}
			w := waiter{key: m.key, addedAt: m.addedAt, teamAge: t.CreationTimestamp.Time, teamName: t.Name, listIndex: m.index}
			if b, ok := best[m.key]; !ok || before(w, b) {
				best[m.key] = w
			}
		}
	}
	ws := make([]waiter, 0, len(best))
	for _, w := range best {
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b waiter) int {
		if before(a, b) {
			return -1
		}
		if before(b, a) {
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.key
	}
	return out
}

func before(a, b waiter) bool {
	if c := a.addedAt.Compare(b.addedAt); c != 0 {
		return c < 0
	}
	if c := a.teamAge.Compare(b.teamAge); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(a.teamName, b.teamName); c != 0 {
		return c < 0
	}
	if a.listIndex != b.listIndex {
		return a.listIndex < b.listIndex
	}
	return a.key < b.key
}

// nextExpiry is how long until the next member of the scope expires; zero
// when none will.
func nextExpiry(members []member, now time.Time) time.Duration {
	var next time.Duration
	for _, m := range members {
		if m.expiresAt == nil || m.expired(now) {
			continue
		}
		if d := m.expiresAt.Sub(now); next == 0 || d < next {
			next = d
		}
	}
	return next
}

// siteState is what one reconcile observed of one of the team's sites.
type siteState struct {
	name string
	// namespace is the site namespace when it exists and is the site's.
	namespace string
	// exists: the Subscription exists.
	exists bool
	// reason and message say why nobody can be bound there ("" when they can).
	reason, message string
	// seats is the site's seat limit (plan and add-ons).
	seats int32
	// inUse is how many distinct people hold a seat of the site.
	inUse int32
	// over: more people hold seats than the site has (a downgrade).
	over bool
	// bound are the subject keys of this team bound in the site.
	bound map[string]bool
}

// setStatus computes the team's status from this reconcile's observations.
func setStatus(s *scope) {
	t := s.team
	t.Status.Members = nil
	t.Status.BoundMembers, t.Status.WaitingMembers = 0, 0
	var seatWaiters, notReady []string
	for _, m := range s.members {
		ms := hostingv1alpha1.TeamMemberStatus{Subject: m.subject, AddedAt: metav1.NewTime(m.addedAt)}
		if m.expired(s.now) {
			ms.State = hostingv1alpha1.TeamMemberExpired
			ms.Reason = hostingv1alpha1.ReasonExpired
			ms.Message = fmt.Sprintf("expired at %s; access removed", m.expiresAt.UTC().Format(time.RFC3339))
			t.Status.Members = append(t.Status.Members, ms)
			continue
		}
		var waitSeat, waitSite []string
		for _, site := range s.sites {
			switch {
			case site.bound[m.key]:
				ms.Sites = append(ms.Sites, site.name)
			case site.reason != "":
				waitSite = append(waitSite, fmt.Sprintf("%s (%s)", site.name, site.message))
				if ms.Reason == "" {
					ms.Reason = site.reason
				}
			default:
				waitSeat = append(waitSeat, site.name)
			}
		}
		slices.Sort(ms.Sites)
		switch {
		case len(waitSeat) > 0:
			ms.State = hostingv1alpha1.TeamMemberWaiting
			ms.Reason = hostingv1alpha1.ReasonSeatLimitReached
			ms.Message = "waiting for a seat in " + strings.Join(waitSeat, ", ")
			seatWaiters = append(seatWaiters, m.subject.Name)
		case len(waitSite) > 0:
			ms.State = hostingv1alpha1.TeamMemberWaiting
			ms.Message = "no access yet in " + strings.Join(waitSite, "; ")
			notReady = append(notReady, m.subject.Name)
		default:
			ms.State = hostingv1alpha1.TeamMemberBound
			ms.Reason = ""
		}
		if ms.State == hostingv1alpha1.TeamMemberBound {
			t.Status.BoundMembers++
		} else {
			t.Status.WaitingMembers++
		}
		t.Status.Members = append(t.Status.Members, ms)
	}

	var overSites, full []string
	for _, site := range s.sites {
		if site.over {
			overSites = append(overSites, fmt.Sprintf("%s (%d people, %d seats)", site.name, site.inUse, site.seats))
		} else if site.reason == "" && site.inUse >= site.seats {
			full = append(full, fmt.Sprintf("%s (%d/%d)", site.name, site.inUse, site.seats))
		}
	}
	switch {
	case len(seatWaiters) > 0:
		kernel.SetCondition(t, hostingv1alpha1.ConditionSeats, false, hostingv1alpha1.ReasonSeatLimitReached, fmt.Sprintf(
			"no seat left for %s in %s; they get access, the longest waiting first, when a seat frees up or the plan or an add-on adds seats",
			strings.Join(seatWaiters, ", "), strings.Join(append(overSites, full...), ", ")))
	case len(overSites) > 0:
		kernel.SetCondition(t, hostingv1alpha1.ConditionSeats, false, hostingv1alpha1.ReasonOverSeats, fmt.Sprintf(
			"more people have access than the plan's seats in %s: they keep it; nobody new gets a seat until the use is under the limit",
			strings.Join(overSites, ", ")))
	default:
		kernel.SetCondition(t, hostingv1alpha1.ConditionSeats, true, hostingv1alpha1.ReasonSeatsAvailable, "every member who wants a seat has one")
	}

	switch {
	case s.account == nil:
		kernel.SetCondition(t, hostingv1alpha1.ConditionReady, false, hostingv1alpha1.ReasonNoAccount, s.noAccount)
	case !s.account.DeletionTimestamp.IsZero():
		kernel.SetCondition(t, hostingv1alpha1.ConditionReady, false, hostingv1alpha1.ReasonDeleting, fmt.Sprintf("account %s is being deleted", s.account.Name))
	case len(seatWaiters) > 0:
		kernel.SetCondition(t, hostingv1alpha1.ConditionReady, false, hostingv1alpha1.ReasonSeatLimitReached, fmt.Sprintf(
			"%d of %d members have access; waiting for a seat: %s", t.Status.BoundMembers, t.Status.BoundMembers+t.Status.WaitingMembers, strings.Join(seatWaiters, ", ")))
	case len(notReady) > 0:
		reason := hostingv1alpha1.ReasonSiteNotReady
		for _, site := range s.sites {
			if site.reason == hostingv1alpha1.ReasonSiteNotFound {
				reason = site.reason
			}
		}
		var msgs []string
		for _, site := range s.sites {
			if site.reason != "" {
				msgs = append(msgs, fmt.Sprintf("%s: %s", site.name, site.message))
			}
		}
		kernel.SetCondition(t, hostingv1alpha1.ConditionReady, false, reason, strings.Join(msgs, "; "))
	case s.account.Spec.Suspension != nil:
		kernel.SetCondition(t, hostingv1alpha1.ConditionReady, false, hostingv1alpha1.ReasonAccountSuspended, fmt.Sprintf(
			"account %s is suspended (%s): the members are bound to the read-only role %s until it is lifted",
			s.account.Name, s.account.Spec.Suspension.Reason, tenancy.SuspendedClusterRole))
	default:
		kernel.SetCondition(t, hostingv1alpha1.ConditionReady, true, hostingv1alpha1.ReasonReconciled, fmt.Sprintf(
			"%d members have the role %s (ClusterRole %s) in %d sites and get on their Subscriptions",
			t.Status.BoundMembers, t.Spec.Role, tenancy.TeamClusterRole(t.Spec.Role, false), len(s.sites)))
	}
}
