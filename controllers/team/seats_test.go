package team_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// siteHas waits until exactly these people have access to the site
// namespace through Teams.
func siteHas(t *testing.T, ns string, want ...string) {
	t.Helper()
	slices.Sort(want)
	testenv.Eventually(t, timeout, func() error {
		if got := boundInSite(t, ns); !slices.Equal(got, want) {
			return fmt.Errorf("people with access to %s: %v, want %v", ns, got, want)
		}
		return nil
	})
}

// usageSeats waits until the Subscription reports n seats in use.
func usageSeats(t *testing.T, f *fixture, site string, n int32) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		sub := &v1.Subscription{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.namespace, Name: site}, sub); err != nil {
			return err
		}
		if sub.Status.Usage.Seats != n {
			return fmt.Errorf("usage.seats %d, want %d", sub.Status.Usage.Seats, n)
		}
		return nil
	})
}

func seats(status metav1.ConditionStatus, reason string) func(*v1.Team) error {
	return func(t *v1.Team) error {
		c := meta.FindStatusCondition(t.Status.Conditions, v1.ConditionSeats)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("team %s Seats=%+v, want %s/%s", t.Name, c, status, reason)
		}
		return nil
	}
}

func all(checks ...func(*v1.Team) error) func(*v1.Team) error {
	return func(t *v1.Team) error {
		for _, c := range checks {
			if err := c(t); err != nil {
				return err
			}
		}
		return nil
	}
}

func removeMember(name string) func(*v1.Team) {
	return func(t *v1.Team) {
		t.Spec.Members = slices.DeleteFunc(t.Spec.Members, func(m v1.TeamMember) bool { return m.Subject.Name == name })
	}
}

// TestSeatLimit: a site's seats bound how many people its Teams give access
// to: the newest wait (SeatLimitReached), a person in two teams takes one
// seat, a seat that frees up goes to the longest waiting, an add-on adds a
// seat, and a downgrade keeps everyone's access (OverSeats) while newcomers
// wait.
func TestSeatLimit(t *testing.T) {
	clk := env.Manager.Clock
	f := newAccount(t, 2)
	ns := f.site(t, "shop")
	shop := []string{"shop"}

	t1 := f.team("alpha", v1.TeamRoleDeveloper, shop, members("a", "b", "c")...)
	must(t, env.Client.Create(ctx, t1))
	waitTeam(t, t1, all(ready("False", v1.ReasonSeatLimitReached), seats("False", v1.ReasonSeatLimitReached),
		states(map[string]v1.TeamMemberState{"a": v1.TeamMemberBound, "b": v1.TeamMemberBound, "c": v1.TeamMemberWaiting})))
	siteHas(t, ns, "a", "b")
	usageSeats(t, f, "shop", 2)
	if can(t, "c", "list", "", "pods", "", ns, "") {
		t.Error("c, waiting for a seat, can list pods")
	}

	// A later team: a, already seated, keeps one seat; d waits behind c.
	clk.Step(time.Minute)
	t2 := f.team("beta", v1.TeamRoleViewer, shop, members("d", "a")...)
	must(t, env.Client.Create(ctx, t2))
	waitTeam(t, t2, states(map[string]v1.TeamMemberState{"a": v1.TeamMemberBound, "d": v1.TeamMemberWaiting}))
	usageSeats(t, f, "shop", 2)

	// a leaves alpha: still in beta, still one seat.
	updateTeam(t, t1, removeMember("a"))
	waitTeam(t, t1, states(map[string]v1.TeamMemberState{"b": v1.TeamMemberBound, "c": v1.TeamMemberWaiting}))
	siteHas(t, ns, "a", "b")

	// a leaves beta too: the seat goes to c, the longest waiting, not d.
	clk.Step(time.Minute)
	updateTeam(t, t2, removeMember("a"))
	waitTeam(t, t1, all(ready("True", v1.ReasonReconciled), states(map[string]v1.TeamMemberState{"b": v1.TeamMemberBound, "c": v1.TeamMemberBound})))
	waitTeam(t, t2, states(map[string]v1.TeamMemberState{"d": v1.TeamMemberWaiting}))
	siteHas(t, ns, "b", "c")

	// An add-on adds a seat: d gets it.
	updateSub(t, f, "shop", func(s *v1.Subscription) { s.Spec.AddOns = []v1.AddOnRef{{Name: "extra-seat", Quantity: 1}} })
	waitTeam(t, t2, all(ready("True", v1.ReasonReconciled), states(map[string]v1.TeamMemberState{"d": v1.TeamMemberBound})))
	siteHas(t, ns, "b", "c", "d")
	usageSeats(t, f, "shop", 3)

	// A downgrade to one seat: everyone keeps access, and says so.
	updateSub(t, f, "shop", func(s *v1.Subscription) { s.Spec.AddOns = nil })
	updatePlan(t, f, func(p *v1.Plan) { p.Spec.Limits.Seats = ptr.To[int32](1) })
	waitTeam(t, t1, all(ready("True", v1.ReasonReconciled), seats("False", v1.ReasonOverSeats)))
	siteHas(t, ns, "b", "c", "d")
	// A newcomer waits.
	updateTeam(t, t1, func(tm *v1.Team) { tm.Spec.Members = append(tm.Spec.Members, members("e")...) })
	waitTeam(t, t1, all(ready("False", v1.ReasonSeatLimitReached), states(map[string]v1.TeamMemberState{"e": v1.TeamMemberWaiting})))
	testenv.Consistently(t, 2*time.Second, func() error {
		if got := boundInSite(t, ns); !slices.Equal(got, []string{"b", "c", "d"}) {
			return fmt.Errorf("after the downgrade: %v", got)
		}
		return nil
	})
	usageSeats(t, f, "shop", 3)
}

