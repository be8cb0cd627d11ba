package tenancy_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// A team member (given the Admin role on the site through a Team) and the
// provider's support staff (through a Support Membership, the customer's
// consent) are held to every forbidden change as the account's own roles
// are: the team Admin by the same admission refusals as an Admin, support
// (read, logs and exec only) by RBAC.
func TestTeamMemberAndSupportAreHeldToo(t *testing.T) {
	acme, _ := world(t)
	const teamAdmin = "agency-admin@agency.test"
	must(t, env.Client.Create(ctx, &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: acme.accountNS, Name: "agency"},
		Spec: v1.TeamSpec{Role: v1.TeamRoleAdmin, Sites: []string{acme.sub},
			Members: []v1.TeamMember{{Subject: v1.Subject{Kind: v1.SubjectUser, Name: teamAdmin}}}}}))
	must(t, env.Client.Create(ctx, &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: acme.accountNS, Name: "support"},
		Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectGroup, Name: cfg.SupportGroup}, Role: v1.RoleSupport,
			ExpiresAt: &metav1.Time{Time: testenv.ManagerEpoch.Add(24 * time.Hour)}}}))
	testenv.Eventually(t, wait, func() error {
		for key, role := range map[client.ObjectKey]string{
			{Namespace: acme.siteNS, Name: tenancy.TeamObjectName("agency")}:          tenancy.ClusterRoleName(v1.RoleAdmin),
			{Namespace: acme.siteNS, Name: platform.MembershipBindingName("support")}: tenancy.ClusterRoleName(v1.RoleSupport),
		} {
			rb := &rbacv1.RoleBinding{}
			if err := env.Client.Get(ctx, key, rb); err != nil {
				return err
			}
			if rb.RoleRef.Name != role {
				return fmt.Errorf("%s binds %s, want %s", key, rb.RoleRef.Name, role)
			}
		}
		return nil
	})
	for who, c := range map[string]struct {
		client     client.Client
		rbacAllows func(v1.MembershipRole) bool
	}{
		"team Admin": {env.As(teamAdmin), func(v1.MembershipRole) bool { return true }},
		"support":    {env.As("agent@provider.test", cfg.SupportGroup), nobody},
	} {
		for _, f := range forbiddenThings {
			if strings.Contains(f.name, "account namespace") {
				continue // neither reaches the account namespace's objects
			}
			t.Run(who+"/"+f.benchmark+" "+f.name, func(t *testing.T) {
				err := f.do(c.client, acme)
				if err != nil && strings.HasPrefix(err.Error(), "setup:") {
					t.Fatal(err)
				}
				// What an Admin's RBAC lets through, the team Admin's does too.
				checkRefused(t, err, c.rbacAllows(v1.RoleAdmin) && f.rbacAllows(v1.RoleAdmin), f.msg, f.benchmark)
			})
		}
	}
}
