// Package routing builds the routes Landlord wants for sites and custom
// domains: Gateway API HTTPRoutes by default, Ingresses by flag. The builders
// are pure; controllers set owners and apply the result.
package routing

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/landlord-dev/landlord/internal/platform"
)

// SitePort is the port of every site Service (it forwards to the template's port).
const SitePort = 80

// SuspendedExternalServiceName names, with Ingress routing, the ExternalName
// Service in a tenant namespace that points at the suspended page (an Ingress
// cannot reference a Service in another namespace).
const SuspendedExternalServiceName = "landlord-suspended-page"

// PermanentRedirectAnnotation is how Ingress routes redirect (ingress-nginx);
// the Ingress API has no redirect of its own.
const PermanentRedirectAnnotation = "nginx.ingress.kubernetes.io/permanent-redirect"

// Backend is where a route sends traffic.
type Backend struct {
	// Namespace of the Service; empty means the route's own namespace.
	Namespace string
	Service   string
	Port      int32
}

// Route is one route Landlord wants: traffic for Hostnames goes to Backend,
// or, when RedirectTo is set, is permanently redirected to that hostname.
type Route struct {
	Name, Namespace string
	Labels          map[string]string
	Hostnames       []string
	Backend         Backend
	RedirectTo      string
	// TLSSecretName, with Ingress routing, names the Secret holding the
	// hostnames' certificate (spec.tls). HTTPRoutes leave TLS to the Gateway.
	TLSSecretName string
	// ListenerSet and Sections, when set, attach the HTTPRoute to those
	// listeners of the ListenerSet of that name in the route's namespace
	// instead of to the platform Gateway (a custom domain's listeners).
	ListenerSet string
	Sections    []string
	// HTTPSRedirect makes the HTTPRoute redirect every request to https://
	// (301), except paths under KeepPathPrefix, which still go to Backend.
	HTTPSRedirect  bool
	KeepPathPrefix string
}

// ACMEChallengePrefix is the path of ACME HTTP-01 challenges, which must stay
// reachable over plain HTTP while everything else is redirected to HTTPS
// (cert-manager's solver route matches its token's exact path, which takes
// precedence over this prefix).
const ACMEChallengePrefix = "/.well-known/acme-challenge/"

// SiteBackend is a site's own Service.
func SiteBackend(subscription string) Backend {
	return Backend{Service: platform.SiteName(subscription), Port: SitePort}
}

// SuspendedBackend is where a suspended site's routes in tenantNamespace go:
// the operator's suspended-page Service (HTTPRoute, across namespaces with a
// ReferenceGrant), or the ExternalName Service in the tenant namespace (Ingress).
func SuspendedBackend(cfg platform.Config) Backend {
	if cfg.RouteKind == platform.RouteIngress {
		return Backend{Service: SuspendedExternalServiceName, Port: int32(cfg.SuspendedServicePort)}
	}
	return Backend{Namespace: cfg.OperatorNamespace, Service: cfg.SuspendedService, Port: int32(cfg.SuspendedServicePort)}
}

// Build returns the route object for the configured route kind.
func Build(cfg platform.Config, r Route) client.Object {
	if cfg.RouteKind == platform.RouteIngress {
		return Ingress(cfg, r)
	}
	return HTTPRoute(cfg, r)
}

