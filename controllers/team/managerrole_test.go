package team_test

import (
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// The manager's generated ClusterRole (config/rbac/manager) lets it write
// what a Team needs: the Role granting get on the team's Subscriptions (RBAC
// admits it because the manager holds get on subscriptions itself: no
// escalate), its binding, and the site bindings to every site role; and RBAC
// still stops it from writing a Role with rights it lacks.
func TestManagerRoleMayWriteTeamRBAC(t *testing.T) {
	must(t, env.ApplyFile(ctx, filepath.Join(env.Root, "config", "rbac", "manager", "role.yaml")))
	// As Landlord's in-cluster identity: the landlord-objects admission
	// policy lets only Landlord write objects labelled as Landlord's.
	const who = platform.ManagerServiceAccountUser
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("team-manager")},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-manager"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: who}}}
	must(t, env.Client.Create(ctx, crb))
	t.Cleanup(func() { _ = env.Client.Delete(ctx, crb) })

	f := newAccount(t, 5)
	site := f.site(t, "shop")
	mgr := env.As(who)
	apply := func(obj any) error {
		u, err := kernel.ApplyForm(env.Scheme, obj)
		if err != nil {
			return err
		}
		return mgr.Patch(ctx, u, client.Apply, client.FieldOwner(platform.FieldManager), client.DryRunAll)
	}
	for _, role := range []v1.TeamRole{v1.TeamRoleAdmin, v1.TeamRoleDeveloper, v1.TeamRoleEditor, v1.TeamRoleViewer} {
		tm := f.team("probe", role, []string{"shop"}, members("x")...)
		tm.UID = "00000000-0000-0000-0000-000000000001"
		for _, suspended := range []bool{false, true} {
			if err := apply(tenancy.BuildTeamSiteBinding(tm, tenancy.SiteTarget(f.account, "shop", cfg), suspended, []v1.Subject{user("x")})); err != nil {
				t.Errorf("binding %s in %s (suspended=%v): %v", role, site, suspended, err)
			}
		}
		role := tenancy.BuildTeamSubscriptionRole(tm, f.account, []string{"shop"})
		role.OwnerReferences = nil
		if err := apply(role); err != nil {
			t.Errorf("the subscriptions Role: %v", err)
		}
		// The binding is checked against the Role's rules: the Role must
		// exist (the controller applies it first).
		u, err := kernel.ApplyForm(env.Scheme, role)
		must(t, err)
		must(t, env.Client.Patch(ctx, u, client.Apply, client.FieldOwner("test"), client.ForceOwnership))
		rb := tenancy.BuildTeamAccountBinding(tm, f.account, []v1.Subject{user("x")})
		rb.OwnerReferences = nil
		if err := apply(rb); err != nil {
			t.Errorf("the subscriptions RoleBinding: %v", err)
		}
	}
	// RBAC's escalation check still applies: a Role granting what the
	// manager lacks (impersonate) is refused.
	bad := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: "escalation"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"users"}, Verbs: []string{"impersonate"}}}}
	if err := mgr.Create(ctx, bad, client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("a Role with impersonate: want Forbidden, got %v", err)
	}
}
