package lifecycle

import (
	"testing"
	"time"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// FuzzCompute checks the invariants of the phase function on arbitrary
// inputs: termination only at or after terminateAt (or when recorded), never
// without passing through Suspended or Cancelled first, and, with a floor,
// never before the site was observed suspended or cancelled for the floor;
// deadlines in order, the next wake-up in the future. Run:
// go test -fuzz=FuzzCompute ./internal/lifecycle
func FuzzCompute(f *testing.F) {
	f.Add(int64(0), int64(10), int64(-1), false, uint8(0), uint8(0), int64(14), int64(30), int64(7), false, int64(0), int64(-1))
	f.Add(int64(50), int64(0), int64(-1), true, uint8(0), uint8(0), int64(14), int64(30), int64(7), false, int64(24), int64(-1))
	f.Add(int64(20), int64(0), int64(5), false, uint8(2), uint8(1), int64(0), int64(0), int64(0), false, int64(24), int64(10))
	f.Add(int64(100), int64(0), int64(0), false, uint8(1), uint8(0), int64(1), int64(1), int64(1), true, int64(24), int64(99))
	f.Add(int64(5000), int64(0), int64(-1), false, uint8(0), uint8(0), int64(14), int64(0), int64(7), false, int64(24), int64(-1))
	f.Fuzz(func(t *testing.T, nowH, paidH, trialH int64, cancelAtEnd bool, susp, acct uint8, graceH, retH, noticeH int64, cancelledFact bool, floorH, observedH int64) {
		clamp := func(h int64) int64 { return h % (24 * 365 * 20) }
		hours := func(h int64) time.Duration { return time.Duration(clamp(h)) * time.Hour }
		nonneg := func(h int64) time.Duration {
			if h < 0 {
				h = -h
			}
			return hours(h)
		}
		in := Input{Now: t0.Add(hours(nowH)), CancelAtPeriodEnd: cancelAtEnd,
			Grace: nonneg(graceH), Retention: nonneg(retH), RenewalNotice: nonneg(noticeH)}
		if paidH >= 0 {
			in.PaidThrough = at(hours(paidH))
		}
		if trialH >= 0 {
			in.TrialEnd = at(hours(trialH))
		}
		reasons := []v1.SuspensionReason{"", v1.SuspensionNonPayment, v1.SuspensionManual, v1.SuspensionFraud, v1.SuspensionAbuse}
		if r := reasons[int(susp)%len(reasons)]; r != "" {
			in.Suspension = &v1.Suspension{Reason: r}
		}
		if acct%2 == 1 {
			in.AccountSuspension = &v1.Suspension{Reason: v1.SuspensionManual}
		}
		if cancelledFact && in.PaidThrough != nil && !in.Now.Before(*in.PaidThrough) {
			in.Facts.CancelledAt = in.PaidThrough
		}
		in.Floor = nonneg(floorH)
		if observedH >= 0 && !at(hours(observedH)).After(in.Now) {
			in.Facts.SuspendedAt = at(hours(observedH))
		}

		r := Compute(in)
		suspended := r.Phase == v1.PhaseSuspended || r.Phase == v1.PhaseCancelled
		if in.Floor > 0 && r.Phase == v1.PhaseTerminated {
			// The floor: terminated only after being observed suspended or
			// cancelled for at least the floor.
			obs := in.Facts.SuspendedAt
			if obs == nil || in.Now.Before(obs.Add(in.Floor)) || r.TerminateAt.Before(obs.Add(in.Floor)) {
				t.Fatalf("terminated at %v (terminateAt %v), observed suspended at %v, floor %v", in.Now, r.TerminateAt, obs, in.Floor)
			}
		}
		if in.Floor > 0 && suspended && r.TerminateAt != nil {
			obs := r.Record.SuspendedAt
			if obs == nil {
				obs = in.Facts.SuspendedAt
			}
			if obs == nil || r.TerminateAt.Before(obs.Add(in.Floor)) {
				t.Fatalf("%s with terminateAt %v before the observation %v plus the floor %v", r.Phase, r.TerminateAt, obs, in.Floor)
			}
		}
		// A suspension is observed (recorded once); back in service, the
		// observation is forgotten.
		observedNow := in.Facts.SuspendedAt != nil || r.Record.SuspendedAt != nil
		stale := in.Facts.SuspendedAt != nil && r.SuspendAt != nil && in.Facts.SuspendedAt.Before(*r.SuspendAt) && !in.Now.Before(*r.SuspendAt)
		if (suspended && !observedNow) || (r.Record.SuspendedAt != nil && (!suspended || (in.Facts.SuspendedAt != nil && !stale))) ||
			(r.Phase != v1.PhaseTerminated && r.ForgetSuspendedAt != (!suspended && in.Facts.SuspendedAt != nil)) {
			t.Fatalf("%s: observation %v, recorded %v, forget %v", r.Phase, in.Facts.SuspendedAt, r.Record.SuspendedAt, r.ForgetSuspendedAt)
		}
		if r.Phase == v1.PhaseTerminated {
			if r.TerminateAt == nil || in.Now.Before(*r.TerminateAt) {
				t.Fatalf("terminated before terminateAt %v at %v", r.TerminateAt, in.Now)
			}
			if r.Next != nil {
				t.Fatalf("terminated with a next deadline")
			}
			// Replaying from before the period shows a suspension before
			// termination (for a retention of zero it lasts no time at all).
			steps := Timeline(in, in.Now.Add(-hours(24*365*41)))
			if in.Retention > 0 && in.Facts.CancelledAt == nil && (len(steps) < 2 || (steps[len(steps)-2].Phase != v1.PhaseSuspended && steps[len(steps)-2].Phase != v1.PhaseCancelled)) {
				t.Fatalf("terminated without being suspended first: %v", steps)
			}
			// Final: a later paidThrough does not revive it.
			again := in
			again.Facts = Facts{TerminatedAt: r.Record.TerminatedAt}
			again.PaidThrough = at(hours(24 * 365 * 30))
			if Compute(again).Phase != v1.PhaseTerminated {
				t.Fatalf("revived")
			}
		} else if r.TerminateAt != nil && !in.Now.Before(*r.TerminateAt) {
			t.Fatalf("%s at %v, past terminateAt %v", r.Phase, in.Now, r.TerminateAt)
		}
		if r.Next != nil && !r.Next.After(in.Now) {
			t.Fatalf("next %v is not after now %v", r.Next, in.Now)
		}
		if r.SuspendAt != nil && r.TerminateAt != nil && r.TerminateAt.Before(*r.SuspendAt) {
			t.Fatalf("terminateAt %v before suspendAt %v", r.TerminateAt, r.SuspendAt)
		}
		if r.Since != nil && r.Since.After(in.Now) {
			t.Fatalf("phase since %v, after now %v", r.Since, in.Now)
		}
	})
}
