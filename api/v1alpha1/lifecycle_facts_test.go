package v1alpha1_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/lifecycle"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/suspension"
	"github.com/landlord-dev/landlord/internal/testenv"
)

func annotate(c client.Client, sub *v1.Subscription, key string, value *string) error {
	v := "null"
	if value != nil {
		v = fmt.Sprintf("%q", *value)
	}
	o := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: sub.Namespace, Name: sub.Name}}
	return c.Patch(context.Background(), o, client.RawPatch(types.MergePatchType,
		[]byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, key, v))))
}

// The annotations that make a phase final are Landlord's alone: a tenant, a
// portal allowed to write Subscriptions and even a cluster admin are refused
// when they set, change or remove one, while Landlord's identity (the
// manager's, as tests run it, and its in-cluster ServiceAccount) may.
func TestLifecycleFactsOnlyByLandlord(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)

	// A tenant: the Owner role in the namespace.
	tenantUser := "tina@" + ns + ".example"
	// A portal backend: a ServiceAccount with write access to Subscriptions.
	portalRole := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("portal")}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{v1.GroupVersion.Group}, Resources: []string{"subscriptions"},
		Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}}}
	for _, o := range []client.Object{
		portalRole,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "portal"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "portal"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: portalRole.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "portal"}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "owner"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-tenant-owner"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: tenantUser}}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, portalRole) })
	tenant := env.As(tenantUser)
	portal := env.As("system:serviceaccount:"+ns+":portal", "system:serviceaccounts", "system:serviceaccounts:"+ns)
	admin := env.Client
	landlord, err := client.New(env.ManagerConfig, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	// Landlord in a cluster (impersonated here; RBAC through system:masters).
	landlordSA := env.As(platform.ManagerServiceAccountUser, "system:masters")

	sub := validSubscription(ns, "www")
	if err := portal.Create(ctx, sub); err != nil {
		t.Fatalf("the portal creates a subscription: %v", err)
	}
	at := func(s string) *string { return &s }
	cancelled, terminated := lifecycle.CancelledAtAnnotation, lifecycle.TerminatedAtAnnotation
	const refusal = "only Landlord may set, change or remove the annotation "

	// The policy may take a moment to be enforced after the environment starts.
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := admin.Patch(ctx, sub, client.RawPatch(types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"`+terminated+`":"2030-01-01T00:00:00Z"}}}`)), client.DryRunAll); err == nil {
			return fmt.Errorf("an admin's terminated-at was accepted")
		}
		return nil
	})

	if err := annotate(landlord, sub, terminated, at("2030-01-01T00:00:00Z")); err != nil {
		t.Fatalf("Landlord records terminated-at: %v", err)
	}
	if err := annotate(landlord, sub, suspension.StoppedAnnotation, at("true")); err != nil {
		t.Fatalf("Landlord records workloads-stopped: %v", err)
	}

	refused := func(t *testing.T, who string, err error, rbac bool, key string) {
		t.Helper()
		want := refusal + key
		if rbac {
			want = "cannot patch resource \"subscriptions\""
		}
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want Forbidden saying %q, got %v", who, want, err)
		}
	}
	for _, c := range []struct {
		name string
		c    client.Client
		rbac bool // refused by RBAC before admission: tenants never write Subscriptions
	}{{"tenant", tenant, true}, {"portal", portal, false}, {"cluster admin", admin, false}} {
		t.Run(c.name, func(t *testing.T) {
			refused(t, c.name+" sets cancelled-at", annotate(c.c, sub, cancelled, at("2030-01-01T00:00:00Z")), c.rbac, cancelled)
			refused(t, c.name+" changes terminated-at", annotate(c.c, sub, terminated, at("2099-01-01T00:00:00Z")), c.rbac, terminated)
			refused(t, c.name+" removes terminated-at", annotate(c.c, sub, terminated, nil), c.rbac, terminated)
			refused(t, c.name+" removes workloads-stopped (the stopped workloads would never come back)", annotate(c.c, sub, suspension.StoppedAnnotation, nil), c.rbac, suspension.StoppedAnnotation)
			refused(t, c.name+" backdates suspended-observed-at", annotate(c.c, sub, lifecycle.SuspendedAtAnnotation, at("2000-01-01T00:00:00Z")), c.rbac, lifecycle.SuspendedAtAnnotation)
		})
	}
	t.Run("portal creates a subscription that is already terminated", func(t *testing.T) {
		forged := validSubscription(ns, "forged")
		forged.Annotations = map[string]string{terminated: "2030-01-01T00:00:00Z"}
		refused(t, "portal creates with terminated-at", portal.Create(ctx, forged), false, terminated)
	})
	t.Run("other writes pass", func(t *testing.T) {
		// The portal's own annotations, and a full update that carries the
		// facts unchanged (what kubectl apply or a GitOps tool sends).
		if err := annotate(portal, sub, "portal.example/order", at("4711")); err != nil {
			t.Errorf("portal annotates its order number: %v", err)
		}
		got := &v1.Subscription{}
		if err := portal.Get(ctx, client.ObjectKeyFromObject(sub), got); err != nil {
			t.Fatal(err)
		}
		got.Spec.AutoRenew = true
		if err := portal.Update(ctx, got); err != nil {
			t.Errorf("portal updates a terminated subscription's spec, facts unchanged: %v", err)
		}
	})

	if err := annotate(landlordSA, sub, cancelled, at("2029-12-01T00:00:00Z")); err != nil {
		t.Errorf("Landlord's ServiceAccount records cancelled-at: %v", err)
	}
	if err := annotate(landlord, sub, terminated, nil); err != nil {
		t.Errorf("Landlord removes terminated-at: %v", err)
	}
	got := &v1.Subscription{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sub), got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Annotations[terminated]; ok || got.Annotations[cancelled] != "2029-12-01T00:00:00Z" {
		t.Errorf("annotations %v: want cancelled-at from Landlord and no terminated-at", got.Annotations)
	}
}
