package customdomain_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/miekg/dns"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/hostname"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var h *harness

// This package runs with the Gateway API and cert-manager CRDs installed.
func TestMain(m *testing.M) {
	crds, err := testenv.GatewayAPICRDs()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cm, err := testenv.ModuleDir("github.com/cert-manager/cert-manager@v1.21.2")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	crds = append(crds, filepath.Join(cm, "deploy", "crds", "cert-manager.io_certificates.yaml"))
	os.Exit(run(m, testenv.Options{ExtraCRDPaths: crds}, nil))
}

// run starts a control plane, a loopback DNS server and Landlord's manager,
// runs the tests and stops them all.
func run(m *testing.M, opts testenv.Options, mutate func(*platform.Config)) int {
	logger := logr.Discard()
	if os.Getenv("LANDLORD_TEST_LOG") != "" {
		logger = zap.New(zap.UseDevMode(true))
	}
	ctrl.SetLogger(logger)
	env, err := testenv.Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	var stop func()
	h, stop, err = start(env, mutate)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

// Verified → routed with the right backend; the non-primary redirects to the
// primary; unverified → no route; the customer is told exactly what to add.
func TestVerifiedDomainsAreRoutedAndRedirectToThePrimary(t *testing.T) {
	tn := h.newTenant(t, "route")
	h.newSite(t, tn, "www", v1.PhaseActive, 5)
	www := h.newDomain(t, h.env.Client, tn, "www", "WWW."+tn.account.Name+".Example.", "www", true)
	shop := h.newDomain(t, h.env.Client, tn, "shop", "shop."+tn.account.Name+".example", "www", false)
	wwwHost, shopHost := canonical(t, www.Spec.Hostname), canonical(t, shop.Spec.Hostname)

	got := h.domain(t, www, all(phase(v1.DomainPendingVerification),
		condition(v1.ConditionVerified, metav1.ConditionFalse, v1.ReasonRecordMissing),
		condition(v1.ConditionRouted, metav1.ConditionFalse, v1.ReasonRecordMissing)))
	token := customdomain.Token(string(tn.account.UID), wwwHost)
	if got.Status.Hostname != wwwHost || got.Status.Verification.RecordName != "_landlord-challenge."+wwwHost ||
		got.Status.Verification.RecordType != "TXT" || got.Status.Verification.Value != token || got.Status.Verification.LastCheckedAt == nil {
		t.Fatalf("status %+v", got.Status)
	}
	for _, want := range []string{"TXT", "_landlord-challenge." + wwwHost + ".", token, "CNAME", wwwHost + ".  " + h.cfg.DomainTarget + "."} {
		if !strings.Contains(got.Status.Instructions, want) {
			t.Errorf("instructions do not say %q:\n%s", want, got.Status.Instructions)
		}
	}
	h.noRoute(t, www)
	h.domain(t, shop, phase(v1.DomainPendingVerification))
	h.noRoute(t, shop)

	h.publish(t, tn, www.Spec.Hostname)
	h.publish(t, tn, shop.Spec.Hostname)
	h.recheck()
	h.domain(t, www, all(phase(v1.DomainActive), condition(v1.ConditionVerified, metav1.ConditionTrue, v1.ReasonReconciled)))
	h.domain(t, shop, phase(v1.DomainActive))
	h.routedTo(t, www, wwwHost, "", "www", "")
	h.routedTo(t, shop, shopHost, "", "", wwwHost)
	h.domain(t, shop, condition(v1.ConditionRouted, metav1.ConditionTrue, v1.ReasonReconciled))

	// While the subscription is suspended, both show the suspended page.
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "www"}}
	h.setSite(t, sub, v1.PhaseSuspended, nil)
	h.routedTo(t, www, wwwHost, h.cfg.OperatorNamespace, h.cfg.SuspendedService, "")
	h.routedTo(t, shop, shopHost, h.cfg.OperatorNamespace, h.cfg.SuspendedService, "")
	// The domain's status does not move with the site's phase (no write per
	// domain in an expiry burst): the route shows the suspended page.
	h.domain(t, www, all(phase(v1.DomainActive), condition(v1.ConditionRouted, metav1.ConditionTrue, v1.ReasonReconciled)))
	h.setSite(t, sub, v1.PhaseActive, nil)
	h.routedTo(t, shop, shopHost, "", "", wwwHost)
}

