package gateway

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// A custom domain is served through the site's ListenerSet: over HTTP until
// its certificate is ready, then over HTTPS with the certificate's Secret,
// plain HTTP redirecting. Envoy Gateway accepts the ListenerSet, resolves
// the Secret and accepts the domain's routes on their listeners, also while
// the site is suspended. A deleted domain's listeners go in the reconcile
// that removes its finalizer; a terminated site's ListenerSet goes.
func TestCustomDomainTLSThroughListenerSet(t *testing.T) {
	ctx := context.Background()
	acct, sub := newSite(t, testenv.Name("tls"))
	ns := siteNamespace(t, sub)
	shop := newDomain(t, acct, ns, "shop", "shop."+acct.Name+".example", true)
	www := newDomain(t, acct, ns, "www", "www."+acct.Name+".example", false)
	requireRouted(t, shop)
	requireRouted(t, www)

	// Plain HTTP first: one HTTP listener per domain, routes on it.
	requireListenerSet(t, ns, customdomain.HTTPListenerName(shop), customdomain.HTTPListenerName(www))
	requireRouteAccepted(t, domainRoute(shop), listenerParent(ns, customdomain.HTTPListenerName(shop)), backendIs("", platform.SiteName(sub.Name)))
	requireRouteAccepted(t, domainRoute(www), listenerParent(ns, customdomain.HTTPListenerName(www)), redirectsTo(host(shop)))

	// cert-manager's part: the Secret, then Ready.
	issue(t, shop)
	issue(t, www)
	ls := requireListenerSet(t, ns, customdomain.HTTPListenerName(shop), customdomain.HTTPSListenerName(shop),
		customdomain.HTTPListenerName(www), customdomain.HTTPSListenerName(www))
	if l := listener(ls, customdomain.HTTPSListenerName(shop)); l == nil || l.Port != customdomain.HTTPSPort || l.TLS == nil ||
		string(l.TLS.CertificateRefs[0].Name) != customdomain.CertificateSecretName(shop) || string(*l.Hostname) != host(shop) {
		t.Fatalf("HTTPS listener of shop: %+v", l)
	}
	https := listenerParent(ns, customdomain.HTTPSListenerName(shop))
	requireRouteAccepted(t, domainRoute(shop), https, backendIs("", platform.SiteName(sub.Name)))
	requireRouteAccepted(t, redirectRoute(shop), listenerParent(ns, customdomain.HTTPListenerName(shop)), redirectsToHTTPS)

	// Suspended: the suspended page, still accepted and resolved (the
	// ReferenceGrant covers the domains' routes).
	setSuspended(t, sub, true)
	requireRouteAccepted(t, domainRoute(shop), https, backendIs(cfg.OperatorNamespace, cfg.SuspendedService))
	requireRouteAccepted(t, redirectRoute(shop), listenerParent(ns, customdomain.HTTPListenerName(shop)), redirectsToHTTPS)
	setSuspended(t, sub, false)
	requireRouteAccepted(t, domainRoute(shop), https, backendIs("", platform.SiteName(sub.Name)))

	// Deleting www: once it is gone, so are its listeners and routes, at once.
	if err := env.Client.Delete(ctx, www); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(www), &v1.CustomDomain{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("www still there (%v)", err)
		}
		return nil
	})
	ls = getListenerSet(t, ns)
	for _, name := range []string{customdomain.HTTPListenerName(www), customdomain.HTTPSListenerName(www)} {
		if listener(ls, name) != nil {
			t.Fatalf("listener %s outlived its domain", name)
		}
	}
	if listener(ls, customdomain.HTTPSListenerName(shop)) == nil {
		t.Fatalf("shop's HTTPS listener went with www's")
	}
	requireNoRouteOn(t, ns, customdomain.HTTPListenerName(www), customdomain.HTTPSListenerName(www))
	requireListenerSet(t, ns, customdomain.HTTPListenerName(shop), customdomain.HTTPSListenerName(shop))

	// Terminated (the subscription deleted): no ListenerSet is left.
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
			return err
		}
		sub.Spec.DeletionProtection = ptr.To(false)
		return env.Client.Update(ctx, sub)
	})
	if err := env.Client.Delete(ctx, sub); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Minute, func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: customdomain.ListenerSetName}, &gatewayv1.ListenerSet{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("ListenerSet still there (%v)", err)
		}
		return nil
	})
}

