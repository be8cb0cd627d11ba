package membership_test

import (
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// The manager's generated ClusterRole (config/rbac/manager, from the
// +kubebuilder:rbac markers) lets it add and remove the finalizer of every
// Membership, an Owner's included (the owner-protection admission policy
// asks for manage-owners), and bind members in a site namespace.
func TestManagerRoleMayFinalizeAndBindInSites(t *testing.T) {
	if err := env.ApplyFile(ctx, filepath.Join(env.Root, "config", "rbac", "manager", "role.yaml")); err != nil {
		t.Fatal(err)
	}
	const user = "landlord-manager-under-test"
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("manager")},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-manager"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: user}}}
	if err := env.Client.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, crb) })

	acct, ns := newAccount(t, "mgr")
	newSite(t, acct, "shop")
	owner := create(t, membership(ns, "co-owner@mgr.example", v1.RoleOwner))
	waitCondition(t, owner, metav1.ConditionTrue, v1.ReasonReconciled)
	mgr := env.As(user)
	for _, patch := range []string{
		`{"metadata":{"finalizers":null}}`,
		`{"metadata":{"finalizers":["` + v1.Finalizer + `","example.com/other"]}}`,
	} {
		if err := mgr.Patch(ctx, owner, client.RawPatch(types.MergePatchType, []byte(patch)), client.DryRunAll); err != nil {
			t.Errorf("the manager role cannot patch an Owner membership's finalizers (%s): %v", patch, err)
		}
	}
	rb := tenancy.BuildSiteMemberBinding(owner, tenancy.SiteTarget(acct, "shop", cfg), true).WithName(testenv.Name("probe"))
	if err := mgr.Apply(ctx, rb, client.FieldOwner(platform.FieldManager), client.DryRunAll); err != nil {
		t.Errorf("the manager role cannot bind a member in a site namespace: %v", err)
	}
}
