package membership_test

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/lifecycle"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// forbiddenThing is one row of the guard-rail matrix (config/rbac/tenant/README.md,
// "Guard rails"): something no tenant may do in its account namespace.
type forbiddenThing struct {
	name string
	// rbac is the request RBAC decides first; a role RBAC refuses must get
	// RBAC's "cannot <verb> resource" refusal.
	rbac access
	// admission is the refusal a role RBAC lets through must get instead.
	admission string
	// provider is what the provider (cluster admin) gets: "may" (tenant
	// guard rails do not hold the provider), "refused" (the admission
	// refusal, as for tenants), "" (not checked: RBAC lets it do anything).
	provider string
	do       func(c client.Client, ns string) error
}

// restricted is a pod spec Pod Security "restricted" admits, changed by mut.
func restricted(mut func(*corev1.Container)) corev1.PodSpec {
	c := corev1.Container{
		Name: "web", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	if mut != nil {
		mut(&c)
	}
	return corev1.PodSpec{Containers: []corev1.Container{c}}
}

func svc(ns string, mut func(*corev1.ServiceSpec)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}
	if mut != nil {
		mut(&s.Spec)
	}
	return s
}

func mergePatch(c client.Client, obj client.Object, p string) error {
	return c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(p)), client.DryRunAll)
}

const protectedSub = "protected"

var forbiddenThings = []forbiddenThing{
	{"NodePort Service", access{verb: "create", resource: "services"}, "type NodePort is not allowed in tenant namespaces", "may",
		func(c client.Client, ns string) error {
			return c.Create(ctx, svc(ns, func(s *corev1.ServiceSpec) { s.Type = corev1.ServiceTypeNodePort }), client.DryRunAll)
		}},
	{"LoadBalancer Service", access{verb: "create", resource: "services"}, "type LoadBalancer is not allowed in tenant namespaces", "may",
		func(c client.Client, ns string) error {
			return c.Create(ctx, svc(ns, func(s *corev1.ServiceSpec) { s.Type = corev1.ServiceTypeLoadBalancer }), client.DryRunAll)
		}},
	{"externalIPs", access{verb: "create", resource: "services"}, "spec.externalIPs is not allowed in tenant namespaces", "may",
		func(c client.Client, ns string) error {
			return c.Create(ctx, svc(ns, func(s *corev1.ServiceSpec) { s.ExternalIPs = []string{"203.0.113.10"} }), client.DryRunAll)
		}},
	// Pod Security "restricted" (the namespace label) refuses a hostPort pod
	// before landlord-tenant-host-ports does (config/admission tests that one
	// alone); either way the refusal names hostPort.
	{"hostPort pod", access{verb: "create", resource: "pods"}, "hostPort", "",
		func(c client.Client, ns string) error {
			return c.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
				Spec: restricted(func(c *corev1.Container) { c.Ports[0].HostPort = 8080 })}, client.DryRunAll)
		}},
	{"hostPort Deployment", access{verb: "create", group: "apps", resource: "deployments"},
		"Deployment: hostPort is not allowed in tenant namespaces (container web binds a port on the node)", "may",
		func(c client.Client, ns string) error {
			labels := map[string]string{"app": "web"}
			return c.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
				Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       restricted(func(c *corev1.Container) { c.Ports[0].HostPort = 8080 })}}}, client.DryRunAll)
		}},
	{"privileged pod", access{verb: "create", resource: "pods"}, `violates PodSecurity "restricted:latest"`, "",
		func(c client.Client, ns string) error {
			return c.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
				Spec: restricted(func(c *corev1.Container) {
					c.SecurityContext.Privileged, c.SecurityContext.AllowPrivilegeEscalation = ptr.To(true), nil
				})}, client.DryRunAll)
		}},
	{"an egress-widening NetworkPolicy", access{verb: "create", group: "networking.k8s.io", resource: "networkpolicies"},
		"an egress rule of a tenant policy may allow only pods of this namespace", "",
		func(c client.Client, ns string) error {
			return c.Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allow-all"},
				Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
					Egress: []networkingv1.NetworkPolicyEgressRule{{}}}}, client.DryRunAll)
		}},
	{"delete Landlord's NetworkPolicy", access{verb: "delete", group: "networking.k8s.io", resource: "networkpolicies"},
		"is Landlord's (app.kubernetes.io/managed-by: landlord)", "",
		func(c client.Client, ns string) error {
			return c.Delete(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: platform.NetworkPolicyName}}, client.DryRunAll)
		}},
	{"create a ResourceQuota", access{verb: "create", resource: "resourcequotas"}, "", "",
		func(c client.Client, ns string) error {
			return c.Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mine"},
				Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1000")}}}, client.DryRunAll)
		}},
	{"change Landlord's LimitRange", access{verb: "patch", resource: "limitranges"}, "", "",
		func(c client.Client, ns string) error {
			return mergePatch(c, &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: platform.LimitRangeName}},
				`{"spec":{"limits":[{"type":"Container","default":{"cpu":"64"}}]}}`)
		}},
	{"set a lifecycle annotation on a Subscription", access{verb: "patch", group: hosting, resource: "subscriptions"},
		"only Landlord may set, change or remove the annotation " + lifecycle.TerminatedAtAnnotation, "refused",
		func(c client.Client, ns string) error {
			return mergePatch(c, &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: protectedSub}},
				`{"metadata":{"annotations":{"`+lifecycle.TerminatedAtAnnotation+`":"2030-01-01T00:00:00Z"}}}`)
		}},
	{"delete a protected Subscription", access{verb: "delete", group: hosting, resource: "subscriptions"},
		"subscription " + protectedSub + " has spec.deletionProtection: true", "refused",
		func(c client.Client, ns string) error {
			return c.Delete(ctx, &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: protectedSub}}, client.DryRunAll)
		}},
}

