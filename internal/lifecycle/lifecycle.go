// Package lifecycle computes a Subscription's phase and deadlines. Phase is a
// pure function of the spec, the plan's periods, the account's suspension,
// the facts Landlord has recorded on the object and the time; it never reads
// the object's previous status.
//
// Two facts cannot be derived from the spec alone, because the spec may change
// after they happened, and both are final. Landlord records each once, as an
// annotation on the Subscription, the first time it computes it:
//
//   - Cancelled (annotation hosting.landlord.dev/cancelled-at = the period end
//     at which cancelAtPeriodEnd took effect). Like Stripe's "canceled", it is
//     not undone by clearing cancelAtPeriodEnd or by a later paidThrough;
//     clearing cancelAtPeriodEnd before the period ends keeps the subscription.
//   - Terminated (annotation hosting.landlord.dev/terminated-at = the
//     terminateAt deadline that passed). Nothing revives it.
//
// The recorded value is the deadline that passed, not the time Landlord saw
// it, so an operator that was down reaches the same result.
//
// A third fact is an observation, not a deadline: Suspended (annotation
// hosting.landlord.dev/suspended-observed-at = the time Landlord first
// computed Suspended or Cancelled for the site). It is forgotten when the site
// returns to service. With a termination floor (Input.Floor, the
// --termination-floor flag), a site is terminated only after it has been
// observed suspended or cancelled for at least the floor, whatever the
// deadlines say: terminateAt = max(deadline, observed + floor). A billing
// correction that moves paidThrough far into the past, or a retention period
// of zero, therefore suspends the site first and says in terminateAt when its
// data will be deleted; an operator that was down while the deadlines passed
// suspends first too, since it observed nothing. Until the suspension is
// observed, terminateAt is predicted from the earliest moment it can be:
// max(suspendAt, now).
//
// Retention runs on the payment timeline, as hosting panels terminate only
// overdue services: terminateAt = periodEnd + grace + retention, or, once
// cancelled, cancelledAt + retention. A provider suspension (Manual, Fraud,
// Abuse, or an account suspension) holds a site suspended with its data for as
// long as the provider keeps it, but never brings termination forward: a paid
// site is not deleted because it is suspended. Since the site is suspended no
// later than periodEnd + grace, it is always suspended for at least the
// retention period before it is terminated.
package lifecycle

