package membership_test

import (
	"fmt"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var allRoles = []v1.MembershipRole{v1.RoleOwner, v1.RoleAdmin, v1.RoleDeveloper, v1.RoleEditor, v1.RoleBilling, v1.RoleViewer}

// access is one row of the role table: a request, and the roles allowed it.
type access struct {
	verb, group, resource string
	allowed               string // roles, e.g. "Owner Admin"
	// readOnly rows stay allowed while the account is suspended.
	readOnly bool
}

const hosting = "hosting.landlord.dev"

// roleTable is the contract of config/rbac/tenant (see its README): every
// role, every verb that matters. "" = nobody in a tenant.
var roleTable = []access{
	// Landlord's kinds.
	{"get", hosting, "subscriptions", "Owner Admin Developer Editor Billing Viewer", true},
	{"list", hosting, "subscriptions", "Owner Admin Developer Editor Billing Viewer", true},
	{"create", hosting, "subscriptions", "", false},
	{"update", hosting, "subscriptions", "", false},
	{"delete", hosting, "subscriptions", "", false},
	{"update", hosting, "subscriptions/status", "", false},
	{"list", hosting, "customdomains", "Owner Admin Developer Editor Billing Viewer", true},
	{"create", hosting, "customdomains", "Owner Admin Developer", false},
	{"update", hosting, "customdomains", "Owner Admin Developer", false},
	{"delete", hosting, "customdomains", "Owner Admin Developer", false},
	{"update", hosting, "customdomains/status", "", false},
	{"list", hosting, "databases", "Owner Admin Developer Editor Billing Viewer", true},
	{"create", hosting, "databases", "Owner Admin Developer", false},
	{"update", hosting, "databases", "Owner Admin Developer", false},
	{"delete", hosting, "databases", "Owner Admin Developer", false},
	{"update", hosting, "databases/status", "", false},
	{"list", hosting, "memberships", "Owner Admin Developer Editor Billing Viewer", true},
	{"create", hosting, "memberships", "Owner Admin", false},
	{"update", hosting, "memberships", "Owner Admin", false},
	{"delete", hosting, "memberships", "Owner Admin", false},
	{"manage-owners", hosting, "memberships", "Owner", false},
	{"update", hosting, "memberships/status", "", false},
	{"list", hosting, "teams", "Owner Admin Developer Editor Billing Viewer", true},
	{"create", hosting, "teams", "Owner Admin", false},
	{"update", hosting, "teams", "Owner Admin", false},
	{"delete", hosting, "teams", "Owner Admin", false},
	{"update", hosting, "teams/status", "", false},
	{"create", hosting, "domainclaims", "", false},
	{"delete", hosting, "domainclaims", "", false},
	{"get", hosting, "accounts", "", false},
	// Secrets and workloads.
	{"get", "", "secrets", "Owner Admin Developer", false},
	{"list", "", "secrets", "Owner Admin Developer", false},
	{"create", "", "secrets", "Owner Admin Developer", false},
	{"list", "", "pods", "Owner Admin Developer Editor", false},
	{"create", "", "pods", "Owner Admin Developer", false},
	{"delete", "", "pods", "Owner Admin Developer", false},
	{"get", "", "pods/log", "Owner Admin Developer Editor", false},
	{"create", "", "pods/exec", "Owner Admin Developer", false},
	{"create", "", "pods/portforward", "Owner Admin Developer", false},
	{"list", "", "configmaps", "Owner Admin Developer Editor", false},
	{"create", "", "configmaps", "Owner Admin Developer Editor", false},
	{"update", "", "configmaps", "Owner Admin Developer Editor", false},
	{"list", "", "services", "Owner Admin Developer Editor", false},
	{"create", "", "services", "Owner Admin Developer", false},
	{"create", "", "persistentvolumeclaims", "Owner Admin Developer", false},
	{"list", "apps", "deployments", "Owner Admin Developer Editor", false},
	{"create", "apps", "deployments", "Owner Admin Developer", false},
	{"update", "apps", "deployments/scale", "Owner Admin Developer", false},
	{"create", "batch", "jobs", "Owner Admin Developer", false},
	{"list", "", "events", "Owner Admin Developer Editor", false},
	// Guard rails: readable where useful, writable by nobody.
	{"get", "", "resourcequotas", "Owner Admin Developer Billing", false},
	{"create", "", "resourcequotas", "", false},
	{"update", "", "resourcequotas", "", false},
	{"delete", "", "resourcequotas", "", false},
	{"update", "", "resourcequotas/status", "", false},
	{"get", "", "limitranges", "Owner Admin Developer Billing", false},
	{"update", "", "limitranges", "", false},
	{"delete", "", "limitranges", "", false},
	{"get", "networking.k8s.io", "networkpolicies", "Owner Admin Developer", false},
	// Self-service NetworkPolicies (Landlord's own stay out of reach: the
	// landlord-objects admission policy, test/tenancy).
	{"create", "networking.k8s.io", "networkpolicies", "Owner Admin Developer", false},
	{"update", "networking.k8s.io", "networkpolicies", "Owner Admin Developer", false},
	{"delete", "networking.k8s.io", "networkpolicies", "Owner Admin Developer", false},
	{"deletecollection", "networking.k8s.io", "networkpolicies", "Owner Admin Developer", false},
	// Hostnames reach a site only through Landlord: no tenant writes
	// ListenerSets (custom-domain listeners), Gateways or routes.
	{"create", "gateway.networking.k8s.io", "listenersets", "", false},
	{"update", "gateway.networking.k8s.io", "listenersets", "", false},
	{"delete", "gateway.networking.k8s.io", "listenersets", "", false},
	{"create", "gateway.networking.k8s.io", "gateways", "", false},
	{"create", "gateway.networking.k8s.io", "httproutes", "", false},
	{"create", "networking.k8s.io", "ingresses", "", false},
	{"list", "rbac.authorization.k8s.io", "rolebindings", "Owner Admin", false},
	{"create", "rbac.authorization.k8s.io", "rolebindings", "", false},
	{"update", "rbac.authorization.k8s.io", "rolebindings", "", false},
	{"delete", "rbac.authorization.k8s.io", "rolebindings", "", false},
	{"create", "rbac.authorization.k8s.io", "roles", "", false},
	{"bind", "rbac.authorization.k8s.io", "clusterroles", "", false},
	{"escalate", "rbac.authorization.k8s.io", "roles", "", false},
	{"impersonate", "", "users", "", false},
	{"impersonate", "", "serviceaccounts", "", false},
	{"create", "", "serviceaccounts", "", false},
	{"create", "", "serviceaccounts/token", "", false},
	{"create", "networking.k8s.io", "ingresses", "", false},
	{"create", "gateway.networking.k8s.io", "httproutes", "", false},
	// The namespace itself (labels are Pod Security and ownership).
	{"get", "", "namespaces", "", false},
	{"update", "", "namespaces", "", false},
	{"patch", "", "namespaces", "", false},
	{"delete", "", "namespaces", "", false},
}

// allowed asks the API server whether user may do a in namespace ns.
func allowed(t *testing.T, user, ns string, a access) bool {
	t.Helper()
	res, sub, _ := strings.Cut(a.resource, "/")
	attrs := &authorizationv1.ResourceAttributes{Namespace: ns, Verb: a.verb, Group: a.group, Resource: res, Subresource: sub}
	if res == "namespaces" {
		attrs.Name = ns
		attrs.Namespace = ""
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: []string{"system:authenticated"}, ResourceAttributes: attrs}}
	if err := env.Client.Create(ctx, sar); err != nil {
		t.Fatalf("SubjectAccessReview: %v", err)
	}
	return sar.Status.Allowed
}

