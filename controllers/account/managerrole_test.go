package account_test

import (
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// The manager's generated ClusterRole (config/rbac/manager, from the
// +kubebuilder:rbac markers) lets it bind every tenant role: RBAC's
// escalation check passes through the bind verb, not through the manager
// holding the tenants' rights.
func TestManagerRoleMayBindTenantRoles(t *testing.T) {
	if err := env.ApplyFile(ctx, filepath.Join(env.Root, "config", "rbac", "manager", "role.yaml")); err != nil {
		t.Fatal(err)
	}
	// Landlord's own identity in a cluster: only Landlord writes objects
	// labelled as Landlord's (config/admission/landlord-objects.yaml).
	const user = platform.ManagerServiceAccountUser
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("manager")},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-manager"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: user}}}
	if err := env.Client.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, crb) })

	a := newAccount(t, "mgr")
	a = waitReady(t, a.Name)
	mgr := env.As(user)
	for _, role := range []v1.MembershipRole{v1.RoleOwner, v1.RoleAdmin, v1.RoleDeveloper, v1.RoleEditor, v1.RoleBilling, v1.RoleViewer} {
		for _, suspended := range []bool{false, true} {
			m := &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: a.Status.Namespace, Name: testenv.Name("probe"), UID: a.UID},
				Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: "x"}, Role: role}}
			rb := tenancy.BuildMemberBinding(m, a.Name, suspended)
			rb.OwnerReferences = nil
			if err := mgr.Apply(ctx, rb, client.FieldOwner(platform.FieldManager), client.DryRunAll); err != nil {
				t.Errorf("the manager role cannot bind %s (suspended=%v): %v", role, suspended, err)
			}
		}
	}
	// And it cannot bind anything else.
	other := tenancy.BuildOwnerBinding(a, cfg).WithName("escalation").
		WithRoleRef(tenancy.BuildOwnerBinding(a, cfg).RoleRef.WithName("cluster-admin"))
	other.OwnerReferences = nil
	if err := mgr.Apply(ctx, other, client.FieldOwner(platform.FieldManager), client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("binding cluster-admin in a tenant namespace: want Forbidden, got %v", err)
	}
}
