package lifecycle

import (
	"testing"
	"time"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

const day = 24 * time.Hour

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { x := t0.Add(d); return &x }
func ts(s string) *time.Time {
	x, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &x
}

// base: paid through t0, 14 days grace, 30 days retention, 7 days notice.
func base(now time.Duration, mod ...func(*Input)) Input {
	in := Input{Now: t0.Add(now), PaidThrough: at(0), Grace: 14 * day, Retention: 30 * day, RenewalNotice: 7 * day}
	for _, m := range mod {
		m(&in)
	}
	return in
}

func paid(d time.Duration) func(*Input)  { return func(in *Input) { in.PaidThrough = at(d) } }
func trial(d time.Duration) func(*Input) { return func(in *Input) { in.TrialEnd = at(d) } }
func noPaid(in *Input)                   { in.PaidThrough = nil }
func cancel(in *Input)                   { in.CancelAtPeriodEnd = true }
func suspend(r v1.SuspensionReason) func(*Input) {
	return func(in *Input) { in.Suspension = &v1.Suspension{Reason: r} }
}
func accountSuspend(in *Input) { in.AccountSuspension = &v1.Suspension{Reason: v1.SuspensionManual} }
func cancelledAt(d time.Duration) func(*Input) {
	return func(in *Input) { in.Facts.CancelledAt = at(d) }
}
func terminatedAt(d time.Duration) func(*Input) {
	return func(in *Input) { in.Facts.TerminatedAt = at(d) }
}

func TestCompute(t *testing.T) {
	P := func(p v1.SubscriptionPhase) v1.SubscriptionPhase { return p }
	cases := []struct {
		name   string
		in     Input
		phase  v1.SubscriptionPhase
		reason string
	}{
		// Trial, then paid.
		{"in trial", base(-20*day, noPaid, trial(-10*day)), P(v1.PhaseTrialing), "Trialing"},
		{"trial over, paid ahead: active", base(-5*day, paid(30*day), trial(-10*day)), P(v1.PhaseActive), "Active"},
		{"no paidThrough nor trial: open-ended", base(1*day, noPaid), P(v1.PhaseActive), "Active"},
		{"trial over unpaid: past due", base(1*day, noPaid, trial(0)), P(v1.PhasePastDue), "RenewalDue"},
		{"trial over unpaid, after grace: suspended", base(15*day, noPaid, trial(0)), P(v1.PhaseSuspended), "NonPayment"},
		{"trial with paidThrough before its end stays trialing", base(-1*day, paid(-5*day), trial(0)), P(v1.PhaseTrialing), "Trialing"},
		{"open-ended (no dates) is active", base(0, noPaid), P(v1.PhaseActive), "Active"},

		// Paid, past due, grace, renewal.
		{"paid ahead", base(-30 * day), P(v1.PhaseActive), "Active"},
		{"at paidThrough exactly: past due", base(0), P(v1.PhasePastDue), "RenewalDue"},
		{"in grace", base(13 * day), P(v1.PhasePastDue), "RenewalDue"},
		{"renewal during grace returns to active", base(13*day, paid(30*day)), P(v1.PhaseActive), "Active"},
		{"grace ends: suspended for non-payment", base(14 * day), P(v1.PhaseSuspended), "NonPayment"},
		{"renewal while suspended for non-payment lifts it", base(20*day, paid(30*day)), P(v1.PhaseActive), "Active"},
		{"spec NonPayment suspension holds while unpaid", base(2*day, suspend(v1.SuspensionNonPayment)), P(v1.PhaseSuspended), "NonPayment"},
		{"spec NonPayment suspension lifted by a future paidThrough", base(2*day, paid(30*day), suspend(v1.SuspensionNonPayment)), P(v1.PhaseActive), "Active"},

		// Provider suspensions survive a renewal.
		{"manual survives renewal", base(20*day, paid(365*day), suspend(v1.SuspensionManual)), P(v1.PhaseSuspended), "Manual"},
		{"fraud survives renewal", base(20*day, paid(365*day), suspend(v1.SuspensionFraud)), P(v1.PhaseSuspended), "Fraud"},
		{"abuse survives renewal", base(20*day, paid(365*day), suspend(v1.SuspensionAbuse)), P(v1.PhaseSuspended), "Abuse"},
		{"account suspension suspends a paid site", base(-20*day, accountSuspend), P(v1.PhaseSuspended), v1.ReasonAccountSuspended},
		{"account suspension suspends a trial", base(-20*day, noPaid, trial(0), accountSuspend), P(v1.PhaseSuspended), v1.ReasonAccountSuspended},
		{"manual suspension does not bring termination forward", base(40*day, paid(365*day), suspend(v1.SuspensionManual)), P(v1.PhaseSuspended), "Manual"},
		{"manual suspension does not hold off termination of an unpaid site", base(44*day, suspend(v1.SuspensionManual)), P(v1.PhaseTerminated), v1.ReasonTerminated},

		// Cancel at period end.
		{"cancel set, before period end: active", base(-1*day, cancel), P(v1.PhaseActive), "Active"},
		{"cancel undone before period end keeps active", base(1*day, paid(2*day)), P(v1.PhaseActive), "Active"},
		{"cancel at period end: cancelled, no grace", base(0, cancel), P(v1.PhaseCancelled), v1.ReasonCancelled},
		{"cancel undone after period end has no effect", base(1*day, cancelledAt(0)), P(v1.PhaseCancelled), v1.ReasonCancelled},
		{"renewal after cancellation has no effect", base(1*day, paid(365*day), cancelledAt(0)), P(v1.PhaseCancelled), v1.ReasonCancelled},
		{"cancelled: terminated after retention, no grace", base(30*day, cancelledAt(0)), P(v1.PhaseTerminated), v1.ReasonTerminated},
		{"cancelled one day before retention ends", base(29*day, cancel), P(v1.PhaseCancelled), v1.ReasonCancelled},

		// Termination is final.
		{"terminated after grace and retention", base(44 * day), P(v1.PhaseTerminated), v1.ReasonTerminated},
		{"one second before terminateAt: suspended", base(44*day - time.Second), P(v1.PhaseSuspended), "NonPayment"},
		{"terminated is never revived by a later paidThrough", base(50*day, paid(400*day), terminatedAt(44*day)), P(v1.PhaseTerminated), v1.ReasonTerminated},
		{"terminated is never revived by clearing a suspension", base(50*day, terminatedAt(44*day)), P(v1.PhaseTerminated), v1.ReasonTerminated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Compute(c.in)
			if r.Phase != c.phase || r.Reason != c.reason {
				t.Fatalf("got %s/%s, want %s/%s", r.Phase, r.Reason, c.phase, c.reason)
			}
		})
	}
}

