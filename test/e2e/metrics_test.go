package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// metric reads one sample from the manager's metrics endpoint ("" labels:
// the first series of that name); missing is -1.
func metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if name, value, ok := strings.Cut(line, " "); ok && name == series {
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

// The metrics a platform team alerts on are served beside controller-runtime's:
// objects by phase, phase transitions, DNS verification failures, and the
// delay from a deadline to Landlord acting on it.
func TestMetricsEndpoint(t *testing.T) {
	ctx := context.Background()
	ensureCatalogue(t)
	a := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: "metrics-co"},
		Spec: v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "ops@metrics.example"}}}
	if err := env.Client.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	ns := cfg.AccountNamespace(a.Name)
	paid := metav1.NewTime(clk.Now().Add(time.Hour))
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "blog"},
		Spec: v1.SubscriptionSpec{Plan: "business", Site: v1.SiteSpec{Template: "static"}, PaidThrough: &paid,
			GracePeriod: &metav1.Duration{Duration: time.Hour}}}
	testenv.Eventually(t, time.Minute, func() error { return env.Client.Create(ctx, sub) })
	// The domain goes into the site's namespace, once Landlord has made it.
	domain := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: cfg.SiteNamespace(a.Name, sub.Name), Name: "missing"},
		Spec: v1.CustomDomainSpec{Hostname: "blog" + unpublishedSuffix}}
	testenv.Eventually(t, time.Minute, func() error { return env.Client.Create(ctx, domain.DeepCopy()) })

	testenv.Eventually(t, time.Minute, func() error {
		if n := metric(t, `landlord_subscriptions{phase="Active"}`); n < 1 {
			return fmt.Errorf("landlord_subscriptions{phase=\"Active\"} = %v", n)
		}
		if n := metric(t, `landlord_accounts{phase="Active"}`); n < 1 {
			return fmt.Errorf("landlord_accounts{phase=\"Active\"} = %v", n)
		}
		if n := metric(t, `landlord_custom_domains{phase="PendingVerification"}`); n < 1 {
			return fmt.Errorf("landlord_custom_domains{phase=\"PendingVerification\"} = %v", n)
		}
		if n := metric(t, `landlord_dns_verification_failures_total{reason="RecordMissing"}`); n < 1 {
			return fmt.Errorf("no RecordMissing verification failure counted (%v)", n)
		}
		return nil
	})

	before := metric(t, `landlord_subscription_phase_transitions_total{phase="Suspended"}`)
	delays := metric(t, `landlord_deadline_action_delay_seconds_count{action="suspended"}`)
	clk.Step(2*time.Hour + time.Second) // past paidThrough + grace
	testenv.Eventually(t, time.Minute, func() error {
		if n := metric(t, `landlord_subscription_phase_transitions_total{phase="Suspended"}`); n < before+1 {
			return fmt.Errorf("suspension not counted: %v (was %v)", n, before)
		}
		if n := metric(t, `landlord_deadline_action_delay_seconds_count{action="suspended"}`); n < delays+1 {
			return fmt.Errorf("deadline delay not observed: %v (was %v)", n, delays)
		}
		return nil
	})
}