// The Certificate appears when cert-manager's API is installed; its Ready
// condition becomes CertificateReady and completes Ready.
func TestCertificateWithCertManager(t *testing.T) {
	ctx := context.Background()
	tn := h.newTenant(t, "tls")
	h.newSite(t, tn, "www", v1.PhaseActive, 5)
	h.publish(t, tn, "tls."+tn.account.Name+".example")
	cd := h.newDomain(t, h.env.Client, tn, "tls", "tls."+tn.account.Name+".example", "www", true)
	h.active(t, cd)
	h.domain(t, cd, all(condition(v1.ConditionCertificateReady, metav1.ConditionFalse, v1.ReasonProgressing),
		condition(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProgressing)))

	cert := &unstructured.Unstructured{}
	cert.SetGroupVersionKind(customdomain.CertificateGVK)
	key := client.ObjectKey{Namespace: cd.Namespace, Name: customdomain.CertificateName(cd)}
	if err := h.env.Client.Get(ctx, key, cert); err != nil {
		t.Fatal(err)
	}
	names, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	issuer, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
	kind, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "kind")
	if len(names) != 1 || names[0] != canonical(t, cd.Spec.Hostname) || issuer != h.cfg.CertIssuerName || kind != h.cfg.CertIssuerKind {
		t.Fatalf("certificate spec %v", cert.Object["spec"])
	}
	if !metav1.IsControlledBy(cert, cd) {
		t.Fatalf("certificate owners %v", cert.GetOwnerReferences())
	}

	// cert-manager reports the certificate issued.
	_ = unstructured.SetNestedSlice(cert.Object, []any{map[string]any{
		"type": "Ready", "status": "True", "reason": "Ready", "message": "issued", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	}}, "status", "conditions")
	if err := h.env.Client.Status().Update(ctx, cert); err != nil {
		t.Fatal(err)
	}
	h.domain(t, cd, all(condition(v1.ConditionCertificateReady, metav1.ConditionTrue, v1.ReasonReconciled),
		condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonReconciled)))

	// TLS Disabled: no certificate.
	tls := h.newDomain(t, h.env.Client, tn, "plain", "plain."+tn.account.Name+".example", "www", false)
	patch := client.MergeFrom(tls.DeepCopy())
	tls.Spec.TLS = &v1.DomainTLS{Mode: v1.TLSDisabled}
	if err := h.env.Client.Patch(ctx, tls, patch); err != nil {
		t.Fatal(err)
	}
	h.publish(t, tn, tls.Spec.Hostname)
	h.active(t, tls)
	h.domain(t, tls, condition(v1.ConditionCertificateReady, metav1.ConditionFalse, v1.ReasonTLSDisabled))
	if err := h.env.Client.Get(ctx, client.ObjectKey{Namespace: tls.Namespace, Name: customdomain.CertificateName(tls)}, cert); !apierrors.IsNotFound(err) {
		t.Fatalf("a certificate exists for a domain with TLS disabled (%v)", err)
	}
}

// Example.COM., example.com, and the Unicode and punycode spellings of a name
// all normalise to one hostname, so only the first claim wins.
func TestSpellingsOfOneHostnameCollide(t *testing.T) {
	a, b := h.newTenant(t, "spell-a"), h.newTenant(t, "spell-b")
	h.newSite(t, a, "www", v1.PhaseActive, 10)
	h.newSite(t, b, "www", v1.PhaseActive, 10)
	n := a.account.Name
	groups := [][]string{
		{"Example-" + n + ".COM.", "example-" + n + ".com", "EXAMPLE-" + n + ".com"},
		{"bücher-" + n + ".example", "BÜCHER-" + n + ".example.", "xn--bcher-" + n + "-" + "z.example"},
	}
	// The punycode spelling of the second group is computed, not guessed.
	groups[1][2] = canonical(t, groups[1][0])
	for gi, spellings := range groups {
		want := canonical(t, spellings[0])
		first := h.newDomain(t, h.env.Client, a, fmt.Sprintf("first-%d", gi), spellings[0], "www", false)
		h.domain(t, first, condition(v1.ConditionClaimed, metav1.ConditionTrue, v1.ReasonReconciled))
		for i, s := range spellings[1:] {
			if got := canonical(t, s); got != want {
				t.Fatalf("%q normalises to %q, not %q", s, got, want)
			}
			other := h.newDomain(t, h.env.Client, b, fmt.Sprintf("other-%d-%d", gi, i), s, "www", false)
			got := h.domain(t, other, all(phase(v1.DomainConflict), condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonClaimedElsewhere)))
			if got.Status.Hostname != want || got.Status.Verification.Value != "" {
				t.Errorf("conflicting domain status %+v", got.Status)
			}
			h.noRoute(t, other)
			// Another domain of the same account conflicts too, and is told which.
			same := h.newDomain(t, h.env.Client, a, fmt.Sprintf("same-%d-%d", gi, i), s, "www", false)
			got = h.domain(t, same, phase(v1.DomainConflict))
			if c := findCond(got, v1.ConditionClaimed); !strings.Contains(c.Message, first.Name) {
				t.Errorf("conflict within the account does not name the holder: %q", c.Message)
			}
		}
		c, err := h.claim(want)
		if err != nil || c.Spec.Account != a.account.Name || c.Spec.CustomDomain != first.Name || c.Spec.Namespace != h.siteNS(a, "www") || c.Spec.AccountUID != string(a.account.UID) {
			t.Fatalf("claim %+v (%v)", c.Spec, err)
		}
	}
}