func roleUser(account string, role v1.MembershipRole) string {
	return strings.ToLower(string(role)) + "@" + account + ".example"
}

// Each role can do exactly what its row of the table allows, in the account
// namespace and in every site namespace of the account alike, and while the
// account is suspended every role can only read Landlord's kinds, everywhere.
func TestRoleTable(t *testing.T) {
	acct, ns := newAccount(t, "roles")
	namespaces := []string{ns, newSubscription(t, acct, ns, "shop"), newSubscription(t, acct, ns, "blog")}
	for _, role := range allRoles {
		m := membership(ns, roleUser(acct, role), role)
		create(t, m)
		waitCondition(t, m, metav1.ConditionTrue, v1.ReasonReconciled)
		waitBound(t, m, tenancyRole(role), namespaces...)
	}
	check := func(t *testing.T, suspended bool) {
		for _, n := range namespaces {
			for _, role := range allRoles {
				for _, a := range roleTable {
					want := strings.Contains(" "+a.allowed+" ", " "+string(role)+" ")
					if suspended {
						want = want && a.readOnly
					}
					if got := allowed(t, roleUser(acct, role), n, a); got != want {
						t.Errorf("%s: suspended=%v %s %s %s/%s: allowed=%v, want %v", n, suspended, role, a.verb, a.group, a.resource, got, want)
					}
				}
			}
		}
	}
	t.Run("active", func(t *testing.T) { check(t, false) })

	// Real requests agree with the reviews.
	for _, n := range namespaces {
		for _, role := range allRoles {
			c := env.As(roleUser(acct, role))
			err := c.List(ctx, &corev1.SecretList{}, client.InNamespace(n))
			if want := role == v1.RoleOwner || role == v1.RoleAdmin || role == v1.RoleDeveloper; (err == nil) != want {
				t.Errorf("%s: %s listing secrets: err=%v, want allowed=%v", n, role, err, want)
			}
			if err := c.List(ctx, &v1.CustomDomainList{}, client.InNamespace(n)); err != nil {
				t.Errorf("%s: %s listing custom domains: %v", n, role, err)
			}
		}
		if err := env.As(roleUser(acct, v1.RoleViewer)).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: n, Name: "x"}},
			client.DryRunAll); !apierrors.IsForbidden(err) {
			t.Errorf("%s: a Viewer creates a ConfigMap (err=%v)", n, err)
		}
		if err := env.As(roleUser(acct, v1.RoleEditor)).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: n, Name: "x"}},
			client.DryRunAll); err != nil {
			t.Errorf("%s: an Editor cannot create a ConfigMap: %v", n, err)
		}
	}

	suspend := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: acct}}
	if err := env.Client.Patch(ctx, suspend, client.RawPatch(client.Merge.Type(), []byte(`{"spec":{"suspension":{"reason":"NonPayment"}}}`))); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		for _, n := range namespaces {
			for _, role := range allRoles {
				if allowed(t, roleUser(acct, role), n, access{verb: "list", resource: "configmaps"}) {
					return fmt.Errorf("%s can still list configmaps in %s", role, n)
				}
			}
		}
		return nil
	})
	t.Run("suspended", func(t *testing.T) { check(t, true) })
}

// tenancyRole is the ClusterRole a role's binding names while the account is active.
func tenancyRole(role v1.MembershipRole) string { return tenancy.ClusterRoleName(role) }