// Every tenant role, through the real API server as that tenant, is refused
// every forbidden thing, in the account namespace and in every site
// namespace of the account: by RBAC where its role lacks the verb, else by
// admission (Landlord's policies or Pod Security) with a message that says
// what is wrong. The provider is held only to what protects it from mistakes
// (lifecycle facts, deletion protection; Subscriptions live in the account
// namespace only), and, in the account namespace, to its no-workload quota.
// A ClusterIP Service is accepted for a Developer in a site namespace, so the
// matrix would notice a policy that refuses everything.
func TestGuardRailMatrix(t *testing.T) {
	acct, ns := newAccount(t, "rails")
	namespaces := []string{ns, newSubscription(t, acct, ns, "shop"), newSubscription(t, acct, ns, "blog")}
	for _, role := range allRoles {
		m := membership(ns, roleUser(acct, role), role)
		create(t, m)
		waitCondition(t, m, metav1.ConditionTrue, v1.ReasonReconciled)
		waitBound(t, m, tenancyRole(role), namespaces...)
	}
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: protectedSub},
		Spec: v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}}}
	if err := env.Client.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.Client.Patch(ctx, sub, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"deletionProtection":false}}`)))
		_ = env.Client.Delete(ctx, sub)
	})
	developer := env.As(roleUser(acct, v1.RoleDeveloper))
	testenv.Eventually(t, timeout, func() error {
		for _, n := range namespaces {
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: n, Name: "default"}, &corev1.ServiceAccount{}); err != nil {
				return err // pods need it
			}
			// Each policy is loaded on its own: wait until all of them refuse.
			for _, f := range forbiddenThings {
				if err := f.do(developer, n); err == nil {
					return fmt.Errorf("the guard rails are not enforced yet in %s (%s accepted)", n, f.name)
				}
			}
		}
		return nil
	})

	for _, n := range namespaces {
		for _, role := range allRoles {
			t.Run(n+"/"+string(role), func(t *testing.T) {
				user := roleUser(acct, role)
				c := env.As(user)
				for _, f := range forbiddenThings {
					err := f.do(c, n)
					want := f.admission
					if !allowed(t, user, n, f.rbac) {
						want = fmt.Sprintf("cannot %s resource %q", f.rbac.verb, f.rbac.resource)
					} else if want == "" {
						t.Errorf("%s: RBAC lets %s do it, and nothing else stops it", f.name, role)
						continue
					}
					if !(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)) || !strings.Contains(err.Error(), want) {
						t.Errorf("%s %s: want Forbidden/Invalid saying %q, got %v", role, f.name, want, err)
					}
				}
			})
		}

		t.Run(n+"/provider", func(t *testing.T) {
			for _, f := range forbiddenThings {
				err := f.do(env.Client, n)
				switch {
				case f.provider == "may" && n == ns:
					// The guard rails do not hold the provider here either; the
					// account namespace's quota (0: nothing runs there) may.
					if err != nil && !strings.Contains(err.Error(), "exceeded quota") {
						t.Errorf("provider %s in the account namespace: want no guard rail's refusal, got %v", f.name, err)
					}
				case f.provider == "may":
					// The guard rails do not hold the provider; a site's quota
					// (no NodePorts, no LoadBalancers) may.
					if err != nil && !strings.Contains(err.Error(), "exceeded quota") {
						t.Errorf("provider %s: want no guard rail's refusal, got %v", f.name, err)
					}
				case f.provider == "refused" && n == ns:
					if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), f.admission) {
						t.Errorf("provider %s: want a refusal saying %q, got %v", f.name, f.admission, err)
					}
				}
			}
		})

		if n == ns {
			continue // nothing runs in the account namespace (see above)
		}
		if err := developer.Create(ctx, svc(n, nil), client.DryRunAll); err != nil {
			t.Errorf("%s: a Developer's ClusterIP Service is refused: %v", n, err)
		}
	}
	// What a refusal looks like to a person (for the README).
	t.Logf("example: %v", forbiddenThings[0].do(developer, ns))
}
