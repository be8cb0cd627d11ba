package customdomain

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/routing"
)

// RouteInput is what decides a domain's route.
type RouteInput struct {
	// Host is the canonical hostname.
	Host string
	// Account owns the domain (its namespace's label).
	Account string
	// Subscription is the site of the domain's namespace.
	Subscription string
	// Suspended: the subscription is suspended or cancelled; visitors see the
	// suspended page.
	Suspended bool
	// RedirectTo is the primary hostname to redirect to, or "".
	RedirectTo string
	// TLSSecretName is the certificate's Secret (Ingress routing), or "".
	TLSSecretName string
	// Listeners: the routes attach to the domain's listeners in the site's
	// ListenerSet (Gateway API routing with ListenerSets served), not to
	// the platform Gateway.
	Listeners bool
	// TLSReady: the certificate is ready, so the domain's HTTPS listener
	// exists; the route serves HTTPS and plain HTTP redirects to it.
	TLSReady bool
}

// BuildRoute is the route of a routed CustomDomain, in its namespace (the
// site namespace): to the site's Service there,
// to the suspended page while the site is suspended, or a permanent redirect
// to the site's primary domain. It is controlled by the CustomDomain.
func BuildRoute(cfg platform.Config, cd *hostingv1alpha1.CustomDomain, in RouteInput) client.Object {
	r := routing.Route{
		Name:          platform.DomainRouteName(cd.Name),
		Namespace:     cd.Namespace,
		Labels:        platform.SiteLabels(in.Account, in.Subscription),
		Hostnames:     []string{in.Host},
		Backend:       routing.SiteBackend(in.Subscription),
		TLSSecretName: in.TLSSecretName,
	}
	switch {
	case in.Suspended:
		r.Backend = routing.SuspendedBackend(cfg)
	case in.RedirectTo != "":
		r.RedirectTo = in.RedirectTo
	}
	if in.Listeners {
		r.ListenerSet, r.Sections = ListenerSetName, []string{HTTPListenerName(cd)}
		if in.TLSReady {
			r.Sections = []string{HTTPSListenerName(cd)}
		}
	}
	obj := routing.Build(cfg, r)
	obj.SetOwnerReferences([]metav1.OwnerReference{ownerRef(cd)})
	return obj
}

// BuildRedirectRoute is, once a domain's certificate is ready (Gateway API
// routing with listeners), the route of its plain-HTTP listener: ACME HTTP-01
// challenge paths still go where the domain's route sends traffic (a
// cert-manager solver route's exact path match takes precedence), every
// other request is redirected to https:// with a 301. nil: there must be none.
func BuildRedirectRoute(cfg platform.Config, cd *hostingv1alpha1.CustomDomain, in RouteInput) client.Object {
	if !in.Listeners || !in.TLSReady {
		return nil
	}
	r := routing.Route{
		Name:           RedirectRouteName(cd),
		Namespace:      cd.Namespace,
		Labels:         platform.SiteLabels(in.Account, in.Subscription),
		Hostnames:      []string{in.Host},
		Backend:        routing.SiteBackend(in.Subscription),
		ListenerSet:    ListenerSetName,
		Sections:       []string{HTTPListenerName(cd)},
		HTTPSRedirect:  true,
		KeepPathPrefix: routing.ACMEChallengePrefix,
	}
	if in.Suspended {
		r.Backend = routing.SuspendedBackend(cfg)
	}
	obj := routing.HTTPRoute(cfg, r)
	obj.SetOwnerReferences([]metav1.OwnerReference{ownerRef(cd)})
	return obj
}

func emptyRedirectRoute(cd *hostingv1alpha1.CustomDomain) client.Object {
	return routing.HTTPRoute(platform.Config{}, routing.Route{Name: RedirectRouteName(cd), Namespace: cd.Namespace})
}

// emptyRoute is an object of the configured route kind, for deletes and gets.
func emptyRoute(cfg platform.Config, cd *hostingv1alpha1.CustomDomain) client.Object {
	obj := routing.Build(cfg, routing.Route{Name: platform.DomainRouteName(cd.Name), Namespace: cd.Namespace})
	return obj
}

func ownerRef(cd *hostingv1alpha1.CustomDomain) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         hostingv1alpha1.GroupVersion.String(),
		Kind:               "CustomDomain",
		Name:               cd.Name,
		UID:                cd.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}