func TestDeadlines(t *testing.T) {
	eq := func(t *testing.T, what string, got, want *time.Time) {
		t.Helper()
		if (got == nil) != (want == nil) || (got != nil && !got.Equal(*want)) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	cases := []struct {
		name                                 string
		in                                   Input
		renewalDueAt, suspendAt, terminateAt *time.Time
		renewalDue                           bool
		next                                 *time.Time
	}{
		{"active", base(-30 * day), at(-7 * day), at(14 * day), at(44 * day), false, at(-7 * day)},
		{"renewal due", base(-3 * day), at(-7 * day), at(14 * day), at(44 * day), true, at(0)},
		{"past due", base(1 * day), at(-7 * day), at(14 * day), at(44 * day), true, at(14 * day)},
		{"suspended", base(15 * day), at(-7 * day), at(14 * day), at(44 * day), true, at(44 * day)},
		{"cancelled", base(1*day, cancel), nil, at(0), at(30 * day), false, at(30 * day)},
		{"trial uses trial end", base(-20*day, noPaid, trial(0)), at(-7 * day), at(14 * day), at(44 * day), false, at(-7 * day)},
		{"open-ended has none", base(0, noPaid), nil, nil, nil, false, nil},
		{"terminated has no next", base(50 * day), at(-7 * day), at(14 * day), at(44 * day), false, nil},
		// Month end and leap day: deadlines are exact durations after paidThrough.
		{"month-end paidThrough",
			Input{Now: *ts("2025-01-31T23:59:59Z"), PaidThrough: ts("2025-01-31T23:59:59Z"), Grace: 14 * day, Retention: 30 * day, RenewalNotice: 7 * day},
			ts("2025-01-24T23:59:59Z"), ts("2025-02-14T23:59:59Z"), ts("2025-03-16T23:59:59Z"), true, ts("2025-02-14T23:59:59Z")},
		{"leap-day paidThrough",
			Input{Now: *ts("2024-02-28T00:00:00Z"), PaidThrough: ts("2024-02-29T00:00:00Z"), Grace: 1 * day, Retention: 1 * day, RenewalNotice: 2 * day},
			ts("2024-02-27T00:00:00Z"), ts("2024-03-01T00:00:00Z"), ts("2024-03-02T00:00:00Z"), true, ts("2024-02-29T00:00:00Z")},
		{"paidThrough in another zone",
			Input{Now: *ts("2024-02-29T22:30:00Z"), PaidThrough: ts("2024-03-01T00:00:00+02:00"), Grace: time.Hour, Retention: time.Hour, RenewalNotice: time.Hour},
			ts("2024-02-29T21:00:00Z"), ts("2024-02-29T23:00:00Z"), ts("2024-03-01T00:00:00Z"), true, ts("2024-02-29T23:00:00Z")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Compute(c.in)
			eq(t, "renewalDueAt", r.RenewalDueAt, c.renewalDueAt)
			eq(t, "suspendAt", r.SuspendAt, c.suspendAt)
			eq(t, "terminateAt", r.TerminateAt, c.terminateAt)
			eq(t, "next", r.Next, c.next)
			if r.RenewalDue != c.renewalDue {
				t.Errorf("renewalDue = %v, want %v", r.RenewalDue, c.renewalDue)
			}
		})
	}
}

