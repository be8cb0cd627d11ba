package gateway

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// The platform Gateway of config/gateway is accepted by a real
// implementation, with both listeners' references resolved (the HTTPS
// listener's wildcard certificate Secret). It is not Programmed: the proxies
// Envoy Gateway creates only "run" on the kwok node and get no address.
func TestPlatformGatewayAccepted(t *testing.T) {
	gw := requireGatewayAccepted(t, types.NamespacedName{Namespace: cfg.GatewayNamespace, Name: cfg.GatewayName}, "http", "https")
	if c := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)); c != nil {
		t.Logf("Gateway Programmed=%s (%s), as expected without a load balancer", c.Status, c.Reason)
	}
}

// A site's default route is accepted by the platform Gateway with its
// backend (the site's Service) resolved; suspended, the same route goes to
// the operator's suspended page in another namespace, which resolves only
// through the ReferenceGrant Landlord writes.
func TestSiteRouteAcceptedThenSuspended(t *testing.T) {
	ctx := context.Background()
	acct, sub := newSite(t, testenv.Name("gw"))
	find := subscriptionRoute(acct.Name, sub.Name)

	requireRouteAccepted(t, find, platformGateway(), backendIs("", platform.SiteName(sub.Name)))

	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
			return err
		}
		sub.Spec.Suspension = &v1.Suspension{Reason: v1.SuspensionManual, Message: "suspended by test/gateway"}
		return env.Client.Update(ctx, sub)
	})
	requireRouteAccepted(t, find, platformGateway(), backendIs(cfg.OperatorNamespace, cfg.SuspendedService))
}

// config/gateway admits routes only from namespaces Landlord manages: a
// route from any other namespace is not accepted.
func TestRoutesFromOtherNamespacesNotAdmitted(t *testing.T) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("outsider")}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	route := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "squatter"},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{
				Namespace: ptr.To(gatewayv1.Namespace(cfg.GatewayNamespace)), Name: gatewayv1.ObjectName(cfg.GatewayName),
			}}},
			Hostnames: []gatewayv1.Hostname{"squatter.sites.landlord.localhost"},
			Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
				BackendObjectReference: gatewayv1.BackendObjectReference{Name: "anything", Port: ptr.To(gatewayv1.PortNumber(80))},
			}}}}},
		},
	}
	if err := env.Client.Create(ctx, route); err != nil {
		t.Fatal(err)
	}
	requireRouteRejected(t, routeByKey(client.ObjectKeyFromObject(route)), platformGateway(), gatewayv1.RouteReasonNotAllowedByListeners)
}

// newSite creates a Plan, a SiteTemplate, an Account and a paid
// Subscription named name.
func newSite(t *testing.T, name string) (*v1.Account, *v1.Subscription) {
	t.Helper()
	ctx := context.Background()
	plan := &v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.PlanSpec{DisplayName: "Gateway", Limits: v1.Limits{
		Storage: ptr.To(resource.MustParse("1Gi")), CPU: ptr.To(resource.MustParse("500m")), Memory: ptr.To(resource.MustParse("256Mi")),
		CustomDomains: ptr.To(int32(5))}}}
	tmpl := &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.SiteTemplateSpec{
		DisplayName: "Static", Image: "nginxinc/nginx-unprivileged:1.27-alpine", Port: 8080, DataPath: "/data"}}
	acct := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.AccountSpec{
		DisplayName: name, Owner: v1.Subject{Kind: v1.SubjectUser, Name: name + "@example.com"}, DeletionProtection: ptr.To(false)}}
	for _, o := range []client.Object{plan, tmpl, acct} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	sub := &v1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Name: "www", Namespace: cfg.AccountNamespace(acct.Name)},
		Spec: v1.SubscriptionSpec{Plan: plan.Name, Site: v1.SiteSpec{Template: tmpl.Name},
			PaidThrough: &metav1.Time{Time: clk.Now().Add(30 * 24 * time.Hour)}},
	}
	// The account namespace appears once the Account is reconciled.
	testenv.Eventually(t, time.Minute, func() error { return env.Client.Create(ctx, sub) })
	return acct, sub
}