// Two accounts verify one hostname: the DomainClaim gives it to one, and
// only that site's ListenerSet ever has a listener for it.
func TestContestedHostnameHasOneListener(t *testing.T) {
	a, subA := newSite(t, testenv.Name("first"))
	b, subB := newSite(t, testenv.Name("second"))
	nsA, nsB := siteNamespace(t, subA), siteNamespace(t, subB)
	hostname := "contested." + a.Name + ".example"
	first := newDomain(t, a, nsA, "contested", hostname, true)
	second := newDomain(t, b, nsB, "contested", hostname, true)
	// Both accounts' tokens are published (each proves control).
	dns.SetTXT(customdomain.RecordName(hostname), customdomain.Token(string(a.UID), hostname), customdomain.Token(string(b.UID), hostname))

	holder := ""
	deadline := time.Now().Add(15 * time.Second)
	testenv.Eventually(t, time.Minute, func() error {
		withHost := 0
		for _, ns := range []string{nsA, nsB} {
			ls := &gatewayv1.ListenerSet{}
			err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: customdomain.ListenerSetName}, ls)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			for _, l := range ls.Spec.Listeners {
				if l.Hostname != nil && string(*l.Hostname) == hostname {
					withHost++
					holder = ns
					break
				}
			}
		}
		if withHost > 1 {
			t.Fatalf("both sites have a listener for %s", hostname)
		}
		if withHost == 0 || time.Now().Before(deadline) {
			nudge()
			return errors.New("waiting")
		}
		return nil
	})
	claim := &v1.DomainClaim{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: hostname}, claim); err != nil {
		t.Fatal(err)
	}
	if claim.Spec.Namespace != holder {
		t.Fatalf("the listener is in %s, the claim is held from %s", holder, claim.Spec.Namespace)
	}
	winner := first
	if holder == nsB {
		winner = second
	}
	requireListenerSet(t, holder, customdomain.HTTPListenerName(winner))
}

// siteNamespace waits until the subscription reports its site namespace.
func siteNamespace(t *testing.T, sub *v1.Subscription) string {
	t.Helper()
	cur := &v1.Subscription{}
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sub), cur); err != nil {
			return err
		}
		if cur.Status.Site.Namespace == "" {
			return errors.New("no site namespace yet")
		}
		return nil
	})
	return cur.Status.Site.Namespace
}

// newDomain publishes the account's token for hostname (replacing the
// record) and creates the CustomDomain name in the site namespace ns.
func newDomain(t *testing.T, acct *v1.Account, ns, name, hostname string, primary bool) *v1.CustomDomain {
	t.Helper()
	dns.SetTXT(customdomain.RecordName(hostname), customdomain.Token(string(acct.UID), hostname))
	cd := &v1.CustomDomain{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1.CustomDomainSpec{Hostname: hostname, Primary: primary},
	}
	if err := env.Client.Create(context.Background(), cd); err != nil {
		t.Fatal(err)
	}
	return cd
}

// requireRouted waits until the domain reports Routed, moving the clock on
// meanwhile (lookups of pending domains back off).
func requireRouted(t *testing.T, cd *v1.CustomDomain) {
	t.Helper()
	cur := &v1.CustomDomain{}
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(cd), cur); err != nil {
			return err
		}
		if err := conditionIs(cur.Status.Conditions, v1.ConditionRouted, metav1.ConditionTrue, "", cur.Generation); err != nil {
			nudge()
			return fmt.Errorf("domain %s: %w", cd.Name, err)
		}
		return nil
	})
}

var lastNudge time.Time

// nudge moves the fake clock an hour on, at most every two seconds, so that
// pending domains are looked up again (their backoff is at most an hour)
// without running into the site's paid-through date.
func nudge() {
	if time.Since(lastNudge) > 2*time.Second {
		lastNudge = time.Now()
		clk.Step(time.Hour)
	}
}

func host(cd *v1.CustomDomain) string { return cd.Spec.Hostname }