func TestLeapDayPhases(t *testing.T) {
	in := Input{PaidThrough: ts("2024-02-29T00:00:00Z"), Grace: 24 * time.Hour, Retention: 24 * time.Hour}
	for now, want := range map[string]v1.SubscriptionPhase{
		"2024-02-28T23:59:59Z": v1.PhaseActive,
		"2024-02-29T00:00:00Z": v1.PhasePastDue,
		"2024-03-01T00:00:00Z": v1.PhaseSuspended,
		"2024-03-02T00:00:00Z": v1.PhaseTerminated,
	} {
		in.Now = *ts(now)
		if got := Compute(in).Phase; got != want {
			t.Errorf("at %s: %s, want %s", now, got, want)
		}
	}
}

// Facts are recorded once, with the deadline that passed (not the time seen).
func TestRecord(t *testing.T) {
	r := Compute(base(3*day, cancel))
	if r.Record.CancelledAt == nil || !r.Record.CancelledAt.Equal(t0) {
		t.Fatalf("cancellation recorded as %v, want %v", r.Record.CancelledAt, t0)
	}
	if r := Compute(base(3*day, cancelledAt(0))); r.Record.CancelledAt != nil {
		t.Fatalf("a recorded cancellation is recorded again")
	}
	r = Compute(base(400 * day))
	if r.Record.TerminatedAt == nil || !r.Record.TerminatedAt.Equal(t0.Add(44*day)) {
		t.Fatalf("termination recorded as %v, want %v", r.Record.TerminatedAt, t0.Add(44*day))
	}
	if got := FactsOf(r.Record.Annotations()); got.TerminatedAt == nil || !got.TerminatedAt.Equal(*r.Record.TerminatedAt) {
		t.Fatalf("annotations do not round-trip: %v", got)
	}
}

