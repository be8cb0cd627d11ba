// Package tenancy_test checks the multi-tenancy benchmarks (kubectl-mtb,
// profile levels 1 and 2) in Landlord's tenant namespaces, through the real
// API server with the manager running, so that the objects tried are the ones
// Landlord really creates: for every tenant role (bound through Memberships),
// what is refused (Landlord's objects, Services that leave the platform's
// routes, NetworkPolicies that widen egress, the other tenant's namespaces),
// what is the tenant's to do (its own NetworkPolicies, pods and ConfigMaps),
// and the quota's counts. config/rbac/tenant/README.md lists the benchmark
// checks and the test that covers each.
package tenancy_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	cfg = platform.Default()
	ctx = context.Background()
)

// wait bounds every Eventually: generous, for a loaded 2-core machine.
const wait = 90 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv("LANDLORD_BIN_DIR") == "" {
		fmt.Fprintln(os.Stderr, "tenancy: LANDLORD_BIN_DIR is not set (make test sets it)")
	}
	// Pods run on a kwok node and volumes bind, so that the site's pod,
	// ReplicaSet and bound claim exist as in a cluster.
	testenv.Main(m, &env, testenv.Options{Kwok: true, VolumeProvisioner: true, Manager: &cfg})
}

// roles are the tenant roles of a Membership, each a user of the account.
var roles = []v1.MembershipRole{v1.RoleOwner, v1.RoleAdmin, v1.RoleDeveloper, v1.RoleEditor, v1.RoleBilling, v1.RoleViewer}

// writers are the roles that run workloads (and write NetworkPolicies).
func writer(r v1.MembershipRole) bool {
	return r == v1.RoleOwner || r == v1.RoleAdmin || r == v1.RoleDeveloper
}

// tenant is an account with one site whose objects Landlord has created,
// and a member of each role.
type tenant struct {
	account, accountNS, siteNS, sub string
	users                           map[v1.MembershipRole]string
}

func (tn tenant) as(r v1.MembershipRole) client.Client { return env.As(tn.users[r]) }

var (
	worldOnce    sync.Once
	acme, globex tenant
)

// world creates the provider's fixtures and two tenants, once per package.
func world(t *testing.T) (tenant, tenant) {
	t.Helper()
	worldOnce.Do(func() {
		must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.OperatorNamespace}}))
		must(t, env.Client.Create(ctx, &v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "tenancy"}, Spec: v1.PlanSpec{
			Limits: v1.Limits{Storage: q("1Gi"), CPU: q("500m"), Memory: q("256Mi"), EphemeralStorage: q("1Gi")}}}))
		must(t, env.Client.Create(ctx, &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: "tenancy"}, Spec: v1.SiteTemplateSpec{
			Image: "nginx", Port: 8080, DataPath: "/srv", ReadinessPath: "/"}}))
		acme = newTenant(t, "acme")
		globex = newTenant(t, "globex")
	})
	if acme.sub == "" {
		t.Fatal("the world was not set up (an earlier test failed setting it up)")
	}
	return acme, globex
}

// newTenant creates an account, a Membership per role and a site, and waits
// for the site's objects: Deployment, running pod, Service, claim, quota.
func newTenant(t *testing.T, name string) tenant { return newTenantOn(t, name, "tenancy") }

// newTenantOn is newTenant with the site on plan.
func newTenantOn(t *testing.T, name, plan string) tenant {
	t.Helper()
	tn := tenant{account: name, accountNS: cfg.AccountNamespace(name), sub: "www", users: map[v1.MembershipRole]string{}}
	tn.siteNS = cfg.SiteNamespace(name, tn.sub)
	must(t, env.Client.Create(ctx, &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.AccountSpec{
		Owner: v1.Subject{Kind: v1.SubjectUser, Name: "founder@" + name + ".test"}, DeletionProtection: ptr.To(false)}}))
	testenv.Eventually(t, wait, func() error {
		return env.Client.Get(ctx, client.ObjectKey{Name: tn.accountNS}, &corev1.Namespace{})
	})
	for _, r := range roles {
		tn.users[r] = strings.ToLower(string(r)) + "@" + name + ".test"
		must(t, env.Client.Create(ctx, &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: tn.accountNS, Name: strings.ToLower(string(r))},
			Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: tn.users[r]}, Role: r}}))
	}
	must(t, env.Client.Create(ctx, &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: tn.accountNS, Name: tn.sub}, Spec: v1.SubscriptionSpec{
		Plan: plan, Site: v1.SiteSpec{Template: "tenancy"}, PaidThrough: &metav1.Time{Time: testenv.ManagerEpoch.Add(30 * 24 * time.Hour)},
		DeletionProtection: ptr.To(false)}}))
	testenv.Eventually(t, wait, func() error {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(tn.siteNS), client.MatchingLabels{v1.SubscriptionLabel: tn.sub}); err != nil {
			return err
		}
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				return nil
			}
		}
		return fmt.Errorf("no running site pod in %s yet (%d pods)", tn.siteNS, len(pods.Items))
	})
	waitForMemberBindings(t, tn)
	return tn
}

// waitForMemberBindings waits for the Membership controller's RoleBinding of
// every member in the account namespace and in the site namespace.
func waitForMemberBindings(t *testing.T, tn tenant) {
	t.Helper()
	testenv.Eventually(t, wait, func() error {
		for _, ns := range []string{tn.accountNS, tn.siteNS} {
			for _, r := range roles {
				rb := &rbacv1.RoleBinding{}
				key := client.ObjectKey{Namespace: ns, Name: platform.MembershipBindingName(strings.ToLower(string(r)))}
				if err := env.Client.Get(ctx, key, rb); err != nil {
					return err
				}
				if rb.RoleRef.Name != tenancy.ClusterRoleName(r) {
					return fmt.Errorf("%s binds %s, want %s", key, rb.RoleRef.Name, tenancy.ClusterRoleName(r))
				}
			}
		}
		return nil
	})
}

func q(s string) *resource.Quantity { return ptr.To(resource.MustParse(s)) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