// TestSeatsUnderConcurrency: several Teams for one site, created at the same
// instant and reconciled by the production number of workers, never give
// access to more people than the site has seats, at any moment.
func TestSeatsUnderConcurrency(t *testing.T) {
	if manager.DefaultWorkers != 4 {
		t.Fatalf("the manager runs %d workers per controller; this test is written for 4", manager.DefaultWorkers)
	}
	const limit, teams, perTeam = 3, 6, 2
	f := newAccount(t, limit)
	ns := f.site(t, "shop")

	stop := make(chan struct{})
	var maxSeen int
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if n := len(boundInSite(t, ns)); n > maxSeen {
				maxSeen = n
			}
			if n := len(seatHolders(t, f, "shop")); n > maxSeen {
				maxSeen = n
			}
		}
	}()

	var created []*v1.Team
	for i := range teams {
		var names []string
		for j := range perTeam {
			names = append(names, fmt.Sprintf("p%d-%d", i, j))
		}
		created = append(created, f.team(fmt.Sprintf("t%d", i), v1.TeamRoleDeveloper, []string{"shop"}, members(names...)...))
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, tm := range created {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := env.Client.Create(ctx, tm); err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()

	var bound, waiting int32
	testenv.Eventually(t, timeout, func() error {
		bound, waiting = 0, 0
		for _, tm := range created {
			got := &v1.Team{}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(tm), got); err != nil {
				return err
			}
			if got.Status.ObservedGeneration != got.Generation || len(got.Status.Members) != perTeam {
				return fmt.Errorf("team %s not reconciled", got.Name)
			}
			bound += got.Status.BoundMembers
			waiting += got.Status.WaitingMembers
		}
		if bound != limit || waiting != teams*perTeam-limit {
			return fmt.Errorf("bound %d, waiting %d", bound, waiting)
		}
		return nil
	})
	testenv.Consistently(t, 2*time.Second, func() error {
		if n := len(boundInSite(t, ns)); n != limit {
			return fmt.Errorf("%d people have access, want %d", n, limit)
		}
		return nil
	})
	close(stop)
	watch.Wait()
	if maxSeen > limit {
		t.Fatalf("at some moment %d people held seats or bindings; the site has %d seats", maxSeen, limit)
	}
	if got := seatHolders(t, f, "shop"); len(got) != limit {
		t.Fatalf("seat holders %v, want %d", got, limit)
	}
	usageSeats(t, f, "shop", limit)
}

