package routing

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/landlord-dev/landlord/internal/platform"
)

func TestHTTPRoute(t *testing.T) {
	cfg := platform.Default()
	site := Route{Name: "www", Namespace: "acct-acme", Hostnames: []string{"www-acme.sites.example"}, Backend: SiteBackend("www")}
	suspended := site
	suspended.Backend = SuspendedBackend(cfg)
	redirect := Route{Name: "domain-old", Namespace: "acct-acme", Hostnames: []string{"old.example.com"}, RedirectTo: "www.example.com"}

	cases := []struct {
		name                string
		route               Route
		wantService, wantNS string
		wantRedirect        string
	}{
		{"site to its own service", site, "www", "", ""},
		{"suspended site to the operator's page across namespaces", suspended, cfg.SuspendedService, cfg.OperatorNamespace, ""},
		{"non-primary domain redirects", redirect, "", "", "www.example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := HTTPRoute(cfg, tc.route)
			if got := r.Spec.ParentRefs[0]; string(got.Name) != cfg.GatewayName || string(*got.Namespace) != cfg.GatewayNamespace {
				t.Errorf("parent = %v, want the configured gateway", got)
			}
			if len(r.Spec.Hostnames) != 1 || string(r.Spec.Hostnames[0]) != tc.route.Hostnames[0] {
				t.Errorf("hostnames = %v", r.Spec.Hostnames)
			}
			rule := r.Spec.Rules[0]
			if tc.wantRedirect != "" {
				if len(rule.BackendRefs) != 0 || rule.Filters[0].Type != gatewayv1.HTTPRouteFilterRequestRedirect ||
					string(*rule.Filters[0].RequestRedirect.Hostname) != tc.wantRedirect || *rule.Filters[0].RequestRedirect.StatusCode != 301 {
					t.Errorf("rule = %+v, want a 301 redirect to %s", rule, tc.wantRedirect)
				}
				return
			}
			ref := rule.BackendRefs[0]
			if string(ref.Name) != tc.wantService {
				t.Errorf("backend = %s, want %s", ref.Name, tc.wantService)
			}
			gotNS := ""
			if ref.Namespace != nil {
				gotNS = string(*ref.Namespace)
			}
			if gotNS != tc.wantNS {
				t.Errorf("backend namespace = %q, want %q", gotNS, tc.wantNS)
			}
		})
	}
}

func TestIngress(t *testing.T) {
	cfg := platform.Default()
	cfg.RouteKind = platform.RouteIngress
	cfg.IngressClassName = "nginx"

	if _, ok := Build(cfg, Route{Name: "www"}).(*networkingv1.Ingress); !ok {
		t.Fatal("Build does not make an Ingress with --route-kind=Ingress")
	}
	got := Ingress(cfg, Route{Name: "www", Namespace: "acct-acme", Hostnames: []string{"a.example", "b.example"}, Backend: SuspendedBackend(cfg)})
	if len(got.Spec.Rules) != 2 || *got.Spec.IngressClassName != "nginx" {
		t.Fatalf("rules = %v, class = %v", got.Spec.Rules, got.Spec.IngressClassName)
	}
	if svc := got.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name; svc != SuspendedExternalServiceName {
		t.Errorf("suspended Ingress backend = %s, want the in-namespace ExternalName service", svc)
	}
	if len(got.Annotations) != 0 {
		t.Errorf("unexpected annotations %v", got.Annotations)
	}
	redirect := Ingress(cfg, Route{Name: "d", Namespace: "n", Hostnames: []string{"old.example"}, Backend: SiteBackend("www"), RedirectTo: "new.example"})
	if redirect.Annotations[PermanentRedirectAnnotation] != "https://new.example" {
		t.Errorf("redirect annotation = %v", redirect.Annotations)
	}
	if len(redirect.Spec.TLS) != 0 {
		t.Errorf("TLS without a secret: %v", redirect.Spec.TLS)
	}
	tls := Ingress(cfg, Route{Name: "d", Namespace: "n", Hostnames: []string{"shop.example"}, Backend: SiteBackend("www"), TLSSecretName: "d-tls"})
	if len(tls.Spec.TLS) != 1 || tls.Spec.TLS[0].SecretName != "d-tls" || tls.Spec.TLS[0].Hosts[0] != "shop.example" {
		t.Errorf("tls = %v", tls.Spec.TLS)
	}
	ext := SuspendedExternalService(cfg, "acct-acme", nil)
	if ext.Spec.ExternalName != cfg.SuspendedService+"."+cfg.OperatorNamespace+".svc.cluster.local" {
		t.Errorf("external name = %s", ext.Spec.ExternalName)
	}
}

func TestSuspendedReferenceGrant(t *testing.T) {
	cfg := platform.Default()
	g := SuspendedReferenceGrant(cfg, "acct-acme", nil)
	if g.Namespace != cfg.OperatorNamespace || string(g.Spec.From[0].Namespace) != "acct-acme" || string(*g.Spec.To[0].Name) != cfg.SuspendedService {
		t.Errorf("grant = %+v", g)
	}
}
