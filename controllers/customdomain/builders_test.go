package customdomain

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) *metav1.Time { t := metav1.NewTime(t0.Add(d)); return &t }

func domain(name string, created time.Duration, primary bool, phase v1.DomainPhase) v1.CustomDomain {
	return v1.CustomDomain{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "acct-acme--www", UID: types.UID("uid-" + name), CreationTimestamp: *at(created)},
		Spec:       v1.CustomDomainSpec{Hostname: name + ".example.com", Primary: primary},
		Status:     v1.CustomDomainStatus{Phase: phase, Hostname: name + ".example.com"},
	}
}

func TestToken(t *testing.T) {
	a := Token("uid-a", "shop.example.com")
	cases := []struct {
		name string
		got  string
		same bool
	}{
		{"stable", Token("uid-a", "shop.example.com"), true},
		{"another account", Token("uid-b", "shop.example.com"), false},
		{"another hostname", Token("uid-a", "www.example.com"), false},
		{"no ambiguity between uid and hostname", Token("uid-ashop.example.com", ""), false},
	}
	for _, tc := range cases {
		if (tc.got == a) != tc.same {
			t.Errorf("%s: %q vs %q", tc.name, tc.got, a)
		}
	}
	if !strings.HasPrefix(a, TokenPrefix) || len(a) != len(TokenPrefix)+32 {
		t.Errorf("token %q", a)
	}
	if !Matches([]string{"v=spf1 -all", " " + a + " "}, a) || Matches([]string{Token("uid-b", "shop.example.com")}, a) {
		t.Error("Matches")
	}
}

func TestStateAndNextCheck(t *testing.T) {
	const day = 24 * time.Hour
	grace := 7 * day
	cases := []struct {
		name      string
		v         v1.Verification
		now       time.Duration
		wantState dnsState
		wantNext  time.Duration // from t0; -1 = at once
	}{
		{"never looked up", v1.Verification{}, 0, dnsPending, -1},
		{"missing since creation: every minute", v1.Verification{LastCheckedAt: at(10 * time.Minute)}, 10 * time.Minute, dnsPending, 11 * time.Minute},
		{"missing for hours: every 10 minutes", v1.Verification{LastCheckedAt: at(2 * time.Hour)}, 2 * time.Hour, dnsPending, 2*time.Hour + 10*time.Minute},
		{"missing for days: hourly", v1.Verification{LastCheckedAt: at(3 * day)}, 3 * day, dnsPending, 3*day + time.Hour},
		{"found: re-verify a day later", v1.Verification{LastCheckedAt: at(time.Hour), VerifiedAt: at(time.Hour)}, time.Hour, dnsVerified, day + time.Hour},
		{"lapsed within the grace", v1.Verification{LastCheckedAt: at(day), VerifiedAt: at(0)}, day, dnsLapsed, day + time.Hour},
		{"lapsed past the grace", v1.Verification{LastCheckedAt: at(7 * day), VerifiedAt: at(0)}, 7 * day, dnsExpired, 7*day + time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state, _ := State(tc.v, t0.Add(tc.now), grace)
			if state != tc.wantState {
				t.Errorf("state = %v, want %v", state, tc.wantState)
			}
			next := NextCheck(tc.v, t0, day)
			if tc.wantNext < 0 {
				if !next.IsZero() {
					t.Errorf("next = %v, want at once", next)
				}
			} else if !next.Equal(t0.Add(tc.wantNext)) {
				t.Errorf("next = %v, want %v", next.Sub(t0), tc.wantNext)
			}
		})
	}
	if _, deadline := State(v1.Verification{LastCheckedAt: at(day), VerifiedAt: at(0)}, t0.Add(day), grace); !deadline.Equal(t0.Add(grace)) {
		t.Errorf("deadline = %v", deadline)
	}
}