// HTTPRoute builds a Gateway API HTTPRoute attached to the configured
// Gateway, or to the named listeners of a ListenerSet.
func HTTPRoute(cfg platform.Config, r Route) *gatewayv1.HTTPRoute {
	var rules []gatewayv1.HTTPRouteRule
	switch {
	case r.HTTPSRedirect:
		if r.KeepPathPrefix != "" {
			rules = append(rules, gatewayv1.HTTPRouteRule{
				Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{
					Type: ptr.To(gatewayv1.PathMatchPathPrefix), Value: ptr.To(r.KeepPathPrefix),
				}}},
				BackendRefs: []gatewayv1.HTTPBackendRef{backendRef(r)},
			})
		}
		rules = append(rules, gatewayv1.HTTPRouteRule{Filters: []gatewayv1.HTTPRouteFilter{{
			Type: gatewayv1.HTTPRouteFilterRequestRedirect,
			RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{
				Scheme:     ptr.To("https"),
				StatusCode: ptr.To(301),
			},
		}}})
	case r.RedirectTo != "":
		rules = append(rules, gatewayv1.HTTPRouteRule{Filters: []gatewayv1.HTTPRouteFilter{{
			Type: gatewayv1.HTTPRouteFilterRequestRedirect,
			RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{
				Hostname:   ptr.To(gatewayv1.PreciseHostname(r.RedirectTo)),
				StatusCode: ptr.To(301),
			},
		}}})
	default:
		rules = append(rules, gatewayv1.HTTPRouteRule{BackendRefs: []gatewayv1.HTTPBackendRef{backendRef(r)}})
	}
	hostnames := make([]gatewayv1.Hostname, 0, len(r.Hostnames))
	for _, h := range r.Hostnames {
		hostnames = append(hostnames, gatewayv1.Hostname(h))
	}
	parents := []gatewayv1.ParentReference{{
		Namespace: ptr.To(gatewayv1.Namespace(cfg.GatewayNamespace)),
		Name:      gatewayv1.ObjectName(cfg.GatewayName),
	}}
	if r.ListenerSet != "" {
		parents = nil
		for _, section := range r.Sections {
			parents = append(parents, gatewayv1.ParentReference{
				Group:       ptr.To(gatewayv1.Group(gatewayv1.GroupName)),
				Kind:        ptr.To(gatewayv1.Kind("ListenerSet")),
				Name:        gatewayv1.ObjectName(r.ListenerSet),
				SectionName: ptr.To(gatewayv1.SectionName(section)),
			})
		}
	}
	return &gatewayv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace, Labels: r.Labels},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: parents},
			Hostnames:       hostnames,
			Rules:           rules,
		},
	}
}

// backendRef is the route's backend as an HTTPRoute backend reference.
func backendRef(r Route) gatewayv1.HTTPBackendRef {
	ref := gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{
		Name: gatewayv1.ObjectName(r.Backend.Service),
		Port: ptr.To(gatewayv1.PortNumber(r.Backend.Port)),
	}}}
	if r.Backend.Namespace != "" && r.Backend.Namespace != r.Namespace {
		ref.Namespace = ptr.To(gatewayv1.Namespace(r.Backend.Namespace))
	}
	return ref
}

// Ingress builds an Ingress with one rule per hostname. Redirects use the
// ingress-nginx permanent-redirect annotation; the backend then is unused but
// required, so it stays the site's own.
func Ingress(cfg platform.Config, r Route) *networkingv1.Ingress {
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: r.Backend.Service,
		Port: networkingv1.ServiceBackendPort{Number: r.Backend.Port},
	}}
	var annotations map[string]string
	if r.RedirectTo != "" {
		annotations = map[string]string{PermanentRedirectAnnotation: fmt.Sprintf("https://%s", r.RedirectTo)}
	}
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: networkingv1.SchemeGroupVersion.String(), Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace, Labels: r.Labels, Annotations: annotations},
	}
	if cfg.IngressClassName != "" {
		ing.Spec.IngressClassName = ptr.To(cfg.IngressClassName)
	}
	if r.TLSSecretName != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: r.Hostnames, SecretName: r.TLSSecretName}}
	}
	for _, h := range r.Hostnames {
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{
			Host: h,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{
					Path:     "/",
					PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend:  backend,
				}},
			}},
		})
	}
	return ing
}

// SuspendedExternalService is, with Ingress routing, the Service in a tenant
// namespace that forwards to the operator's suspended page.
func SuspendedExternalService(cfg platform.Config, namespace string, labels map[string]string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: SuspendedExternalServiceName, Namespace: namespace, Labels: labels},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: fmt.Sprintf("%s.%s.svc.cluster.local", cfg.SuspendedService, cfg.OperatorNamespace),
			Ports:        []corev1.ServicePort{{Name: "http", Port: int32(cfg.SuspendedServicePort)}},
		},
	}
}

// SuspendedReferenceGrant lets HTTPRoutes in tenantNamespace send traffic to
// the suspended-page Service in the operator namespace. It lives there.
func SuspendedReferenceGrant(cfg platform.Config, tenantNamespace string, labels map[string]string) *gatewayv1.ReferenceGrant {
	return &gatewayv1.ReferenceGrant{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "ReferenceGrant"},
		ObjectMeta: metav1.ObjectMeta{Name: "landlord-suspended-page-" + tenantNamespace, Namespace: cfg.OperatorNamespace, Labels: labels},
		Spec: gatewayv1.ReferenceGrantSpec{
			From: []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(tenantNamespace)}},
			To:   []gatewayv1.ReferenceGrantTo{{Group: "", Kind: "Service", Name: ptr.To(gatewayv1.ObjectName(cfg.SuspendedService))}},
		},
	}
}