// The same hostname created at once from two accounts has exactly one winner.
func TestConcurrentClaimsHaveExactlyOneWinner(t *testing.T) {
	a, b := h.newTenant(t, "race-a"), h.newTenant(t, "race-b")
	h.newSite(t, a, "www", v1.PhaseActive, 10)
	h.newSite(t, b, "www", v1.PhaseActive, 10)
	for round := range 5 {
		host := fmt.Sprintf("race-%d.%s.example", round, a.account.Name)
		name := fmt.Sprintf("race-%d", round)
		var wg sync.WaitGroup
		domains := make([]*v1.CustomDomain, 2)
		for i, tn := range []tenant{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cd := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: h.siteNS(tn, "www"), Name: name},
					Spec: v1.CustomDomainSpec{Hostname: host}}
				if err := h.env.Client.Create(context.Background(), cd); err != nil {
					t.Error(err)
				}
				domains[i] = cd
			}()
		}
		wg.Wait()
		winners := 0
		for _, cd := range domains {
			got := h.domain(t, cd, func(cd *v1.CustomDomain) error {
				if p := cd.Status.Phase; p != v1.DomainPendingVerification && p != v1.DomainConflict {
					return fmt.Errorf("phase %q", p)
				}
				return nil
			})
			if got.Status.Phase == v1.DomainPendingVerification {
				winners++
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners", round, winners)
		}
		c, err := h.claim(host)
		if err != nil {
			t.Fatal(err)
		}
		winner := h.domain(t, domains[0], func(*v1.CustomDomain) error { return nil })
		if (winner.Status.Phase == v1.DomainPendingVerification) != (c.Spec.Account == a.account.Name) {
			t.Fatalf("round %d: the claim names %s but the winner is the other", round, c.Spec.Account)
		}
	}
}

// A TXT token published for account A does not verify account B's claim.
func TestAnotherAccountsTokenDoesNotVerify(t *testing.T) {
	a, b := h.newTenant(t, "tok-a"), h.newTenant(t, "tok-b")
	h.newSite(t, b, "www", v1.PhaseActive, 5)
	host := "token." + b.account.Name + ".example"
	h.publish(t, a, host) // A's token at the record B's claim is checked against
	cd := h.newDomain(t, h.env.Client, b, "token", host, "www", false)
	h.domain(t, cd, condition(v1.ConditionClaimed, metav1.ConditionTrue, v1.ReasonReconciled))
	h.recheck()
	got := h.checked(t, cd)
	if got.Status.Phase != v1.DomainPendingVerification || got.Status.Verification.VerifiedAt != nil {
		t.Fatalf("A's token verified B's domain: %+v", got.Status)
	}
	h.noRoute(t, cd)

	h.publish(t, b, host)
	h.recheck()
	h.domain(t, cd, phase(v1.DomainActive))
}

// A domain under the platform's base domain is refused and claims nothing.
func TestPlatformDomainIsRefused(t *testing.T) {
	tn := h.newTenant(t, "platform")
	h.newSite(t, tn, "www", v1.PhaseActive, 5)
	host := "Shop-" + tn.account.Name + "." + strings.ToUpper(h.cfg.BaseDomain) + "."
	cd := h.newDomain(t, h.env.Client, tn, "sneaky", host, "www", false)
	h.domain(t, cd, all(phase(v1.DomainFailed),
		condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonPlatformDomain),
		condition(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonPlatformDomain)))
	if _, err := h.claim(canonical(t, host)); !apierrors.IsNotFound(err) {
		t.Fatalf("a platform hostname was claimed (%v)", err)
	}
	h.noRoute(t, cd)
}