// issue plays cert-manager: the domain's Certificate gets its Secret (a
// self-signed key pair for its dnsNames) and then Ready.
func issue(t *testing.T, cd *v1.CustomDomain) {
	t.Helper()
	ctx := context.Background()
	cert := &unstructured.Unstructured{}
	cert.SetGroupVersionKind(customdomain.CertificateGVK)
	key := client.ObjectKey{Namespace: cd.Namespace, Name: customdomain.CertificateName(cd)}
	testenv.Eventually(t, time.Minute, func() error { return env.Client.Get(ctx, key, cert) })
	names, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	secret, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	if len(names) != 1 || names[0] != host(cd) || secret != customdomain.CertificateSecretName(cd) {
		t.Fatalf("certificate spec %v", cert.Object["spec"])
	}
	if err := env.Client.Create(ctx, wildcardTLSSecret(cd.Namespace, secret, names...)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(ctx, key, cert); err != nil {
			return err
		}
		_ = unstructured.SetNestedSlice(cert.Object, []any{map[string]any{
			"type": "Ready", "status": "True", "reason": "Ready", "message": "issued by test/gateway",
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}}, "status", "conditions")
		return env.Client.Status().Update(ctx, cert)
	})
}

func setSuspended(t *testing.T, sub *v1.Subscription, suspended bool) {
	t.Helper()
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sub), sub); err != nil {
			return err
		}
		sub.Spec.Suspension = nil
		if suspended {
			sub.Spec.Suspension = &v1.Suspension{Reason: v1.SuspensionManual, Message: "suspended by test/gateway"}
		}
		return env.Client.Update(context.Background(), sub)
	})
}

func listenerParent(ns, section string) parent {
	return parent{Kind: "ListenerSet", Namespace: ns, Name: customdomain.ListenerSetName, SectionName: section}
}

func domainRoute(cd *v1.CustomDomain) routeFinder {
	return routeByKey(client.ObjectKey{Namespace: cd.Namespace, Name: platform.DomainRouteName(cd.Name)})
}

func redirectRoute(cd *v1.CustomDomain) routeFinder {
	return routeByKey(client.ObjectKey{Namespace: cd.Namespace, Name: customdomain.RedirectRouteName(cd)})
}

// redirectsTo checks a 301 to hostname.
func redirectsTo(hostname string) func(*gatewayv1.HTTPRoute) error {
	return func(r *gatewayv1.HTTPRoute) error {
		if len(r.Spec.Rules) != 1 || len(r.Spec.Rules[0].Filters) != 1 || r.Spec.Rules[0].Filters[0].RequestRedirect == nil ||
			r.Spec.Rules[0].Filters[0].RequestRedirect.Hostname == nil || string(*r.Spec.Rules[0].Filters[0].RequestRedirect.Hostname) != hostname {
			return fmt.Errorf("route %s/%s does not redirect to %s", r.Namespace, r.Name, hostname)
		}
		return nil
	}
}

// redirectsToHTTPS checks the plain-HTTP route: ACME challenges to a
// backend, everything else a 301 to https.
func redirectsToHTTPS(r *gatewayv1.HTTPRoute) error {
	if len(r.Spec.Rules) != 2 {
		return fmt.Errorf("route %s/%s has %d rules, want 2", r.Namespace, r.Name, len(r.Spec.Rules))
	}
	acme, rest := r.Spec.Rules[0], r.Spec.Rules[1]
	if len(acme.Matches) != 1 || acme.Matches[0].Path == nil || *acme.Matches[0].Path.Value != "/.well-known/acme-challenge/" || len(acme.BackendRefs) != 1 {
		return fmt.Errorf("first rule %+v is not the ACME challenge path to a backend", acme)
	}
	if len(rest.Filters) != 1 || rest.Filters[0].RequestRedirect == nil || rest.Filters[0].RequestRedirect.Scheme == nil ||
		*rest.Filters[0].RequestRedirect.Scheme != "https" || *rest.Filters[0].RequestRedirect.StatusCode != 301 {
		return fmt.Errorf("second rule %+v is not a 301 to https", rest)
	}
	return nil
}

func getListenerSet(t *testing.T, ns string) *gatewayv1.ListenerSet {
	t.Helper()
	ls := &gatewayv1.ListenerSet{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: customdomain.ListenerSetName}, ls); err != nil {
		t.Fatal(err)
	}
	return ls
}

