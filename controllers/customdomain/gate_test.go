package customdomain_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// routesOf lists the HTTPRoutes that exist in ns, controlled by a CustomDomain.
func (h *harness) routesOf(t *testing.T, ns string) []string {
	t.Helper()
	list := &gatewayv1.HTTPRouteList{}
	if err := h.env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range list.Items {
		if ref := metav1.GetControllerOf(&r); ref != nil && ref.Kind == "CustomDomain" {
			out = append(out, ref.Name)
		}
	}
	return out
}

// The plan gate under concurrency: a site allowed two custom domains, eight
// domains whose TXT records appear at the same instant, verified by the
// manager's four workers in overlapping reconciles. Exactly two are routed,
// every round, never more at any moment seen, also in the rounds where the
// manager is killed in the middle (its connection dies after a few writes)
// and restarted. The routes that exist are counted, not only statuses.
func TestPlanGateUnderConcurrency(t *testing.T) {
	const rounds, domains, limit = 20, 8, 2
	// round → the manager dies after this many writes following the moment
	// the records appear.
	crashes := map[int]int64{6: 3, 13: 8, 19: 1}
	ctx := context.Background()
	for round := range rounds {
		tn := h.newTenant(t, fmt.Sprintf("gate%d", round))
		h.newSite(t, tn, "www", v1.PhaseActive, limit)
		site := h.siteNS(tn, "www")

		// Eight domains created at the same instant.
		cds := make([]*v1.CustomDomain, domains)
		var wg sync.WaitGroup
		for i := range domains {
			cds[i] = &v1.CustomDomain{
				ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: fmt.Sprintf("d%d", i)},
				Spec:       v1.CustomDomainSpec{Hostname: fmt.Sprintf("d%d.%s.example", i, tn.account.Name)},
			}
			wg.Go(func() {
				if err := h.env.Client.Create(ctx, cds[i]); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		// Each claimed and looked up once, before its record exists.
		for _, cd := range cds {
			h.domain(t, cd, condition(v1.ConditionVerified, metav1.ConditionFalse, v1.ReasonRecordMissing))
		}

		// The records appear at once; moving the clock makes every lookup due
		// at the same moment, so the workers verify in overlapping reconciles.
		for _, cd := range cds {
			h.publish(t, tn, cd.Spec.Hostname)
		}
		var died <-chan struct{}
		if n, ok := crashes[round]; ok {
			h.mu.Lock()
			died = h.wire.crashAfter(n)
			h.mu.Unlock()
		}
		h.clk.Step(time.Hour)
		if died != nil {
			select {
			case <-died:
			case <-time.After(wait):
				t.Fatalf("round %d: the manager made no writes to die at", round)
			}
			h.restart(t)
		}

		most := 0
		settled := func() error {
			routes := h.routesOf(t, site)
			most = max(most, len(routes))
			if len(routes) > limit {
				t.Fatalf("round %d: %d routes exist: %v", round, len(routes), routes)
			}
			active, waiting := 0, 0
			for _, cd := range cds {
				got := &v1.CustomDomain{}
				if err := h.env.Client.Get(ctx, client.ObjectKeyFromObject(cd), got); err != nil {
					return err
				}
				switch {
				case got.Status.Phase == v1.DomainActive:
					active++
				case condition(v1.ConditionRouted, metav1.ConditionFalse, v1.ReasonDomainLimitReached)(got) == nil:
					waiting++
				}
			}
			if len(routes) != limit || active != limit || waiting != domains-limit {
				return fmt.Errorf("round %d: routes %v, %d active, %d waiting", round, routes, active, waiting)
			}
			return nil
		}
		testenv.Eventually(t, wait, settled)
		testenv.Consistently(t, time.Second, settled)

		// The two slots are held by the two routed domains.
		slots := &coordinationv1.LeaseList{}
		if err := h.env.Client.List(ctx, slots, client.InNamespace(site), client.MatchingLabels{v1.SubscriptionLabel: "www"}); err != nil {
			t.Fatal(err)
		}
		routed := map[string]bool{}
		for _, name := range h.routesOf(t, site) {
			routed[name] = true
		}
		if len(slots.Items) != limit {
			t.Fatalf("round %d: %d slots", round, len(slots.Items))
		}
		for _, l := range slots.Items {
			if ref := metav1.GetControllerOf(&l); ref == nil || !routed[ref.Name] {
				t.Fatalf("round %d: slot %s held by %v, routed %v", round, l.Name, ref, routed)
			}
		}
		t.Logf("round %d: routed %v (at most %d routes seen)", round, routed, most)
	}
}