// An operator that was down while several deadlines passed still sees the
// site suspended before it is terminated, and terminated exactly at terminateAt.
func TestDeadlinesPassedWhileDownGoInOrder(t *testing.T) {
	for _, c := range []struct {
		name string
		in   Input
		want []Step
	}{
		{"unpaid", base(400*day, trial(-10*day)), []Step{
			{t0.Add(-10 * day), v1.PhaseActive}, {t0, v1.PhasePastDue},
			{t0.Add(14 * day), v1.PhaseSuspended}, {t0.Add(44 * day), v1.PhaseTerminated}}},
		{"cancelled", base(400*day, cancel), []Step{
			{t0.Add(-10 * day), v1.PhaseActive}, {t0, v1.PhaseCancelled}, {t0.Add(30 * day), v1.PhaseTerminated}}},
		{"trial never paid", base(400*day, noPaid, trial(0)), []Step{
			{t0.Add(-10 * day), v1.PhaseTrialing}, {t0, v1.PhasePastDue},
			{t0.Add(14 * day), v1.PhaseSuspended}, {t0.Add(44 * day), v1.PhaseTerminated}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Timeline(c.in, t0.Add(-10*day))
			if len(got) != len(c.want) {
				t.Fatalf("timeline %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i].Phase != c.want[i].Phase || !got[i].At.Equal(c.want[i].At) {
					t.Fatalf("step %d: %v, want %v (timeline %v)", i, got[i], c.want[i], got)
				}
			}
			// Whatever the moment the operator wakes up, the computed phase is
			// the timeline's: never Terminated before terminateAt.
			r := Compute(c.in)
			if r.Phase != v1.PhaseTerminated || !r.Since.Equal(c.want[len(c.want)-1].At) {
				t.Fatalf("woke up to %s since %v", r.Phase, r.Since)
			}
		})
	}
}

func TestInputForPeriods(t *testing.T) {
	sub := &v1.Subscription{}
	in := InputFor(sub, nil, nil, t0)
	if in.Grace != DefaultGracePeriod || in.Retention != DefaultRetentionPeriod || in.RenewalNotice != DefaultRenewalNotice {
		t.Fatalf("defaults not applied: %+v", in)
	}
}

func floor(d time.Duration) func(*Input) { return func(in *Input) { in.Floor = d } }
func retention(d time.Duration) func(*Input) {
	return func(in *Input) { in.Retention = d }
}
func observedAt(d time.Duration) func(*Input) {
	return func(in *Input) { in.Facts.SuspendedAt = at(d) }
}

