package admission_test

import (
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
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Only the provider pauses Landlord on an object: an account Owner may write
// CustomDomains and Memberships, but neither create one paused nor pause,
// resume or unpause one; the provider may.
func TestOnlyTheProviderPauses(t *testing.T) {
	ns := testenv.Name("paused")
	must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{v1.AccountLabel: "paused"}}}))
	// CustomDomains live in site namespaces (config/admission/placement.yaml).
	siteNS := ns + "--www"
	must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS, Labels: map[string]string{v1.AccountLabel: "paused", v1.SubscriptionLabel: "www"}}}))
	owner := "olga@" + ns + ".example"
	for _, n := range []string{ns, siteNS} {
		must(t, env.Client.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: n, Name: "owner"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-tenant-owner"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: owner}},
		}))
	}
	tenant := env.As(owner)
	paused := map[string]string{v1.PausedAnnotation: "true"}
	domain := func(name string, ann map[string]string) *v1.CustomDomain {
		return &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: siteNS, Name: name, Annotations: ann},
			Spec: v1.CustomDomainSpec{Hostname: name + ".example.com"}}
	}
	member := &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "m", Annotations: paused},
		Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: "x@example.com"}, Role: v1.RoleViewer}}
	pause := func(c client.Client, obj client.Object, value string) error {
		return c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, v1.PausedAnnotation, value))))
	}
	refused := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "only the provider may pause") {
			t.Errorf("%s: want the paused policy's refusal, got %v", what, err)
		}
	}
	// The policy may take a moment to be enforced after the environment
	// starts (and the owner's new binding to be authorised).
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := tenant.Create(ctx, domain("probe", paused), client.DryRunAll); err == nil {
			return fmt.Errorf("the paused policy is not enforced yet")
		}
		return nil
	})
	refused("the owner creates a paused domain", tenant.Create(ctx, domain("a", paused)))
	refused("the owner creates a paused membership", tenant.Create(ctx, member))
	team := &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "t"},
		Spec: v1.TeamSpec{Role: v1.TeamRoleViewer, Members: []v1.TeamMember{{Subject: v1.Subject{Kind: v1.SubjectUser, Name: "y@example.com"}}}}}
	must(t, tenant.Create(ctx, team))
	refused("the owner pauses a team (its expiring members would keep their access)", pause(tenant, team, `"true"`))

	d := domain("b", nil)
	must(t, tenant.Create(ctx, d)) // the same without the annotation is accepted
	refused("the owner pauses a domain", pause(tenant, d, `"true"`))
	must(t, pause(env.Client, d, `"true"`)) // the provider may
	refused("the owner unpauses a domain", pause(tenant, d, "null"))
	must(t, tenant.Patch(ctx, d, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"primary":true}}`)))) // other edits stay allowed
	must(t, pause(env.Client, d, "null"))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
