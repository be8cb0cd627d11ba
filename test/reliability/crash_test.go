package reliability_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// epoch is the fake clock's reading when each tenant of the crash test is
// created; every run replays the same times.
var epoch = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

// A stage of a tenant's life: the clock is set to at, then the tenant must
// reach what check describes (the uninterrupted run waits for check; the
// others for the uninterrupted run's state at that stage).
type stage struct {
	name  string
	at    func(*tenant) time.Time
	check func(*tenant) func() error
	// terminates: the volume may be deleted from this stage on.
	terminates bool
	// act, if set, is what the customer does at the stage (before the clock
	// moves), once per life.
	act func(testing.TB, *tenant)
}

// A lifeSpec is a life to crash: its stages, what the tenant has besides
// its site, and from when the crash points count.
type lifeSpec struct {
	stages []stage
	// setup adds to the new tenant (nil: nothing).
	setup func(testing.TB, *tenant)
	// armAfter: the crash points count from the end of this stage (-1:
	// from the start); the stages before run uncrashed.
	armAfter int
}

var life = []stage{
	{name: "provisioned", at: func(*tenant) time.Time { return epoch },
		check: func(tn *tenant) func() error { return all(tn.provisioned, func() error { return tn.replicas(1) }) }},
	{name: "past due", at: func(tn *tenant) time.Time { return tn.paidThrough.Add(time.Second) },
		check: func(tn *tenant) func() error {
			return all(func() error { return tn.sitePhase(v1.PhasePastDue) }, func() error { return tn.replicas(1) }, tn.volumeKept)
		}},
	{name: "suspended", at: func(tn *tenant) time.Time { return tn.suspendAt().Add(time.Second) },
		check: func(tn *tenant) func() error {
			return all(func() error { return tn.sitePhase(v1.PhaseSuspended) }, func() error { return tn.replicas(0) }, tn.volumeKept)
		}},
	{name: "terminated", at: func(tn *tenant) time.Time { return tn.terminateAt().Add(time.Second) }, terminates: true,
		check: func(tn *tenant) func() error {
			return all(func() error { return tn.sitePhase(v1.PhaseTerminated) },
				func() error {
					return gone(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: tn.site, Name: platform.SiteName(siteName)}})
				},
				func() error {
					return gone(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: tn.site, Name: platform.SiteVolumeName(siteName)}})
				},
				func() error { return gone(&v1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: tn.host}}) })
		}},
}

// stable waits until the tenant's snapshot stays the same over a few reads
// (the uninterrupted run's reference: its late status writes have landed).
func stable(t *testing.T, tn *tenant) snapshot {
	t.Helper()
	return settle(t, tn.snapshot, func(a, b snapshot) bool { return diff(a, b) == "" })
}

// live runs one tenant's life with a manager that crashes at its crashAt-th
// write (0: never). With want nil it waits for each stage's check and
// returns the state at each stage; otherwise it waits for want's states.
// It reports how many writes the first manager made and whether it crashed.
func live(t *testing.T, crashAt int, want []snapshot) (got []snapshot, writes int64, crashed bool) {
	return liveOf(t, lifeSpec{stages: life, armAfter: -1}, crashAt, want)
}

// liveOf is live for the life l: it returns the effective writes counted
// from where l arms the crash.
func liveOf(t *testing.T, l lifeSpec, crashAt int, want []snapshot) (got []snapshot, writes int64, crashed bool) {
	clk := clock.NewFake(epoch)
	armed := crashAt
	if l.armAfter >= 0 {
		armed = 0
	}
	sup := supervise(t, clk, armed)
	var base int64
	arm := func() {
		base = sup.first.effective.Load()
		if crashAt > 0 {
			sup.first.crashAt.Store(base + int64(crashAt))
		}
	}
	tn := newTenant(t, "life", epoch)
	if l.setup != nil {
		l.setup(t, tn)
	}
	allow, stopGuard := tn.guardVolume(t)
	t.Cleanup(func() {
		allow()
		stopGuard()
		sup.Stop()
		tn.discard(t)
	})
	for i, st := range l.stages {
		if st.terminates {
			allow()
		}
		if st.act != nil {
			st.act(t, tn)
		}
		clk.Set(st.at(tn))
		if want == nil {
			testenv.Eventually(t, wait, st.check(tn))
			got = append(got, stable(t, tn))
			if i == l.armAfter {
				arm()
			}
			continue
		}
		var last snapshot
		deadline := time.Now().Add(wait)
		for {
			s, err := tn.snapshot()
			must(t, err)
			last = s
			if diff(want[i], s) == "" || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if d := diff(want[i], last); d != "" {
			t.Fatalf("stage %q: the state differs from the uninterrupted run's:\n%s", st.name, d)
		}
		got = append(got, last)
		if i == l.armAfter {
			arm()
		}
	}
	return got, sup.first.effective.Load() - base, sup.first.isCrashed()
}

// Crash points: for every k, a manager that dies right after its k-th write
// reached the API server (the answer lost) and is restarted leaves the
// tenant, at every stage of its life, exactly as an uninterrupted manager
// does: same objects, none orphaned or duplicated, same statuses; and the
// site's volume is never deleted before terminateAt.
func TestCrashAtEveryWrite(t *testing.T) {
	crashEveryWrite(t, lifeSpec{stages: life, armAfter: -1})
}

// crashEveryWrite crashes the life l at each of its effective writes in
// turn (counted from where l arms the crash) and compares every stage with
// an uninterrupted life's.
func crashEveryWrite(t *testing.T, l lifeSpec) {
	var want []snapshot
	var total int64
	t.Run("uninterrupted", func(t *testing.T) {
		want, total, _ = liveOf(t, l, 0, nil)
		t.Logf("an uninterrupted life takes %d effective writes", total)
	})
	if want == nil {
		t.FailNow()
	}
	for k := 1; k < 1000; k++ {
		crashed := true
		t.Run(fmt.Sprintf("crash-at-write-%d", k), func(t *testing.T) {
			_, _, crashed = liveOf(t, l, k, want)
		})
		if !crashed {
			// Lives differ by a write or two (a conflict retried, a status
			// written twice), not by a quarter.
			if int64(k) <= total*3/4 {
				t.Errorf("a life made fewer than %d effective writes, an uninterrupted one %d", k, total)
			}
			t.Logf("crashed at each of the %d effective writes of a life", k-1)
			return
		}
	}
}
