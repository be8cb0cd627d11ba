package subscription_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/lifecycle"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// suspendedUntil checks that sub is Suspended (or Cancelled, when cancelled)
// with its data and workload kept, deletion announced at terminateAt, and the
// observation of the suspension recorded.
func suspendedUntil(t *testing.T, sub *v1.Subscription, want v1.SubscriptionPhase, terminateAt time.Time) func() error {
	return func() error {
		cur := get(t, sub)
		if cur.Status.Phase != want {
			return fmt.Errorf("phase %s, want %s", cur.Status.Phase, want)
		}
		if at := cur.Status.TerminateAt; at == nil || !at.Time.Equal(terminateAt) {
			return fmt.Errorf("terminateAt %v, want %v", at, terminateAt)
		}
		if cur.Annotations[lifecycle.SuspendedAtAnnotation] == "" {
			return fmt.Errorf("the observation of the suspension is not recorded: %v", cur.Annotations)
		}
		return env.Client.Get(t.Context(), client.ObjectKey{Namespace: siteNS(platform.Default(), sub), Name: platform.SiteName(sub.Name)}, &appsv1.Deployment{})
	}
}

// terminated checks that sub is Terminated and its site namespace gone.
func terminated(t *testing.T, sub *v1.Subscription) func() error {
	return func() error {
		if p := get(t, sub).Status.Phase; p != v1.PhaseTerminated {
			return fmt.Errorf("phase %s, want Terminated", p)
		}
		return absent(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS(platform.Default(), sub)}})
	}
}

// A retention period of 0s does not delete a site the moment its grace ends:
// it is suspended, observed suspended for the termination floor (default
// 24h), and only then terminated; status.terminateAt says when.
func TestRetentionZeroSuspendsForTheFloor(t *testing.T) {
	clk, cfg := start(t)
	if cfg.TerminationFloor != 24*time.Hour {
		t.Fatalf("termination floor %v, want the 24h default", cfg.TerminationFloor)
	}
	_, ns := newAccount(t, cfg)
	plan := newPlan(t, func(p *v1.PlanSpec) { p.RetentionPeriod = &metav1.Duration{Duration: 0} })
	tmpl := newTemplate(t, "nginx:1.27")
	sub := newSubscription(t, ns, plan, tmpl, func(s *v1.SubscriptionSpec) { s.PaidThrough = &metav1.Time{Time: t0.Add(2 * day)} })
	testenv.Eventually(t, wait, born(t, sub, v1.PhaseActive))

	// Past paidThrough + grace (the retention deadline too): suspended.
	seen := t0.Add(3*day + time.Hour)
	clk.Set(seen)
	testenv.Eventually(t, wait, suspendedUntil(t, sub, v1.PhaseSuspended, seen.Add(cfg.TerminationFloor)))

	// A minute before the floor has passed: still suspended, data kept.
	clk.Set(seen.Add(cfg.TerminationFloor - time.Minute))
	testenv.Consistently(t, 2*time.Second, suspendedUntil(t, sub, v1.PhaseSuspended, seen.Add(cfg.TerminationFloor)))

	clk.Set(seen.Add(cfg.TerminationFloor))
	testenv.Eventually(t, wait, terminated(t, sub))
}

// A billing correction that moves paidThrough a year into the past does not
// delete the site at once: it is suspended for the floor first.
func TestBackdatedPaidThroughSuspendsForTheFloor(t *testing.T) {
	clk, cfg := start(t)
	_, ns := newAccount(t, cfg)
	plan := newPlan(t, nil)
	tmpl := newTemplate(t, "nginx:1.27")
	sub := newSubscription(t, ns, plan, tmpl, nil)
	testenv.Eventually(t, wait, born(t, sub, v1.PhaseActive))

	backdated := t0.Add(-365 * day)
	update(t, sub, func(s *v1.Subscription) {
		metav1.SetMetaDataAnnotation(&s.ObjectMeta, v1.PaidThroughCorrectionAnnotation, backdated.UTC().Format(time.RFC3339))
		s.Spec.PaidThrough = &metav1.Time{Time: backdated}
	})
	testenv.Eventually(t, wait, suspendedUntil(t, sub, v1.PhaseSuspended, t0.Add(cfg.TerminationFloor)))

	clk.Set(t0.Add(cfg.TerminationFloor - time.Minute))
	testenv.Consistently(t, 2*time.Second, suspendedUntil(t, sub, v1.PhaseSuspended, t0.Add(cfg.TerminationFloor)))

	clk.Set(t0.Add(cfg.TerminationFloor))
	testenv.Eventually(t, wait, terminated(t, sub))
}
