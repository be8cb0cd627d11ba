package lifecycle

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// InputFor assembles the Input of a subscription on a plan (nil when the plan
// is unknown: the defaults apply), in an account whose suspension is
// accountSuspension, at now.
func InputFor(sub *v1.Subscription, plan *v1.Plan, accountSuspension *v1.Suspension, now time.Time) Input {
	var planSpec v1.PlanSpec
	if plan != nil {
		planSpec = plan.Spec
	}
	return Input{
		Now:               now,
		PaidThrough:       timeOf(sub.Spec.PaidThrough),
		TrialEnd:          timeOf(sub.Spec.TrialEnd),
		CancelAtPeriodEnd: sub.Spec.CancelAtPeriodEnd,
		Suspension:        sub.Spec.Suspension,
		AccountSuspension: accountSuspension,
		Grace:             period(sub.Spec.GracePeriod, planSpec.GracePeriod, DefaultGracePeriod),
		Retention:         period(sub.Spec.RetentionPeriod, planSpec.RetentionPeriod, DefaultRetentionPeriod),
		RenewalNotice:     period(nil, planSpec.RenewalNotice, DefaultRenewalNotice),
		Facts:             FactsOf(sub.GetAnnotations()),
	}
}

// FactsOf reads the recorded facts from annotations; a value that does not
// parse as RFC 3339 is ignored.
func FactsOf(annotations map[string]string) Facts {
	return Facts{
		CancelledAt:  parse(annotations[CancelledAtAnnotation]),
		TerminatedAt: parse(annotations[TerminatedAtAnnotation]),
		SuspendedAt:  parse(annotations[SuspendedAtAnnotation]),
	}
}

// Annotations returns the annotations recording f (only the set facts).
func (f Facts) Annotations() map[string]string {
	out := map[string]string{}
	if f.CancelledAt != nil {
		out[CancelledAtAnnotation] = f.CancelledAt.UTC().Format(time.RFC3339)
	}
	if f.TerminatedAt != nil {
		out[TerminatedAtAnnotation] = f.TerminatedAt.UTC().Format(time.RFC3339)
	}
	if f.SuspendedAt != nil {
		out[SuspendedAtAnnotation] = f.SuspendedAt.UTC().Format(time.RFC3339)
	}
	return out
}

func parse(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	return &t
}

func timeOf(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	x := t.Time
	return &x
}

func period(override, plan *metav1.Duration, def time.Duration) time.Duration {
	switch {
	case override != nil && override.Duration >= 0:
		return override.Duration
	case plan != nil && plan.Duration >= 0:
		return plan.Duration
	}
	return def
}