// A tenant cannot create or change DomainClaims or the route objects; it can
// create CustomDomains. Checked with the Landlord tenant roles when
// config/rbac/tenant is installed, and with Kubernetes' own "admin" role.
func TestTenantCannotWriteClaimsOrRoutes(t *testing.T) {
	ctx := context.Background()
	tn := h.newTenant(t, "rbac")
	h.newSite(t, tn, "www", v1.PhaseActive, 5)
	h.publish(t, tn, "rbac."+tn.account.Name+".example")
	mine := h.newDomain(t, h.env.Client, tn, "mine", "rbac."+tn.account.Name+".example", "www", false)
	h.active(t, mine)
	site := mine.Namespace

	roles := []struct {
		name     string
		landlord bool
	}{
		{"landlord-tenant-owner", true}, {"landlord-tenant-admin", true}, {"landlord-tenant-developer", true}, {"admin", false},
	}
	for _, role := range roles {
		t.Run(role.name, func(t *testing.T) {
			if err := h.env.Client.Get(ctx, client.ObjectKey{Name: role.name}, &rbacv1.ClusterRole{}); apierrors.IsNotFound(err) {
				t.Skipf("ClusterRole %s is not installed on this branch", role.name)
			}
			user := "rbac-" + role.name + "@" + tn.account.Name
			rb := &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: testenv.Name("rb")},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.name},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
			}
			if err := h.env.Client.Create(ctx, rb); err != nil {
				t.Fatal(err)
			}
			as := h.env.As(user)
			forbidden := func(what string, err error) {
				t.Helper()
				if !apierrors.IsForbidden(err) {
					t.Errorf("%s: %v, want Forbidden", what, err)
				}
			}
			host := "stolen-" + role.name + "." + tn.account.Name + ".example"
			forbidden("creating a DomainClaim", as.Create(ctx, &v1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: host},
				Spec: v1.DomainClaimSpec{Hostname: host, Account: tn.account.Name, AccountUID: string(tn.account.UID), Namespace: site, CustomDomain: "x"}}))
			claim, err := h.claim(canonical(t, mine.Spec.Hostname))
			if err != nil {
				t.Fatal(err)
			}
			forbidden("deleting a DomainClaim", as.Delete(ctx, claim))
			forbidden("creating an HTTPRoute", as.Create(ctx, &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "mine"},
				Spec: gatewayv1.HTTPRouteSpec{Hostnames: []gatewayv1.Hostname{gatewayv1.Hostname(host)}}}))
			route, err := h.route(mine)
			if err != nil {
				t.Fatal(err)
			}
			forbidden("deleting the domain's HTTPRoute", as.Delete(ctx, route))
			// The plan gate's slots: a tenant can neither take a free one nor
			// free a taken one.
			forbidden("creating a slot", as.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: customdomain.SlotName("www", 4)}}))
			slot := &coordinationv1.Lease{}
			if err := h.env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: customdomain.SlotName("www", 0)}, slot); err != nil {
				t.Fatal(err)
			}
			forbidden("deleting a slot", as.Delete(ctx, slot))
			if role.landlord {
				forbidden("creating an Ingress", as.Create(ctx, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "mine"},
					Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: host}}}}))
				cd := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: testenv.Name("tenant")},
					Spec: v1.CustomDomainSpec{Hostname: "tenant-" + host}}
				if err := as.Create(ctx, cd); err != nil {
					t.Errorf("the tenant cannot create a CustomDomain: %v", err)
				}
			}
		})
	}
}

