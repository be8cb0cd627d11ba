package team_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

const hosting = "hosting.landlord.dev"

// siteAccess is one request in a team's site namespace and the team roles
// allowed it (the Membership roles of the same name, config/rbac/tenant).
var siteAccess = []struct {
	verb, group, resource, sub string
	allowed                    string
}{
	{"list", "", "pods", "", "Admin Developer Editor"},
	{"create", "apps", "deployments", "", "Admin Developer"},
	{"get", "", "pods", "log", "Admin Developer Editor"},
	{"create", "", "pods", "exec", "Admin Developer"},
	{"get", "", "secrets", "", "Admin Developer"},
	{"list", "", "secrets", "", "Admin Developer"},
	{"list", hosting, "customdomains", "", "Admin Developer Editor Viewer"},
	{"create", hosting, "customdomains", "", "Admin Developer"},
	{"create", "rbac.authorization.k8s.io", "rolebindings", "", ""},
	{"create", "", "resourcequotas", "", ""},
}

// TestTeamAccessMatrix: for each site-level role, a Team member has the
// role in the team's site namespace and nothing in another site's; in the
// account namespace they get their own Subscription and nothing else: not
// the other Subscriptions, not the list, not Memberships or Teams, not
// secrets. Every answer comes from the API server, asked as the member
// (impersonation).
func TestTeamAccessMatrix(t *testing.T) {
	f := newAccount(t, 5)
	mine := f.site(t, "shop")
	other := f.site(t, "blog")
	for _, role := range []v1.TeamRole{v1.TeamRoleAdmin, v1.TeamRoleDeveloper, v1.TeamRoleEditor, v1.TeamRoleViewer} {
		t.Run(string(role), func(t *testing.T) {
			who := strings.ToLower(string(role)) + "@freelance.example"
			tm := f.team(strings.ToLower(string(role)), role, []string{"shop"}, members(who)...)
			must(t, env.Client.Create(ctx, tm))
			waitTeam(t, tm, ready("True", v1.ReasonReconciled))

			for _, a := range siteAccess {
				want := strings.Contains(" "+a.allowed+" ", " "+string(role)+" ")
				if got := can(t, who, a.verb, a.group, a.resource, a.sub, mine, ""); got != want {
					t.Errorf("%s in its site: %s %s/%s: allowed=%v, want %v", role, a.verb, a.resource, a.sub, got, want)
				}
				if can(t, who, a.verb, a.group, a.resource, a.sub, other, "") {
					t.Errorf("%s in another site: %s %s/%s allowed", role, a.verb, a.resource, a.sub)
				}
			}

			// The account namespace, with real requests as the member.
			as := env.As(who)
			if err := as.Get(ctx, client.ObjectKey{Namespace: f.namespace, Name: "shop"}, &v1.Subscription{}); err != nil {
				t.Errorf("%s: get its own Subscription: %v", role, err)
			}
			forbidden := map[string]error{
				"get another Subscription": as.Get(ctx, client.ObjectKey{Namespace: f.namespace, Name: "blog"}, &v1.Subscription{}),
				"list Subscriptions":       as.List(ctx, &v1.SubscriptionList{}, client.InNamespace(f.namespace)),
				"list Memberships":         as.List(ctx, &v1.MembershipList{}, client.InNamespace(f.namespace)),
				"get a Team":               as.Get(ctx, client.ObjectKeyFromObject(tm), &v1.Team{}),
				"list Teams":               as.List(ctx, &v1.TeamList{}, client.InNamespace(f.namespace)),
			}
			for what, err := range forbidden {
				if !apierrors.IsForbidden(err) {
					t.Errorf("%s: %s: want Forbidden, got %v", role, what, err)
				}
			}
			for _, a := range []struct{ verb, group, resource string }{
				{"get", hosting, "memberships"}, {"create", hosting, "teams"}, {"list", "", "secrets"},
				{"watch", hosting, "subscriptions"}, {"update", hosting, "subscriptions"}, {"list", hosting, "customdomains"},
			} {
				if can(t, who, a.verb, a.group, a.resource, "", f.namespace, "") {
					t.Errorf("%s: %s %s in the account namespace allowed", role, a.verb, a.resource)
				}
			}
		})
	}
}

// TestAdminManagesTeamsUpToAdmin: an account Admin (a Membership) creates a
// Team with the Admin role, but not an Owner-level one (the CRD's enum of
// site roles refuses it, for anyone); a Developer member cannot create Teams
// at all.
func TestAdminManagesTeamsUpToAdmin(t *testing.T) {
	f := newAccount(t, 5)
	f.site(t, "shop")
	for _, m := range []*v1.Membership{
		{ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: "admin"}, Spec: v1.MembershipSpec{Subject: user("admin@" + f.account), Role: v1.RoleAdmin}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: "dev"}, Spec: v1.MembershipSpec{Subject: user("dev@" + f.account), Role: v1.RoleDeveloper}},
	} {
		must(t, env.Client.Create(ctx, m))
	}
	testenv.Eventually(t, timeout, func() error {
		if !can(t, "admin@"+f.account, "create", hosting, "teams", "", f.namespace, "") {
			return errString("the admin cannot create teams yet")
		}
		return nil
	})
	admin := env.As("admin@" + f.account)

	ok := f.team("web", v1.TeamRoleAdmin, []string{"shop"}, members("x@freelance.example")...)
	if err := admin.Create(ctx, ok); err != nil {
		t.Fatalf("an Admin creating an Admin team: %v", err)
	}
	for _, role := range []string{"Owner", "Billing"} {
		bad := f.team("owners-"+strings.ToLower(role), v1.TeamRole(role), []string{"shop"}, members("y@freelance.example")...)
		err := admin.Create(ctx, bad)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.role") {
			t.Errorf("an Admin creating a %s team: want Invalid on spec.role, got %v", role, err)
		}
		if err := env.Client.Create(ctx, bad, client.DryRunAll); !apierrors.IsInvalid(err) {
			t.Errorf("the provider creating a %s team: want Invalid, got %v", role, err)
		}
	}
	// Raising an existing team is refused the same way (retried while
	// Landlord's own writes, finalizer and status, move the object on).
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &v1.Team{}
		if err := admin.Get(ctx, client.ObjectKeyFromObject(ok), cur); err != nil {
			return err
		}
		cur.Spec.Role = "Owner"
		return admin.Update(ctx, cur)
	})
	if !apierrors.IsInvalid(err) {
		t.Errorf("an Admin raising a team to Owner: want Invalid, got %v", err)
	}
	dev := f.team("devs", v1.TeamRoleViewer, []string{"shop"}, members("z@freelance.example")...)
	if err := env.As("dev@"+f.account).Create(ctx, dev); !apierrors.IsForbidden(err) {
		t.Errorf("a Developer creating a team: want Forbidden, got %v", err)
	}
	if !can(t, "dev@"+f.account, "list", hosting, "teams", "", f.namespace, "") {
		t.Errorf("a Developer cannot read the account's teams")
	}
}

type errString string

func (e errString) Error() string { return string(e) }