// Termination only after the site was observed suspended or cancelled for the
// floor: terminateAt = max(deadline, observed + floor); without an
// observation, the site is suspended (and the observation recorded) instead.
func TestTerminationFloor(t *testing.T) {
	cases := []struct {
		name        string
		in          Input
		phase       v1.SubscriptionPhase
		terminateAt *time.Time
		record      *time.Time // Record.SuspendedAt
		forget      bool
	}{
		{"retention 0, first seen suspended: suspended, deletion a floor later",
			base(14*day+time.Hour, retention(0), floor(day)), v1.PhaseSuspended, at(15*day + time.Hour), at(14*day + time.Hour), false},
		{"retention 0, seen a floor minus a second ago: still suspended",
			base(15*day+time.Hour-time.Second, retention(0), floor(day), observedAt(14*day+time.Hour)), v1.PhaseSuspended, at(15*day + time.Hour), nil, false},
		{"retention 0, seen a floor ago: terminated",
			base(15*day+time.Hour, retention(0), floor(day), observedAt(14*day+time.Hour)), v1.PhaseTerminated, at(15*day + time.Hour), nil, false},
		{"backdated paidThrough, never seen suspended: suspended, not terminated",
			base(400*day, floor(day)), v1.PhaseSuspended, at(401 * day), at(400 * day), false},
		{"backdated paidThrough with cancelAtPeriodEnd: cancelled, not terminated",
			base(400*day, floor(day), cancel), v1.PhaseCancelled, at(401 * day), at(400 * day), false},
		{"operator down past every deadline: suspended first",
			base(50*day, floor(day)), v1.PhaseSuspended, at(51 * day), at(50 * day), false},
		{"retention longer than the floor: the deadline wins",
			base(44*day, floor(day), observedAt(14*day)), v1.PhaseTerminated, at(44 * day), nil, false},
		{"not yet suspended: terminateAt predicted from suspendAt",
			base(day, retention(0), floor(day)), v1.PhasePastDue, at(15 * day), nil, false},
		{"renewed after being seen suspended: the observation is forgotten",
			base(20*day, paid(60*day), floor(day), observedAt(14*day)), v1.PhaseActive, at(60*day + 14*day + 30*day), nil, true},
		{"provider suspension of a paid site: deadline unchanged",
			base(-20*day, suspend(v1.SuspensionManual), floor(day)), v1.PhaseSuspended, at(44 * day), at(-20 * day), false},
		{"no floor: terminated at the deadline, unobserved",
			base(400 * day), v1.PhaseTerminated, at(44 * day), nil, false},
		{"recorded termination stays final",
			base(400*day, floor(day), terminatedAt(44*day)), v1.PhaseTerminated, at(44 * day), nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Compute(c.in)
			if r.Phase != c.phase {
				t.Fatalf("phase %s (%s), want %s", r.Phase, r.Reason, c.phase)
			}
			if r.TerminateAt == nil || !r.TerminateAt.Equal(*c.terminateAt) {
				t.Errorf("terminateAt %v, want %v", r.TerminateAt, c.terminateAt)
			}
			if (r.Record.SuspendedAt == nil) != (c.record == nil) || (c.record != nil && !r.Record.SuspendedAt.Equal(*c.record)) {
				t.Errorf("recorded observation %v, want %v", r.Record.SuspendedAt, c.record)
			}
			if r.ForgetSuspendedAt != c.forget {
				t.Errorf("forget %v, want %v", r.ForgetSuspendedAt, c.forget)
			}
			if r.Phase != v1.PhaseTerminated && (r.Next == nil || r.Next.After(*r.TerminateAt)) {
				t.Errorf("next %v, want at or before terminateAt %v", r.Next, r.TerminateAt)
			}
		})
	}
	// The observation round-trips through the annotations.
	r := Compute(base(400*day, floor(day)))
	if got := FactsOf(r.Record.Annotations()).SuspendedAt; got == nil || !got.Equal(*r.Record.SuspendedAt) {
		t.Fatalf("observation does not round-trip: %v", got)
	}
}

// Left alone with a floor, a site passes through Suspended before Terminated,
// terminated at the later of the deadline and the observation plus the floor.
func TestTimelineWithFloor(t *testing.T) {
	for _, c := range []struct {
		name string
		in   Input
		want []Step
	}{
		{"retention 0", base(400*day, retention(0), floor(day)), []Step{
			{t0.Add(-10 * day), v1.PhaseActive}, {t0, v1.PhasePastDue},
			{t0.Add(14 * day), v1.PhaseSuspended}, {t0.Add(15 * day), v1.PhaseTerminated}}},
		{"retention longer than the floor", base(400*day, floor(day)), []Step{
			{t0.Add(-10 * day), v1.PhaseActive}, {t0, v1.PhasePastDue},
			{t0.Add(14 * day), v1.PhaseSuspended}, {t0.Add(44 * day), v1.PhaseTerminated}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Timeline(c.in, t0.Add(-10*day))
			if len(got) != len(c.want) {
				t.Fatalf("timeline %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i].Phase != c.want[i].Phase || !got[i].At.Equal(c.want[i].At) {
					t.Fatalf("step %d: %v, want %v (timeline %v)", i, got[i], c.want[i], got)
				}
			}
		})
	}
}

// An observation older than a passed suspension deadline is of an earlier
// suspension (not forgotten while Landlord was down): it does not count, and
// the present one replaces it.
func TestStaleObservationDoesNotCount(t *testing.T) {
	r := Compute(base(50*day, floor(day), observedAt(-20*day)))
	if r.Phase != v1.PhaseSuspended || r.Record.SuspendedAt == nil || !r.Record.SuspendedAt.Equal(t0.Add(50*day)) {
		t.Fatalf("got %s, recorded %v", r.Phase, r.Record.SuspendedAt)
	}
	if !r.TerminateAt.Equal(t0.Add(51 * day)) {
		t.Fatalf("terminateAt %v", r.TerminateAt)
	}
}