// Re-verification: a missing record lapses the domain (warning Event, still
// routed), the route is removed after the grace, and the record coming back
// restores it.
func TestLapsedDomainIsUnroutedAfterGraceAndRestored(t *testing.T) {
	ctx := context.Background()
	tn := h.newTenant(t, "lapse")
	h.newSite(t, tn, "www", v1.PhaseActive, 5)
	host := "lapse." + tn.account.Name + ".example"
	h.publish(t, tn, host)
	cd := h.newDomain(t, h.env.Client, tn, "lapse", host, "www", true)
	h.active(t, cd)
	h.routedTo(t, cd, host, "", "www", "")
	verifiedAt := h.domain(t, cd, phase(v1.DomainActive)).Status.Verification.VerifiedAt.Time

	h.dns.Remove(customdomain.RecordName(host))
	h.clk.Set(verifiedAt.Add(h.cfg.ReverifyInterval))
	h.domain(t, cd, all(phase(v1.DomainLapsed), condition(v1.ConditionVerified, metav1.ConditionFalse, v1.ReasonLapsed),
		condition(v1.ConditionRouted, metav1.ConditionTrue, v1.ReasonReconciled)))
	h.routedTo(t, cd, host, "", "www", "")
	testenv.Eventually(t, wait, func() error {
		list := &eventsv1.EventList{}
		if err := h.env.Client.List(ctx, list, client.InNamespace(cd.Namespace)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == cd.Name && e.Type == "Warning" && e.Reason == v1.ReasonLapsed {
				return nil
			}
		}
		return fmt.Errorf("no warning Event among %d", len(list.Items))
	})

	// Just before the grace ends it is still routed; after, it is not.
	h.clk.Set(verifiedAt.Add(h.cfg.LapseGrace - time.Minute))
	h.checked(t, cd)
	h.domain(t, cd, phase(v1.DomainLapsed))
	h.routedTo(t, cd, host, "", "www", "")
	h.clk.Set(verifiedAt.Add(h.cfg.LapseGrace))
	h.unrouted(t, cd)
	h.domain(t, cd, all(phase(v1.DomainPendingVerification), condition(v1.ConditionRouted, metav1.ConditionFalse, v1.ReasonLapsed)))

	h.publish(t, tn, host)
	h.clk.Step(time.Hour)
	h.domain(t, cd, phase(v1.DomainActive))
	h.routedTo(t, cd, host, "", "www", "")
}

// A failing DNS server does not unroute or un-verify anything: the lookup is
// retried with backoff and the condition says so.
func TestLookupFailureIsReportedAndRetried(t *testing.T) {
	tn := h.newTenant(t, "servfail")
	h.newSite(t, tn, "www", v1.PhaseActive, 5)
	host := "servfail." + tn.account.Name + ".example"
	h.dns.Fail(customdomain.RecordName(host), dns.RcodeServerFailure)
	cd := h.newDomain(t, h.env.Client, tn, "servfail", host, "www", false)
	h.domain(t, cd, all(phase(v1.DomainPendingVerification), condition(v1.ConditionVerified, metav1.ConditionUnknown, v1.ReasonLookupFailed)))
	h.publish(t, tn, host)
	h.dns.Fail(customdomain.RecordName(host), 0)
	// The workqueue's backoff retries without the clock moving.
	h.domain(t, cd, phase(v1.DomainActive))
}

// The plan gate: at most customDomains routed per site; a lowered limit keeps
// what is routed; the oldest waiting domain gets a freed slot.
func TestPlanGate(t *testing.T) {
	ctx := context.Background()
	tn := h.newTenant(t, "gate")
	sub := h.newSite(t, tn, "www", v1.PhaseActive, 1)
	var domains []*v1.CustomDomain
	for i := range 3 {
		host := fmt.Sprintf("d%d.%s.example", i, tn.account.Name)
		h.publish(t, tn, host)
		domains = append(domains, h.newDomain(t, h.env.Client, tn, fmt.Sprintf("d%d", i), host, "www", false))
		h.domain(t, domains[i], condition(v1.ConditionVerified, metav1.ConditionTrue, v1.ReasonReconciled))
	}
	h.domain(t, domains[0], phase(v1.DomainActive))
	for _, cd := range domains[1:] {
		h.domain(t, cd, all(phase(v1.DomainVerified), condition(v1.ConditionRouted, metav1.ConditionFalse, v1.ReasonDomainLimitReached)))
		h.noRoute(t, cd)
	}

	// A downgrade to 0 keeps the routed domain.
	h.setSite(t, sub, v1.PhaseActive, ptr.To[int32](0))
	h.recheck()
	h.domain(t, domains[0], phase(v1.DomainActive))
	h.routedTo(t, domains[0], canonical(t, domains[0].Spec.Hostname), "", "www", "")

	// Raising it to 2 routes the older of the two waiting domains only.
	h.setSite(t, sub, v1.PhaseActive, ptr.To[int32](2))
	h.domain(t, domains[1], phase(v1.DomainActive))
	h.domain(t, domains[2], condition(v1.ConditionRouted, metav1.ConditionFalse, v1.ReasonDomainLimitReached))

	// Deleting a routed domain frees its slot for the waiting one.
	if err := h.env.Client.Delete(ctx, domains[0]); err != nil {
		t.Fatal(err)
	}
	h.domain(t, domains[2], phase(v1.DomainActive))
}

