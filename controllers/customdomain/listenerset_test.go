package customdomain

import (
	"strings"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/landlord-dev/landlord/internal/platform"
)

func TestBuildListeners(t *testing.T) {
	cd := domain("shop", 0, true, "")
	cases := []struct {
		name     string
		tlsReady bool
		want     []listenerKey
	}{
		{"HTTP only until the certificate is ready", false, []listenerKey{
			{name: "http-shop", hostname: "shop.example.com", protocol: "HTTP", port: 80}}},
		{"HTTPS with the certificate's Secret once ready", true, []listenerKey{
			{name: "http-shop", hostname: "shop.example.com", protocol: "HTTP", port: 80},
			{name: "https-shop", hostname: "shop.example.com", protocol: "HTTPS", port: 443, secret: "domain-shop-tls"}}},
	}
	for _, tc := range cases {
		if got := keysOf(BuildListeners(&cd, "shop.example.com", tc.tlsReady)); !sameKeys(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	long := domain(strings.Repeat("a", 250), 0, true, "")
	if n := HTTPSListenerName(&long); len(n) > maxSectionName || n == HTTPListenerName(&long) {
		t.Errorf("long names: %q", n)
	}
}

func TestBuildRoutesOnListeners(t *testing.T) {
	cfg := platform.Default()
	cd := domain("shop", 0, true, "")
	in := RouteInput{Host: "shop.example.com", Account: "acme", Subscription: "www", Listeners: true}
	sections := func(r *gatewayv1.HTTPRoute) []string {
		var out []string
		for _, p := range r.Spec.ParentRefs {
			if string(*p.Kind) != "ListenerSet" || string(p.Name) != ListenerSetName {
				t.Fatalf("parent %+v", p)
			}
			out = append(out, string(*p.SectionName))
		}
		return out
	}
	if got := sections(BuildRoute(cfg, &cd, in).(*gatewayv1.HTTPRoute)); len(got) != 1 || got[0] != "http-shop" {
		t.Errorf("before TLS: sections %v", got)
	}
	if BuildRedirectRoute(cfg, &cd, in) != nil {
		t.Error("a redirect before TLS")
	}
	in.TLSReady = true
	if got := sections(BuildRoute(cfg, &cd, in).(*gatewayv1.HTTPRoute)); len(got) != 1 || got[0] != "https-shop" {
		t.Errorf("with TLS: sections %v", got)
	}
	redirect := BuildRedirectRoute(cfg, &cd, in).(*gatewayv1.HTTPRoute)
	if got := sections(redirect); len(got) != 1 || got[0] != "http-shop" || redirect.Name != "https-redirect-shop" {
		t.Errorf("redirect %s on %v", redirect.Name, got)
	}
	acme, rest := redirect.Spec.Rules[0], redirect.Spec.Rules[1]
	if *acme.Matches[0].Path.Value != "/.well-known/acme-challenge/" || string(acme.BackendRefs[0].Name) != platform.SiteName("www") ||
		*rest.Filters[0].RequestRedirect.Scheme != "https" || *rest.Filters[0].RequestRedirect.StatusCode != 301 {
		t.Errorf("redirect rules %+v", redirect.Spec.Rules)
	}
	in.Suspended = true
	redirect = BuildRedirectRoute(cfg, &cd, in).(*gatewayv1.HTTPRoute)
	if string(redirect.Spec.Rules[0].BackendRefs[0].Name) != cfg.SuspendedService {
		t.Errorf("suspended: ACME path to %s", redirect.Spec.Rules[0].BackendRefs[0].Name)
	}
}