func listener(ls *gatewayv1.ListenerSet, name string) *gatewayv1.ListenerEntry {
	for i := range ls.Spec.Listeners {
		if string(ls.Spec.Listeners[i].Name) == name {
			return &ls.Spec.Listeners[i]
		}
	}
	return nil
}

// requireListenerSet waits until the site's ListenerSet has exactly the
// named listeners and Envoy Gateway reports it Accepted, each listener
// Accepted and ResolvedRefs (an HTTPS listener's Secret found).
func requireListenerSet(t *testing.T, ns string, names ...string) *gatewayv1.ListenerSet {
	t.Helper()
	ls := &gatewayv1.ListenerSet{}
	testenv.Eventually(t, statusWait, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: customdomain.ListenerSetName}, ls); err != nil {
			return err
		}
		if len(ls.Spec.Listeners) != len(names) {
			return fmt.Errorf("ListenerSet %s has %d listeners, want %v", ns, len(ls.Spec.Listeners), names)
		}
		if ls.Labels[v1.ManagedByLabel] != v1.ManagedByValue || len(ls.OwnerReferences) != 0 ||
			string(ls.Spec.ParentRef.Name) != cfg.GatewayName || string(*ls.Spec.ParentRef.Namespace) != cfg.GatewayNamespace {
			return fmt.Errorf("ListenerSet %s: labels %v, owners %v, parent %+v", ns, ls.Labels, ls.OwnerReferences, ls.Spec.ParentRef)
		}
		if err := conditionIs(ls.Status.Conditions, string(gatewayv1.ListenerSetConditionAccepted), metav1.ConditionTrue, "", ls.Generation); err != nil {
			return fmt.Errorf("ListenerSet %s: %w", ns, err)
		}
		for _, name := range names {
			if listener(ls, name) == nil {
				return fmt.Errorf("ListenerSet %s has no listener %s", ns, name)
			}
			var st *gatewayv1.ListenerEntryStatus
			for i := range ls.Status.Listeners {
				if string(ls.Status.Listeners[i].Name) == name {
					st = &ls.Status.Listeners[i]
				}
			}
			if st == nil {
				return fmt.Errorf("ListenerSet %s: no status of listener %s", ns, name)
			}
			for _, typ := range []string{string(gatewayv1.ListenerEntryConditionAccepted), string(gatewayv1.ListenerEntryConditionResolvedRefs)} {
				if err := conditionIs(st.Conditions, typ, metav1.ConditionTrue, "", ls.Generation); err != nil {
					return fmt.Errorf("ListenerSet %s, listener %s: %w", ns, name, err)
				}
			}
		}
		return nil
	})
	return ls
}

// requireNoRouteOn asserts that no HTTPRoute of ns names those listeners.
func requireNoRouteOn(t *testing.T, ns string, sections ...string) {
	t.Helper()
	var list gatewayv1.HTTPRouteList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, r := range list.Items {
		for _, p := range r.Spec.ParentRefs {
			for _, s := range sections {
				if p.SectionName != nil && string(*p.SectionName) == s {
					t.Fatalf("route %s still attaches to listener %s", r.Name, s)
				}
			}
		}
	}
}

// Why a custom domain needs listeners of its own: the platform Gateway's
// listeners are for the base domain's wildcard only, so a route for another
// hostname attached to the Gateway itself matches none of them.
func TestCustomHostnameOnTheGatewayMatchesNoListener(t *testing.T) {
	ctx := context.Background()
	_, sub := newSite(t, testenv.Name("nolistener"))
	ns := siteNamespace(t, sub)
	route := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "custom-on-gateway"},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{
				Namespace: ptr.To(gatewayv1.Namespace(cfg.GatewayNamespace)), Name: gatewayv1.ObjectName(cfg.GatewayName),
			}}},
			Hostnames: []gatewayv1.Hostname{"shop.nolistener.example"},
			Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
				BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(platform.SiteName(sub.Name)), Port: ptr.To(gatewayv1.PortNumber(80))},
			}}}}},
		},
	}
	if err := env.Client.Create(ctx, route); err != nil {
		t.Fatal(err)
	}
	requireRouteRejected(t, routeByKey(client.ObjectKeyFromObject(route)), platformGateway(), gatewayv1.RouteReasonNoMatchingListenerHostname)
}