// Deleting the CustomDomain, terminating its site, or deleting its account
// releases the claim, and a domain of another account waiting for the
// hostname then claims, verifies and routes it.
func TestReleaseLetsAnotherAccountClaim(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		release func(t *testing.T, holder tenant, sub *v1.Subscription, cd *v1.CustomDomain)
	}{
		{"delete the domain", func(t *testing.T, _ tenant, _ *v1.Subscription, cd *v1.CustomDomain) {
			if err := h.env.Client.Delete(ctx, cd); err != nil {
				t.Fatal(err)
			}
		}},
		{"terminate the site", func(t *testing.T, _ tenant, sub *v1.Subscription, cd *v1.CustomDomain) {
			h.setSite(t, sub, v1.PhaseTerminated, nil)
			h.unrouted(t, cd)
			h.domain(t, cd, all(phase(v1.DomainFailed), condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonTerminated)))
		}},
		{"delete the account", func(t *testing.T, holder tenant, _ *v1.Subscription, cd *v1.CustomDomain) {
			a := holder.account
			if err := h.env.Client.Get(ctx, client.ObjectKeyFromObject(a), a); err != nil {
				t.Fatal(err)
			}
			patch := client.MergeFrom(a.DeepCopy())
			a.Spec.DeletionProtection = ptr.To(false)
			if err := h.env.Client.Patch(ctx, a, patch); err != nil {
				t.Fatal(err)
			}
			if err := h.env.Client.Delete(ctx, a); err != nil {
				t.Fatal(err)
			}
			h.unrouted(t, cd)
			h.domain(t, cd, condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonNoAccount))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			holder, next := h.newTenant(t, "holder"), h.newTenant(t, "next")
			sub := h.newSite(t, holder, "www", v1.PhaseActive, 5)
			h.newSite(t, next, "www", v1.PhaseActive, 5)
			host := "released." + holder.account.Name + ".example"
			h.publish(t, holder, host)
			cd := h.newDomain(t, h.env.Client, holder, "held", host, "www", true)
			h.active(t, cd)
			waiting := h.newDomain(t, h.env.Client, next, "waiting", strings.ToUpper(host), "www", true)
			h.domain(t, waiting, phase(v1.DomainConflict))

			tc.release(t, holder, sub, cd)
			// The next account's domain takes the claim by itself (the
			// released claim wakes it); it verifies with its own token.
			h.domain(t, waiting, condition(v1.ConditionClaimed, metav1.ConditionTrue, v1.ReasonReconciled))
			c, err := h.claim(canonical(t, host))
			if err != nil || c.Spec.Account != next.account.Name {
				t.Fatalf("claim %+v (%v)", c.Spec, err)
			}
			h.publish(t, next, host)
			h.recheck()
			h.domain(t, waiting, phase(v1.DomainActive))
			h.routedTo(t, waiting, canonical(t, host), "", "www", "")
		})
	}
}

