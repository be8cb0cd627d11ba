// Package bare runs Landlord on a bare cluster — no Gateway API CRDs, no
// operator namespace — as `make cluster-up && make run` would before
// anything optional is installed, and forces failures to check that each
// one is visible on the object it stops.
package bare

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	cfg platform.Config
)

const wait = 60 * time.Second

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	ctx := context.Background()
	var err error
	env, err = testenv.Start(ctx, testenv.Options{Kwok: true, VolumeProvisioner: true, NoGatewayAPI: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg = platform.Default()
	cfg.APICheckInterval = 500 * time.Millisecond
	mgr, err := env.StartManagerWith(testenv.ManagerOptions{Config: cfg, Clock: clock.NewFake(time.Now().UTC().Truncate(time.Second))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = env.Stop()
		os.Exit(1)
	}
	code := m.Run()
	_ = mgr.Stop()
	_ = env.Stop()
	os.Exit(code)
}

// A site on a cluster without the Gateway API: it runs, says why it has no
// route and how to install the API; once the CRDs are installed (no
// restart) the missing operator namespace is the next failure, named on
// Ready; once it exists the site is routed and Ready.
func TestSiteWaitsForTheGatewayAPI(t *testing.T) {
	ctx := context.Background()
	acct := newAccount(t, "bare")
	sub := newSubscription(t, acct, "www")

	testenv.Eventually(t, wait, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
			return err
		}
		if sub.Status.Phase != v1.PhaseActive {
			return fmt.Errorf("phase %q", sub.Status.Phase)
		}
		routed := meta.FindStatusCondition(sub.Status.Conditions, v1.ConditionRouted)
		if routed == nil || routed.Reason != v1.ReasonGatewayAPIMissing || !strings.Contains(routed.Message, "make install-gateway-api") {
			return fmt.Errorf("Routed is %+v", routed)
		}
		if ready := meta.FindStatusCondition(sub.Status.Conditions, v1.ConditionReady); ready == nil || ready.Status != metav1.ConditionFalse {
			return fmt.Errorf("Ready is %+v", ready)
		}
		return nil
	})

	gw, err := testenv.GatewayAPICRDs()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: gw}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, wait, readyIs(sub, metav1.ConditionFalse, v1.ReasonReconcileError, `namespaces "landlord-system" not found`))

	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.OperatorNamespace}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, wait, readyIs(sub, metav1.ConditionTrue, v1.ReasonReconciled, ""))
	route := &gatewayv1.HTTPRoute{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: cfg.SiteNamespace(acct.Name, sub.Name), Name: platform.SiteName(sub.Name)}, route); err != nil {
		t.Fatalf("the site's route: %v", err)
	}
}

// A provider's own admission policy refuses what Landlord applies for an
// account (its NetworkPolicy) and for a membership (its RoleBinding): both
// objects say so on Ready, with the policy's message.
func TestRefusedChildrenAreReportedOnTheObject(t *testing.T) {
	ctx := context.Background()
	refuse(t, "refuse-networkpolicies", "networking.k8s.io", "networkpolicies",
		"!object.metadata.namespace.startsWith('acct-refused')", "the provider refuses NetworkPolicies here",
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: networkingv1.NetworkPolicySpec{}}, "acct-refused-probe")
	acct := newAccount(t, "refused")
	testenv.Eventually(t, wait, readyIs(acct, metav1.ConditionFalse, v1.ReasonReconcileError, "the provider refuses NetworkPolicies here"))

	member := platform.MembershipBindingName("refused-member")
	refuse(t, "refuse-rolebinding", "rbac.authorization.k8s.io", "rolebindings",
		fmt.Sprintf("object.metadata.name != '%s'", member), "the provider refuses this binding",
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: member}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}}, "probe-rolebinding")
	ok := newAccount(t, "members")
	m := &v1.Membership{
		ObjectMeta: metav1.ObjectMeta{Name: "refused-member", Namespace: cfg.AccountNamespace(ok.Name)},
		Spec:       v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: "eve@example.com"}, Role: v1.RoleViewer},
	}
	testenv.Eventually(t, wait, func() error { return env.Client.Create(ctx, m) })
	testenv.Eventually(t, wait, readyIs(m, metav1.ConditionFalse, v1.ReasonReconcileError, "the provider refuses this binding"))
}

// refuse installs a ValidatingAdmissionPolicy denying resource writes
// unless expression holds, and waits until it refuses probe in namespace ns.
func refuse(t *testing.T, name, group, resource, expression, message string, probe client.Object, ns string) {
	t.Helper()
	ctx := context.Background()
	for _, o := range testenv.MustObjects(t, fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: %[1]s}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [%[2]q], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: [%[3]q]}
  validations:
  - expression: %[4]q
    message: %[5]q
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: %[1]s}
spec:
  policyName: %[1]s
  validationActions: [Deny]
`, name, group, resource, expression, message)) {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	probe.SetNamespace(ns)
	testenv.Eventually(t, wait, func() error {
		err := env.Client.Create(ctx, probe.DeepCopyObject().(client.Object), client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), message) {
			return fmt.Errorf("the policy is not in force yet: %v", err)
		}
		return nil
	})
}

func newAccount(t *testing.T, name string) *v1.Account {
	t.Helper()
	a := &v1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1.AccountSpec{DisplayName: name, Owner: v1.Subject{Kind: v1.SubjectUser, Name: name + "@example.com"}, DeletionProtection: ptr.To(false)},
	}
	if err := env.Client.Create(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func newSubscription(t *testing.T, acct *v1.Account, name string) *v1.Subscription {
	t.Helper()
	ctx := context.Background()
	plan := &v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "bare-" + name}, Spec: v1.PlanSpec{DisplayName: "Bare", Limits: v1.Limits{
		Storage: ptr.To(resource.MustParse("1Gi")), CPU: ptr.To(resource.MustParse("500m")), Memory: ptr.To(resource.MustParse("256Mi"))}}}
	tmpl := &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: "bare-" + name}, Spec: v1.SiteTemplateSpec{
		DisplayName: "Static", Image: "nginxinc/nginx-unprivileged:1.27-alpine", Port: 8080, DataPath: "/data"}}
	for _, o := range []client.Object{plan, tmpl} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	sub := &v1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cfg.AccountNamespace(acct.Name)},
		Spec: v1.SubscriptionSpec{Plan: plan.Name, Site: v1.SiteSpec{Template: tmpl.Name},
			PaidThrough: &metav1.Time{Time: time.Now().Add(30 * 24 * time.Hour)}},
	}
	// The account namespace appears once the Account is reconciled.
	testenv.Eventually(t, wait, func() error { return env.Client.Create(ctx, sub) })
	return sub
}

// readyIs checks obj's Ready condition (msg: a fragment of its message).
func readyIs(obj client.Object, status metav1.ConditionStatus, reason, msg string) func() error {
	return func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		c := meta.FindStatusCondition(obj.(interface{ GetConditions() []metav1.Condition }).GetConditions(), v1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason || !strings.Contains(c.Message, msg) {
			return fmt.Errorf("%s: Ready is %+v, want %s %s %q", client.ObjectKeyFromObject(obj), c, status, reason, msg)
		}
		return nil
	}
}