// TestExpiringMemberLosesAccess: a member whose expiresAt passes (the fake
// clock) loses access on time, the team says so and records an Event, and
// the freed seat goes to the member waiting for it.
func TestExpiringMemberLosesAccess(t *testing.T) {
	clk := env.Manager.Clock
	f := newAccount(t, 1)
	ns := f.site(t, "shop")
	tm := f.team("contractors", v1.TeamRoleDeveloper, []string{"shop"},
		v1.TeamMember{Subject: user("temp@agency.example"), ExpiresAt: &metav1.Time{Time: clk.Now().Add(time.Hour)}},
		v1.TeamMember{Subject: user("next@agency.example")})
	must(t, env.Client.Create(ctx, tm))
	waitTeam(t, tm, states(map[string]v1.TeamMemberState{"temp@agency.example": v1.TeamMemberBound, "next@agency.example": v1.TeamMemberWaiting}))
	testenv.Eventually(t, timeout, func() error {
		if !can(t, "temp@agency.example", "create", "", "pods", "exec", ns, "") {
			return fmt.Errorf("temp cannot exec yet")
		}
		return nil
	})

	clk.Step(30 * time.Minute)
	testenv.Consistently(t, time.Second, func() error {
		if !can(t, "temp@agency.example", "create", "", "pods", "exec", ns, "") {
			return fmt.Errorf("temp lost access before expiry")
		}
		return nil
	})
	clk.Step(31 * time.Minute)
	got := waitTeam(t, tm, all(ready("True", v1.ReasonReconciled),
		states(map[string]v1.TeamMemberState{"temp@agency.example": v1.TeamMemberExpired, "next@agency.example": v1.TeamMemberBound})))
	siteHas(t, ns, "next@agency.example")
	if can(t, "temp@agency.example", "create", "", "pods", "exec", ns, "") ||
		can(t, "temp@agency.example", "get", hosting, "subscriptions", "", f.namespace, "shop") {
		t.Error("an expired member still has access")
	}
	for _, m := range got.Status.Members {
		if m.Subject.Name == "temp@agency.example" && !strings.Contains(m.Message, "expired at") {
			t.Errorf("expired member's message: %q", m.Message)
		}
	}
	testenv.Eventually(t, timeout, func() error {
		evs := &eventsv1.EventList{}
		if err := env.Client.List(ctx, evs, client.InNamespace(f.namespace)); err != nil {
			return err
		}
		var reasons []string
		for _, e := range evs.Items {
			if e.Regarding.Kind == "Team" && e.Regarding.Name == tm.Name {
				reasons = append(reasons, e.Reason+": "+e.Note)
			}
		}
		joined := strings.Join(reasons, "\n")
		if !strings.Contains(joined, "Expired: User temp@agency.example") || !strings.Contains(joined, "Granted: User next@agency.example") {
			return fmt.Errorf("events: %s", joined)
		}
		return nil
	})
}

func updateSub(t *testing.T, f *fixture, name string, change func(*v1.Subscription)) {
	t.Helper()
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &v1.Subscription{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.namespace, Name: name}, cur); err != nil {
			return err
		}
		change(cur)
		return env.Client.Update(ctx, cur)
	}))
}

func updatePlan(t *testing.T, f *fixture, change func(*v1.Plan)) {
	t.Helper()
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &v1.Plan{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: f.plan}, cur); err != nil {
			return err
		}
		change(cur)
		return env.Client.Update(ctx, cur)
	}))
}