// A CustomDomain's site is the site of its namespace. One in a namespace
// that is no site's (the account namespace, or a site namespace whose
// Subscription does not exist) is refused by status and claims nothing; the
// site appearing later (as a GitOps tool applies in any order) brings it to
// life without a touch.
func TestDomainOutsideASiteHoldsNothing(t *testing.T) {
	ctx := context.Background()
	tn := h.newTenant(t, "nosite")
	noSite := func(cd *v1.CustomDomain, message string) {
		t.Helper()
		got := h.domain(t, cd, all(phase(v1.DomainFailed), condition(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonNoSite),
			condition(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonNoSite)))
		if c := findCond(got, v1.ConditionClaimed); !strings.Contains(c.Message, message) {
			t.Errorf("the NoSite message does not say %q: %q", message, c.Message)
		}
		if _, err := h.claim(canonical(t, cd.Spec.Hostname)); !apierrors.IsNotFound(err) {
			t.Errorf("%s/%s claimed its hostname outside a site (%v)", cd.Namespace, cd.Name, err)
		}
		h.noRoute(t, cd)
	}

	// In the account namespace: refused at admission
	// (config/admission/placement.yaml), with where it belongs.
	inAccount := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "misplaced"},
		Spec: v1.CustomDomainSpec{Hostname: "misplaced." + tn.account.Name + ".example"}}
	// (The policy may take a moment to be enforced after the environment starts.)
	testenv.Eventually(t, wait, func() error {
		if err := h.env.Client.Create(ctx, inAccount.DeepCopy(), client.DryRunAll); !apierrors.IsForbidden(err) ||
			!strings.Contains(err.Error(), "create it in the namespace of the site it is for, "+tn.ns+"--<subscription>") {
			return fmt.Errorf("a CustomDomain in the account namespace: %v, want the placement policy's refusal", err)
		}
		return nil
	})
	// In a namespace that is no tenant's (out of the policy's scope): not a
	// site, and the status says so.
	plain := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("plain")}}
	if err := h.env.Client.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	inAccount.Namespace = plain.Name
	if err := h.env.Client.Create(ctx, inAccount); err != nil {
		t.Fatal(err)
	}
	noSite(inAccount, "status.site.namespace")

	// Before its site namespace exists, the API server refuses the create;
	// a GitOps tool retries.
	early := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: h.siteNS(tn, "www"), Name: "early"},
		Spec: v1.CustomDomainSpec{Hostname: "early." + tn.account.Name + ".example", Primary: true}}
	if err := h.env.Client.Create(ctx, early.DeepCopy()); !apierrors.IsNotFound(err) {
		t.Fatalf("a CustomDomain in a namespace that does not exist yet: %v, want NotFound", err)
	}
	// The namespace appears first (labelled for the site), its Subscription
	// later: in between the domain has no site.
	h.newSiteNamespace(t, tn, "www")
	if err := h.env.Client.Create(ctx, early); err != nil {
		t.Fatal(err)
	}
	noSite(early, "does not exist")

	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "www"},
		Spec: v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}}}
	if err := h.env.Client.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	h.setSite(t, sub, v1.PhaseActive, ptr.To[int32](1))
	h.publish(t, tn, early.Spec.Hostname)
	h.domain(t, early, condition(v1.ConditionClaimed, metav1.ConditionTrue, v1.ReasonReconciled))
	h.recheck()
	h.domain(t, early, phase(v1.DomainActive))
	h.routedTo(t, early, canonical(t, early.Spec.Hostname), "", "www", "")
	// The misplaced one still holds nothing.
	noSite(inAccount, "status.site.namespace")
}

