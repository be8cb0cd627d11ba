package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/examples/portal"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// The portal example does what a hosting portal's backend does, against the
// real API server and every controller: a customer signs up, invites a
// colleague, buys a site, adds a domain and pays for another month; the
// account page then shows what Landlord reports.
func TestPortalExample(t *testing.T) {
	ctx := context.Background()
	ensureCatalogue(t)
	p := portal.Portal{Client: env.Client, NamespacePrefix: cfg.NamespacePrefix}

	if _, err := p.CreateCustomer(ctx, "initech", "Initech", "bill@initech.example"); err != nil {
		t.Fatal(err)
	}
	// The namespace appears once Landlord has reconciled the account; the
	// portal retries, as any client of an eventually consistent API does.
	testenv.Eventually(t, time.Minute, func() error {
		_, err := p.Invite(ctx, "initech", "peter", "peter@initech.example", v1.RoleDeveloper)
		return err
	})
	paid := clk.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	if _, err := p.Subscribe(ctx, "initech", "tps", "business", "static", paid); err != nil {
		t.Fatal(err)
	}
	// The domain goes into the site's namespace, which appears once Landlord
	// has reconciled the subscription; the portal retries until then.
	testenv.Eventually(t, time.Minute, func() error {
		_, err := p.AddDomain(ctx, "initech", "tps-domain", "tps", "TPS.Initech.example.", true)
		return err
	})

	// A database for the site; this platform has no database server
	// (--database-host), which its row says.
	if _, err := p.AddDatabase(ctx, "initech", "tps", "shop"); err != nil {
		t.Fatal(err)
	}

	newDate, err := p.Renew(ctx, "initech", "tps", 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := portal.AddMonths(paid, 1); !newDate.Equal(want) {
		t.Fatalf("renewal moved paidThrough to %s, want %s (one month from the old date)", newDate, want)
	}

	var page *portal.AccountPage
	testenv.Eventually(t, 2*time.Minute, func() error {
		if page, err = p.ReadAccountPage(ctx, "initech"); err != nil {
			return err
		}
		if page.Phase != v1.AccountActive || len(page.Sites) != 1 || len(page.Domains) != 1 {
			return fmt.Errorf("page not complete yet: %+v", page)
		}
		s := page.Sites[0]
		if !s.Ready || s.Phase != v1.PhaseActive || s.URL == "" || !s.PaidThrough.Time.Equal(newDate) {
			return fmt.Errorf("site row %+v", s)
		}
		if len(page.Databases) != 1 || page.Databases[0].Phase != v1.DatabasePending || !strings.Contains(page.Databases[0].Problem, "no database server") {
			return fmt.Errorf("database rows %+v", page.Databases)
		}
		if page.Domains[0].Phase != v1.DomainActive {
			recheckDNS()
			return fmt.Errorf("domain row %+v", page.Domains[0])
		}
		return nil
	})
	s, d := page.Sites[0], page.Domains[0]
	if s.Limits.Storage == nil || s.Limits.Storage.Cmp(resource.MustParse("20Gi")) != 0 {
		t.Errorf("site limits = %+v, want the business plan's 20Gi", s.Limits)
	}
	if d.Hostname != "tps.initech.example" || !strings.Contains(d.Instructions, "_landlord-challenge.tps.initech.example") {
		t.Errorf("domain row = %+v, want the canonical hostname and the TXT record to add", d)
	}
	found := false
	for _, m := range page.Members {
		found = found || (m.Subject == "User:peter@initech.example" && m.Role == v1.RoleDeveloper && m.Phase == v1.MembershipActive)
	}
	if !found {
		t.Errorf("members = %+v, want peter as an active Developer", page.Members)
	}
}

// ensureCatalogue applies the sample plans and templates (idempotent).
func ensureCatalogue(t *testing.T) {
	t.Helper()
	for _, o := range samples(t) {
		if o.GetKind() == "Plan" || o.GetKind() == "SiteTemplate" {
			if err := env.Client.Patch(context.Background(), o, client.Apply, client.FieldOwner(gitops), client.ForceOwnership); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The portal invites a freelancer to one site of a customer with two: the
// freelancer works in that site's namespace until the invitation expires,
// gets that Subscription, and sees nothing of the other site or of the
// account's members.
func TestPortalInvitesFreelancerToOneSite(t *testing.T) {
	ctx := context.Background()
	ensureCatalogue(t)
	p := portal.Portal{Client: env.Client, NamespacePrefix: cfg.NamespacePrefix}
	if _, err := p.CreateCustomer(ctx, "hooli", "Hooli", "gavin@hooli.example"); err != nil {
		t.Fatal(err)
	}
	paid := clk.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	for _, site := range []string{"www", "shop"} {
		testenv.Eventually(t, time.Minute, func() error {
			_, err := p.Subscribe(ctx, "hooli", site, "business", "static", paid)
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		})
	}
	const who = "richard@freelance.example"
	team, err := p.InviteToSite(ctx, "hooli", "shop", who, v1.TeamRoleDeveloper, clk.Now().Add(14*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Minute, func() error {
		got := &v1.Team{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(team), got); err != nil {
			return err
		}
		if len(got.Status.Members) != 1 || got.Status.Members[0].State != v1.TeamMemberBound {
			return fmt.Errorf("team status %+v", got.Status)
		}
		return nil
	})
	as := env.As(who)
	ns := cfg.AccountNamespace("hooli")
	if err := as.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, &v1.Subscription{}); err != nil {
		t.Errorf("the freelancer cannot get the site's Subscription: %v", err)
	}
	for what, err := range map[string]error{
		"the other site's Subscription": as.Get(ctx, client.ObjectKey{Namespace: ns, Name: "www"}, &v1.Subscription{}),
		"the account's Memberships":     as.List(ctx, &v1.MembershipList{}, client.InNamespace(ns)),
		"the other site's domains":      as.List(ctx, &v1.CustomDomainList{}, client.InNamespace(cfg.SiteNamespace("hooli", "www"))),
	} {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: want Forbidden, got %v", what, err)
		}
	}
	if err := as.List(ctx, &v1.CustomDomainList{}, client.InNamespace(cfg.SiteNamespace("hooli", "shop"))); err != nil {
		t.Errorf("the freelancer cannot list the site's domains: %v", err)
	}
}
