package customdomain_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// claimHeldBy checks that host's claim names the CustomDomain cd.
func (h *harness) claimHeldBy(host string, cd *v1.CustomDomain) error {
	c, err := h.claim(host)
	if err != nil {
		return err
	}
	if c.Spec.Namespace != cd.Namespace || c.Spec.CustomDomain != cd.Name {
		return fmt.Errorf("claim on %s held by %s/%s, want %s/%s", host, c.Spec.Namespace, c.Spec.CustomDomain, cd.Namespace, cd.Name)
	}
	return nil
}

// Squatting: account A claims a hostname it never verifies; account B, which
// controls it in DNS, waits. Before the (shortened) claim TTL A keeps it;
// after it, B takes the claim, verifies and is routed, and A's domain says
// why it lost the claim. A verified claim is kept past the TTL.
func TestUnverifiedClaimExpiresForAnotherAccount(t *testing.T) {
	a, b := h.newTenant(t, "squat-a"), h.newTenant(t, "squat-b")
	h.newSite(t, a, "www", v1.PhaseActive, 5)
	h.newSite(t, b, "www", v1.PhaseActive, 5)
	host := "shop." + b.account.Name + ".example"

	squat := h.newDomain(t, h.env.Client, a, "squat", host, "www", true)
	h.domain(t, squat, all(phase(v1.DomainPendingVerification), condition(v1.ConditionClaimed, metav1.ConditionTrue, v1.ReasonReconciled)))
	owner := h.newDomain(t, h.env.Client, b, "owner", host, "www", true)
	h.domain(t, owner, all(phase(v1.DomainConflict), condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonClaimedElsewhere)))
	h.publish(t, b, host)

	// Within the TTL: A keeps the claim, B waits.
	h.clk.Step(h.cfg.DomainClaimTTL - time.Hour)
	testenv.Consistently(t, 2*time.Second, func() error { return h.claimHeldBy(host, squat) })
	h.domain(t, owner, phase(v1.DomainConflict))

	// Past the TTL: B takes the claim, is verified and routed; A is told why.
	h.clk.Step(2 * time.Hour)
	h.domain(t, owner, phase(v1.DomainActive))
	h.routedTo(t, owner, host, "", "www", "")
	if err := h.claimHeldBy(host, owner); err != nil {
		t.Fatal(err)
	}
	got := h.domain(t, squat, all(phase(v1.DomainConflict), condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonClaimExpired)))
	if c := findCond(got, v1.ConditionClaimed); !strings.Contains(c.Message, "expired") {
		t.Errorf("A's domain does not say its claim expired: %q", c.Message)
	}
	h.noRoute(t, squat)

	// B's claim is verified: it is kept past the TTL, whoever waits.
	again := h.newDomain(t, h.env.Client, a, "again", host, "www", false)
	h.domain(t, again, all(phase(v1.DomainConflict), condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonClaimedElsewhere)))
	h.clk.Step(h.cfg.DomainClaimTTL + time.Hour)
	testenv.Consistently(t, 2*time.Second, func() error { return h.claimHeldBy(host, owner) })
	h.domain(t, owner, phase(v1.DomainActive))
}

// An account's custom domains are capped at the sum of its sites'
// customDomains limits plus the allowance for pending ones: the newest
// beyond it claim nothing and say why; deleting one lets the next claim.
func TestAccountDomainCap(t *testing.T) {
	ctx := context.Background()
	tn := h.newTenant(t, "cap")
	h.newSite(t, tn, "www", v1.PhaseActive, 1)
	h.newSite(t, tn, "blog", v1.PhaseActive, 0)
	capacity := 1 + customdomain.AccountDomainAllowance
	var cds []*v1.CustomDomain
	for i := range capacity + 2 {
		sub := "www"
		if i%2 == 1 {
			sub = "blog"
		}
		// Created in order, named in order: (creationTimestamp, name) is i.
		cds = append(cds, h.newDomain(t, h.env.Client, tn, fmt.Sprintf("c%02d", i), fmt.Sprintf("c%02d.%s.example", i, tn.account.Name), sub, false))
	}
	for i, cd := range cds {
		if i < capacity {
			h.domain(t, cd, condition(v1.ConditionClaimed, metav1.ConditionTrue, v1.ReasonReconciled))
			continue
		}
		got := h.domain(t, cd, all(phase(v1.DomainPendingVerification), condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonAccountDomainLimitReached)))
		if c := findCond(got, v1.ConditionClaimed); !strings.Contains(c.Message, fmt.Sprint(capacity)) {
			t.Errorf("the message does not give the cap %d: %q", capacity, c.Message)
		}
		if _, err := h.claim(canonical(t, cd.Spec.Hostname)); err == nil {
			t.Errorf("%s claimed its hostname beyond the cap", cd.Name)
		}
	}
	// Deleting an older domain lets the first one waiting claim (domains
	// beyond the cap look again every 10 minutes, or when the clock moves).
	if err := h.env.Client.Delete(ctx, cds[0]); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, wait, func() error {
		h.clk.Step(time.Second)
		got := &v1.CustomDomain{}
		if err := h.env.Client.Get(ctx, client.ObjectKeyFromObject(cds[capacity]), got); err != nil {
			return err
		}
		return condition(v1.ConditionClaimed, metav1.ConditionTrue, v1.ReasonReconciled)(got)
	})
	h.domain(t, cds[capacity+1], condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonAccountDomainLimitReached))
}