func TestGate(t *testing.T) {
	self := domain("c", 3*time.Minute, false, v1.DomainVerified)
	routedSelf := domain("c", 3*time.Minute, false, v1.DomainActive)
	slot := func(i int32, holder string) Slot { return Slot{Index: i, Holder: "uid-" + holder} }
	cases := []struct {
		name     string
		self     v1.CustomDomain
		siblings []v1.CustomDomain
		slots    []Slot
		limit    int32
		held     []int32
		try      []int32
		inUse    int32
	}{
		{"none allowed", self, nil, nil, 0, nil, nil, 0},
		{"a free slot", self, nil, nil, 1, nil, []int32{0}, 0},
		{"the free slots, lowest first", self, nil, []Slot{slot(1, "a")}, 3, nil, []int32{0, 2}, 1},
		{"slot taken", self, nil, []Slot{slot(0, "a")}, 1, nil, nil, 1},
		{"held", self, nil, []Slot{slot(0, "c"), slot(1, "a")}, 2, []int32{0}, nil, 2},
		{"held over a lowered limit: kept, no free slot to move to", self, nil, []Slot{slot(0, "a"), slot(1, "c")}, 1, []int32{1}, nil, 2},
		{"held over a lowered limit: moves down to a free slot", self, nil, []Slot{slot(3, "c")}, 2, []int32{3}, []int32{0, 1}, 1},
		{"an over-limit slot of another domain: wait", self, nil, []Slot{slot(2, "a")}, 2, nil, nil, 1},
		{"older verified competitor wins the last slot", self, []v1.CustomDomain{domain("a", 0, false, v1.DomainVerified)}, nil, 1, nil, nil, 0},
		{"older verified competitor leaves a second slot", self, []v1.CustomDomain{domain("a", 0, false, v1.DomainVerified)}, nil, 2, nil, []int32{0, 1}, 0},
		{"younger verified competitor loses", self, []v1.CustomDomain{domain("z", time.Hour, false, v1.DomainVerified)}, nil, 1, nil, []int32{0}, 0},
		{"same creation time: name decides", self, []v1.CustomDomain{domain("b", 3*time.Minute, false, v1.DomainVerified)}, nil, 1, nil, nil, 0},
		{"unverified domains do not compete", self, []v1.CustomDomain{domain("a", 0, false, v1.DomainPendingVerification), domain("b", 0, false, v1.DomainConflict)}, nil, 1, nil, []int32{0}, 0},
		{"a slot holder does not compete", self, []v1.CustomDomain{domain("a", 0, false, v1.DomainVerified)}, []Slot{slot(0, "a")}, 2, nil, []int32{1}, 1},
		{"a routed domain that lost its slot goes first", self, []v1.CustomDomain{domain("z", time.Hour, false, v1.DomainActive)}, nil, 1, nil, nil, 0},
		{"routed without a slot, self goes before verified ones", routedSelf, []v1.CustomDomain{domain("a", 0, false, v1.DomainVerified)}, nil, 1, nil, []int32{0}, 0},
		{"self listed among siblings is not counted", self, []v1.CustomDomain{self}, nil, 1, nil, []int32{0}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Gate(&tc.self, tc.siblings, tc.slots, tc.limit)
			if !slices.Equal(d.Held, tc.held) || !slices.Equal(d.Try, tc.try) || d.InUse != tc.inUse {
				t.Errorf("Gate = %+v, want held %v try %v inUse %d", d, tc.held, tc.try, tc.inUse)
			}
		})
	}
}

func TestSlotNames(t *testing.T) {
	if got := SlotName("www", 3); got != "www-slot-3" {
		t.Fatalf("SlotName = %s", got)
	}
	for name, want := range map[string]int32{"www-slot-0": 0, "www-slot-12": 12} {
		if got, ok := slotIndex("www", name); !ok || got != want {
			t.Errorf("slotIndex(%s) = %d %v", name, got, ok)
		}
	}
	for _, name := range []string{"www-slot-", "www-slot-01", "www-slot--1", "www-slot-x", "shop-slot-0", "www-2-slot-0"} {
		if _, ok := slotIndex("www", name); ok {
			t.Errorf("slotIndex(%s) accepted", name)
		}
	}
}