// Two sites of one account are separate: each has its own plan gate (slots
// in its own namespace), its own primary, and routes to its own Service.
func TestTwoSitesOfOneAccountHaveTheirOwnPlanGate(t *testing.T) {
	ctx := context.Background()
	tn := h.newTenant(t, "twosites")
	h.newSite(t, tn, "www", v1.PhaseActive, 1)
	h.newSite(t, tn, "blog", v1.PhaseActive, 1)
	domains := map[string][]*v1.CustomDomain{}
	for _, site := range []string{"www", "blog"} {
		for i := range 2 {
			host := fmt.Sprintf("%s%d.%s.example", site, i, tn.account.Name)
			h.publish(t, tn, host)
			// The first of www is primary: it says nothing about blog's domains.
			cd := h.newDomain(t, h.env.Client, tn, fmt.Sprintf("d%d", i), host, site, site == "www" && i == 0)
			domains[site] = append(domains[site], cd)
			h.domain(t, cd, condition(v1.ConditionVerified, metav1.ConditionTrue, v1.ReasonReconciled))
		}
	}
	for site, cds := range domains {
		h.domain(t, cds[0], phase(v1.DomainActive))
		h.routedTo(t, cds[0], canonical(t, cds[0].Spec.Hostname), "", site, "")
		h.domain(t, cds[1], all(phase(v1.DomainVerified), condition(v1.ConditionRouted, metav1.ConditionFalse, v1.ReasonDomainLimitReached)))
		h.noRoute(t, cds[1])
		ns := h.siteNS(tn, site)
		if got := h.routesOf(t, ns); len(got) != 1 || got[0] != cds[0].Name {
			t.Errorf("routes in %s: %v", ns, got)
		}
		slots := &coordinationv1.LeaseList{}
		if err := h.env.Client.List(ctx, slots, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(slots.Items) != 1 || slots.Items[0].Name != customdomain.SlotName(site, 0) ||
			slots.Items[0].Labels[v1.SubscriptionLabel] != site || !metav1.IsControlledBy(&slots.Items[0], cds[0]) {
			t.Errorf("slots of %s: %+v", site, slots.Items)
		}
	}
	// The account namespace holds none of it.
	if got := h.routesOf(t, tn.ns); len(got) != 0 {
		t.Errorf("routes in the account namespace: %v", got)
	}

	// Freeing www's slot admits www's waiting domain, not blog's.
	if err := h.env.Client.Delete(ctx, domains["www"][0]); err != nil {
		t.Fatal(err)
	}
	h.domain(t, domains["www"][1], phase(v1.DomainActive))
	h.routedTo(t, domains["www"][1], canonical(t, domains["www"][1].Spec.Hostname), "", "www", "")
	testenv.Consistently(t, 2*time.Second, func() error {
		got := &v1.CustomDomain{}
		if err := h.env.Client.Get(ctx, client.ObjectKeyFromObject(domains["blog"][1]), got); err != nil {
			return err
		}
		return condition(v1.ConditionRouted, metav1.ConditionFalse, v1.ReasonDomainLimitReached)(got)
	})
	h.noRoute(t, domains["blog"][1])
}

// The Go mirror of the CRD's hostname rules agrees with the real API server
// on a corpus of tricky names (a dry-run create of each).
func TestAdmissionAgreesWithGoMirror(t *testing.T) {
	ctx := context.Background()
	tn := h.newTenant(t, "admission")
	siteNS := h.newSiteNamespace(t, tn, "www") // where CustomDomains are admitted (config/admission/placement.yaml)
	label63 := strings.Repeat("a", 63)
	corpus := []string{
		"shop.example.com", "Shop.Example.COM.", "café.fr", "cafe\u0301.fr", "xn--caf-dma.fr", "例え.テスト", "ｓｈｏｐ.example.com",
		"*.example.com", "a*b.example.com", "my shop.example.com", "tab\tshop.example.com", "nl\nshop.example.com",
		"exa\u00a0mple.com", "exa\u3000mple.com", "https://shop.example.com/", "shop.example.com:443", "user@shop.example.com",
		"shop.example.com/path", "shop.example.com?q", "shop.example.com#f", "shop..example.com", ".example.com", "example.com.",
		"example.com..", "-shop.example.com", "shop-.example.com", "shop.-example.com", "shop.example-.com", "localhost", "localhost.",
		"a.b", "1.2.3.4", "sh_op.example.com", "shop!.example.com", "😀.example.com", "exa\u3002mple.com", "a\u200db.example.com",
		"ab--cd.example.com", label63 + ".com", label63 + "a.com", strings.Repeat("é", 63) + ".fr", strings.Repeat("é", 64) + ".fr",
		strings.Repeat(label63+".", 3) + strings.Repeat("a", 61), strings.Repeat(label63+".", 3) + strings.Repeat("a", 62),
		strings.Repeat("é.", 126) + "é", strings.Repeat("é.", 127), "ex\u0301ample.com", "١٢٣.example", "x.y.z.w.v.example.com", "-", ".",
		"a.", ".a", "a-b-c.d-e", "ǅ.example", "ß.de", "İ.tr",
		// Edges of the length limits (characters, not bytes), invisible and
		// look-alike characters, compatibility forms, and what people paste.
		"", " shop.example.com", "shop.example.com ", "shop.example.com\r", "\x00.example.com", "shop\x7f.example.com",
		"shop.example.com\u200b", "sh\u00adop.example.com", "shop\u2028.example.com", "\ufeffshop.example.com", "\u202eshop.example.com",
		"XN--CAF-DMA.FR", "xn--.example", "xn--zz.example", "Ω.example", "ﬁ.example", "①.example", "ＳＨＯＰ．ＥＸＡＭＰＬＥ．ＣＯＭ",
		"[::1]", "::1", "shop.example.com\\", "%2e.example.com", "shop%2Eexample.com", "a.b.", "a-.b", "a.-b", "--.example",
		strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 126) + "ab", strings.Repeat("é", 63) + "." + strings.Repeat("é", 63),
		label63 + "." + label63 + "." + label63 + "." + strings.Repeat("é", 61), "shop.example.com" + strings.Repeat(".", 1),
	}
	for i, s := range corpus {
		cd := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: siteNS, Name: fmt.Sprintf("c%d", i)},
			Spec: v1.CustomDomainSpec{Hostname: s}}
		apiErr := h.env.Client.Create(ctx, cd, client.DryRunAll)
		goErr := hostname.Admissible(s)
		if (apiErr == nil) != (goErr == nil) {
			t.Errorf("%q: API server says %v, Go mirror says %v", s, apiErr, goErr)
		}
		if apiErr != nil && !apierrors.IsInvalid(apiErr) {
			t.Errorf("%q: unexpected error %v", s, apiErr)
		}
		// What is admitted is then either canonical or refused with a reason.
		if apiErr == nil {
			if _, err := hostname.Canonical(s); err != nil {
				t.Logf("%q is admitted, then refused by normalisation: %v", s, err)
			}
		}
	}
}

func findCond(cd *v1.CustomDomain, typ string) metav1.Condition {
	for _, c := range cd.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}