import (
	"time"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// Annotations holding the recorded facts.
const (
	CancelledAtAnnotation  = "hosting.landlord.dev/cancelled-at"
	TerminatedAtAnnotation = "hosting.landlord.dev/terminated-at"
	// SuspendedAtAnnotation records when Landlord first observed the site
	// Suspended or Cancelled (removed when it returns to service).
	SuspendedAtAnnotation = "hosting.landlord.dev/suspended-observed-at"
)

// DefaultTerminationFloor is the --termination-floor default: how long a site
// is observed suspended or cancelled, at least, before it is terminated.
const DefaultTerminationFloor = 24 * time.Hour

// Default periods, as the Plan CRD defaults them.
const (
	DefaultGracePeriod     = 336 * time.Hour
	DefaultRetentionPeriod = 720 * time.Hour
	DefaultRenewalNotice   = 336 * time.Hour
)

// Facts are what Landlord recorded on the object (see the package comment).
type Facts struct {
	CancelledAt  *time.Time
	TerminatedAt *time.Time
	// SuspendedAt is when Landlord first observed the site suspended or
	// cancelled (an observation time, not a deadline).
	SuspendedAt *time.Time
}

// Input is everything the phase depends on.
type Input struct {
	Now time.Time

	PaidThrough       *time.Time
	TrialEnd          *time.Time
	CancelAtPeriodEnd bool
	// Suspension is the subscription's spec.suspension.
	Suspension *v1.Suspension
	// AccountSuspension is the account's spec.suspension.
	AccountSuspension *v1.Suspension

	// Periods: the subscription's override, else the plan's, else the default.
	Grace, Retention, RenewalNotice time.Duration

	// Floor is the termination floor: the least time the site is observed
	// (Facts.SuspendedAt) suspended or cancelled before it is terminated.
	// Zero: no floor, termination at the deadline.
	Floor time.Duration

	Facts Facts
}

// Result is the computed phase and its deadlines.
type Result struct {
	Phase v1.SubscriptionPhase
	// Reason explains the phase: for Suspended the suspension reason
	// (NonPayment, Manual, Fraud, Abuse) or AccountSuspended.
	Reason string
	// Since is when the phase began, when the timeline knows it (deadline
	// crossings); nil when it began at an event the spec does not date (a
	// provider suspension was set).
	Since *time.Time

	// PeriodEnd is the end of the paid or trial period (nil = open-ended).
	PeriodEnd    *time.Time
	RenewalDueAt *time.Time
	SuspendAt    *time.Time
	TerminateAt  *time.Time
	// RenewalDue is true from RenewalDueAt on, until the subscription ends.
	RenewalDue bool

	// Next is the earliest deadline after Now at which the result changes
	// (nil = none): the controller requeues for it.
	Next *time.Time

	// Record are facts to record on the object now (nil fields: nothing new).
	// CancelledAt and TerminatedAt are recorded once; SuspendedAt replaces a
	// recorded observation that no longer counts.
	Record Facts
	// ForgetSuspendedAt: the site is in service; the recorded observation of
	// a suspension (Facts.SuspendedAt) is to be removed.
	ForgetSuspendedAt bool
}

// Compute returns the phase of a subscription.
func Compute(in Input) Result {
	now := in.Now
	var r Result

	if t := in.Facts.TerminatedAt; t != nil {
		r.Phase, r.Reason, r.Since = v1.PhaseTerminated, v1.ReasonTerminated, t
		r.TerminateAt = t
		return r
	}

	r.PeriodEnd = later(in.PaidThrough, in.TrialEnd)

	cancelledAt := in.Facts.CancelledAt
	if cancelledAt == nil && in.CancelAtPeriodEnd && r.PeriodEnd != nil && !now.Before(*r.PeriodEnd) {
		cancelledAt = r.PeriodEnd
		r.Record.CancelledAt = cancelledAt
	}

	switch {
	case cancelledAt != nil:
		r.SuspendAt = cancelledAt
		r.TerminateAt = add(cancelledAt, in.Retention)
	case r.PeriodEnd != nil:
		r.RenewalDueAt = add(r.PeriodEnd, -in.RenewalNotice)
		r.SuspendAt = add(r.PeriodEnd, in.Grace)
		r.TerminateAt = add(r.SuspendAt, in.Retention)
		r.RenewalDue = !now.Before(*r.RenewalDueAt)
	}

	nonPaymentHolds := in.Suspension != nil && in.Suspension.Reason == v1.SuspensionNonPayment &&
		(in.PaidThrough == nil || !now.Before(*in.PaidThrough))

	// The floor: termination only after the suspension was observed for
	// Floor. Without an observation, the earliest possible one is predicted.
	// (Observations are recorded, and so predicted, in whole seconds.) An
	// observation older than a suspension deadline that has passed belongs
	// to an earlier suspension that was not forgotten (Landlord was down
	// while the site was back in service): it does not count, and the
	// present one is recorded in its place.
	observed, seen := in.Facts.SuspendedAt, now.Truncate(time.Second)
	if observed != nil && r.SuspendAt != nil && observed.Before(*r.SuspendAt) && !now.Before(*r.SuspendAt) {
		observed = nil
	}
	if in.Floor > 0 && r.TerminateAt != nil {
		earliest := observed
		if earliest == nil {
			earliest = later(r.SuspendAt, &seen)
		}
		r.TerminateAt = later(r.TerminateAt, add(earliest, in.Floor))
	}

	switch {
	case r.TerminateAt != nil && !now.Before(*r.TerminateAt):
		r.Phase, r.Reason, r.Since = v1.PhaseTerminated, v1.ReasonTerminated, r.TerminateAt
		r.Record.TerminatedAt = r.TerminateAt
		r.Record.CancelledAt, r.Record.SuspendedAt = nil, nil
		r.RenewalDue, r.Next = false, nil
		return r
	case cancelledAt != nil:
		r.Phase, r.Reason, r.Since = v1.PhaseCancelled, v1.ReasonCancelled, cancelledAt
	case in.AccountSuspension != nil:
		r.Phase, r.Reason = v1.PhaseSuspended, v1.ReasonAccountSuspended
	case in.Suspension != nil && in.Suspension.Reason != v1.SuspensionNonPayment:
		r.Phase, r.Reason = v1.PhaseSuspended, string(in.Suspension.Reason)
	case r.SuspendAt != nil && !now.Before(*r.SuspendAt):
		r.Phase, r.Reason, r.Since = v1.PhaseSuspended, string(v1.SuspensionNonPayment), r.SuspendAt
	case nonPaymentHolds:
		r.Phase, r.Reason = v1.PhaseSuspended, string(v1.SuspensionNonPayment)
	case r.PeriodEnd != nil && !now.Before(*r.PeriodEnd):
		r.Phase, r.Reason, r.Since = v1.PhasePastDue, v1.ReasonRenewalDue, r.PeriodEnd
	case in.TrialEnd != nil && now.Before(*in.TrialEnd):
		r.Phase, r.Reason = v1.PhaseTrialing, string(v1.PhaseTrialing)
	default:
		r.Phase, r.Reason = v1.PhaseActive, string(v1.PhaseActive)
		if in.TrialEnd != nil {
			r.Since = in.TrialEnd
		}
	}
	if r.Phase == v1.PhaseCancelled {
		r.RenewalDue = false
	}
	switch suspended := r.Phase == v1.PhaseSuspended || r.Phase == v1.PhaseCancelled; {
	case suspended && observed == nil:
		r.Record.SuspendedAt = &seen
	case !suspended && observed != nil:
		r.ForgetSuspendedAt = true
	}

	// The next moment anything above can change.
	for _, t := range []*time.Time{in.TrialEnd, in.PaidThrough, r.PeriodEnd, r.RenewalDueAt, r.SuspendAt, r.TerminateAt} {
		if t != nil && t.After(now) && (r.Next == nil || t.Before(*r.Next)) {
			r.Next = t
		}
	}
	return r
}

// Timeline is the sequence of phases a subscription passes through when
// nothing but time changes, from the given input's spec: each step starts at
// its At. It explains (and the tests check) that a subscription left alone is
// suspended before it is terminated, however many deadlines pass at once.
type Step struct {
	At    time.Time
	Phase v1.SubscriptionPhase
}

// Timeline returns the steps whose start is at or before in.Now, in order.
func Timeline(in Input, from time.Time) []Step {
	var steps []Step
	at := from
	for {
		probe := in
		probe.Now = at
		r := Compute(probe)
		if len(steps) == 0 || steps[len(steps)-1].Phase != r.Phase {
			steps = append(steps, Step{At: at, Phase: r.Phase})
		}
		in.Facts.CancelledAt = firstNonNil(in.Facts.CancelledAt, r.Record.CancelledAt)
		in.Facts.TerminatedAt = firstNonNil(in.Facts.TerminatedAt, r.Record.TerminatedAt)
		in.Facts.SuspendedAt = firstNonNil(r.Record.SuspendedAt, in.Facts.SuspendedAt)
		if r.ForgetSuspendedAt {
			in.Facts.SuspendedAt = nil
		}
		if r.Next == nil || r.Next.After(in.Now) {
			return steps
		}
		at = *r.Next
	}
}

func firstNonNil(a, b *time.Time) *time.Time {
	if a != nil {
		return a
	}
	return b
}

func later(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case b.After(*a):
		return b
	}
	return a
}

func add(t *time.Time, d time.Duration) *time.Time {
	x := t.Add(d)
	return &x
}