func TestRedirectTarget(t *testing.T) {
	plain := domain("b", time.Minute, false, v1.DomainVerified)
	primary := domain("a", 0, true, v1.DomainActive)
	cases := []struct {
		name     string
		self     v1.CustomDomain
		siblings []v1.CustomDomain
		want     string
	}{
		{"no primary: route to the site", plain, []v1.CustomDomain{domain("c", 0, false, v1.DomainActive)}, ""},
		{"redirect to the routed primary", plain, []v1.CustomDomain{primary}, "a.example.com"},
		{"an unrouted primary is no target", plain, []v1.CustomDomain{domain("a", 0, true, v1.DomainPendingVerification)}, ""},
		{"the primary itself routes to the site", primary, []v1.CustomDomain{plain}, ""},
		{"two primaries: the younger redirects to the older", domain("z", time.Hour, true, v1.DomainVerified), []v1.CustomDomain{primary}, "a.example.com"},
		{"two primaries: the older keeps the site", primary, []v1.CustomDomain{domain("z", time.Hour, true, v1.DomainActive)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedirectTarget(&tc.self, tc.siblings); got != tc.want {
				t.Errorf("RedirectTarget = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLimit(t *testing.T) {
	plan := &v1.Plan{Spec: v1.PlanSpec{Limits: v1.Limits{CustomDomains: ptr.To[int32](5)}}}
	withEffective := &v1.Subscription{Status: v1.SubscriptionStatus{EffectiveLimits: v1.Limits{CustomDomains: ptr.To[int32](2)}}}
	cases := []struct {
		name string
		sub  *v1.Subscription
		plan *v1.Plan
		want int32
	}{
		{"effective limits first", withEffective, plan, 2},
		{"else the plan's", &v1.Subscription{}, plan, 5},
		{"no plan: none", &v1.Subscription{}, nil, 0},
		{"plan without the limit: none", &v1.Subscription{}, &v1.Plan{}, 0},
	}
	for _, tc := range cases {
		if got := Limit(tc.sub, tc.plan); got != tc.want {
			t.Errorf("%s: Limit = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestBuildRoute(t *testing.T) {
	cfg := platform.Default()
	cd := domain("shop", 0, false, v1.DomainVerified)
	cases := []struct {
		name         string
		in           RouteInput
		wantService  string
		wantRedirect string
	}{
		{"to the site", RouteInput{Host: "shop.example.com", Account: "acme", Subscription: "www"}, "www", ""},
		{"redirect to the primary", RouteInput{Host: "shop.example.com", Account: "acme", Subscription: "www", RedirectTo: "www.example.com"}, "", "www.example.com"},
		{"suspended page", RouteInput{Host: "shop.example.com", Account: "acme", Subscription: "www", Suspended: true}, cfg.SuspendedService, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := BuildRoute(cfg, &cd, tc.in).(*gatewayv1.HTTPRoute)
			if r.Name != platform.DomainRouteName("shop") || r.Namespace != "acct-acme--www" || string(r.Spec.Hostnames[0]) != "shop.example.com" {
				t.Errorf("route %s/%s for %v", r.Namespace, r.Name, r.Spec.Hostnames)
			}
			if r.Labels[v1.ManagedByLabel] != v1.ManagedByValue || r.Labels[v1.AccountLabel] != "acme" || r.Labels[v1.SubscriptionLabel] != "www" {
				t.Errorf("labels %v", r.Labels)
			}
			if !metav1.IsControlledBy(r, &cd) {
				t.Errorf("owners %v", r.OwnerReferences)
			}
			rule := r.Spec.Rules[0]
			if tc.wantRedirect != "" {
				if len(rule.Filters) != 1 || string(*rule.Filters[0].RequestRedirect.Hostname) != tc.wantRedirect {
					t.Errorf("rule %+v, want redirect to %s", rule, tc.wantRedirect)
				}
				return
			}
			if len(rule.BackendRefs) != 1 || string(rule.BackendRefs[0].Name) != tc.wantService {
				t.Errorf("backends %+v, want %s", rule.BackendRefs, tc.wantService)
			}
		})
	}
}

func TestBuildCertificateAndClaim(t *testing.T) {
	cfg := platform.Default()
	cd := domain("shop", 0, false, v1.DomainActive)
	c := BuildCertificate(cfg, &cd, "shop.example.com", "acme", "www")
	if c.GetAPIVersion() != "cert-manager.io/v1" || c.GetKind() != "Certificate" || c.GetNamespace() != "acct-acme--www" ||
		c.GetLabels()[v1.ManagedByLabel] != v1.ManagedByValue || c.GetLabels()[v1.SubscriptionLabel] != "www" {
		t.Errorf("certificate %v", c.Object)
	}
	spec := c.Object["spec"].(map[string]any)
	if spec["dnsNames"].([]any)[0] != "shop.example.com" || spec["issuerRef"].(map[string]any)["name"] != cfg.CertIssuerName || spec["secretName"] != CertificateSecretName(&cd) {
		t.Errorf("spec %v", spec)
	}

	acct := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: "acct-uid"}}
	claim := BuildClaim("shop.example.com", acct, &cd)
	if claim.Name != "shop.example.com" || claim.Spec.AccountUID != "acct-uid" || claim.Spec.CustomDomain != "shop" || claim.Spec.Namespace != "acct-acme--www" || claim.OwnerReferences[0].UID != "acct-uid" {
		t.Errorf("claim %+v", claim)
	}
	if !heldBy(claim, &cd, "acct-uid") || heldBy(claim, &cd, "other-uid") {
		t.Error("heldBy")
	}
}

func TestPhase(t *testing.T) {
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Name: "www"}, Status: v1.SubscriptionStatus{Phase: v1.PhaseActive}}
	terminated := sub.DeepCopy()
	terminated.Status.Phase = v1.PhaseTerminated
	cases := []struct {
		name       string
		o          observed
		want       v1.DomainPhase
		wantRouted string // reason of Routed
	}{
		{"invalid hostname", observed{hostErr: errors.New("bad")}, v1.DomainFailed, v1.ReasonInvalidHostname},
		{"platform domain", observed{host: "x.sites.example", platform: true, sub: sub}, v1.DomainFailed, v1.ReasonPlatformDomain},
		{"no site", observed{host: "a.example", noSite: "namespace x is no site's namespace"}, v1.DomainFailed, v1.ReasonNoSite},
		{"account gone", observed{host: "a.example", noAccount: true, noSite: "x"}, v1.DomainFailed, v1.ReasonNoAccount},
		{"terminated", observed{host: "a.example", sub: terminated}, v1.DomainFailed, v1.ReasonTerminated},
		{"conflict", observed{host: "a.example", sub: sub, claim: claimElsewhere}, v1.DomainConflict, v1.ReasonClaimedElsewhere},
		{"pending", observed{host: "a.example", sub: sub, claim: claimHeld}, v1.DomainPendingVerification, v1.ReasonRecordMissing},
		{"verified over the limit", observed{host: "a.example", sub: sub, claim: claimHeld, dns: dnsVerified}, v1.DomainVerified, v1.ReasonDomainLimitReached},
		{"active", observed{host: "a.example", sub: sub, claim: claimHeld, dns: dnsVerified, admitted: true, routed: true}, v1.DomainActive, v1.ReasonReconciled},
		{"suspended", observed{host: "a.example", sub: sub, claim: claimHeld, dns: dnsVerified, admitted: true, routed: true, suspended: true}, v1.DomainActive, v1.ReasonReconciled},
		{"lapsed, routed", observed{host: "a.example", sub: sub, claim: claimHeld, dns: dnsLapsed, admitted: true, routed: true}, v1.DomainLapsed, v1.ReasonReconciled},
		{"lapsed past the grace", observed{host: "a.example", sub: sub, claim: claimHeld, dns: dnsExpired}, v1.DomainPendingVerification, v1.ReasonLapsed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.o.Phase(); got != tc.want {
				t.Errorf("phase = %s, want %s", got, tc.want)
			}
			if got := tc.o.routedCondition().Reason; got != tc.wantRouted {
				t.Errorf("Routed reason = %s, want %s", got, tc.wantRouted)
			}
		})
	}
}
