package admission_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// account is an account namespace and one of its site namespaces (named and
// labelled as Landlord makes them; no manager runs here), and an Admin of the
// account bound in both as a Membership would bind it.
type account struct {
	name, accountNS, siteNS, sub string
	admin                        string
}

func (a account) as() client.Client { return env.As(a.admin) }

func newAccountNamespaces(t *testing.T, prefix string) account {
	t.Helper()
	a := account{name: testenv.Name(prefix), sub: "www"}
	a.accountNS, a.siteNS = "acct-"+a.name, "acct-"+a.name+"--"+a.sub
	a.admin = "adam@" + a.name + ".example"
	must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: a.accountNS,
		Labels: map[string]string{v1.AccountLabel: a.name}}}))
	must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: a.siteNS,
		Labels: map[string]string{v1.AccountLabel: a.name, v1.SubscriptionLabel: a.sub}}}))
	for _, ns := range []string{a.accountNS, a.siteNS} {
		must(t, env.Client.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "landlord-member-adam"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-tenant-admin"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: a.admin}},
		}))
	}
	return a
}

func user(name string) v1.Subject { return v1.Subject{Kind: v1.SubjectUser, Name: name} }

func mergePatch(c client.Client, obj client.Object, patch string, opts ...client.PatchOption) error {
	o := obj.DeepCopyObject().(client.Object)
	return c.Patch(ctx, o, client.RawPatch(types.MergePatchType, []byte(patch)), opts...)
}

// waitEnforced waits until probe (a dry-run request) is refused: a policy
// new to the API server may take a moment to be enforced.
func waitEnforced(t *testing.T, what string, probe func() error) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		if probe() == nil {
			return fmt.Errorf("the %s policy is not enforced yet", what)
		}
		return nil
	})
}

// A tenant (an Admin of the account) can neither remove Landlord's finalizer
// from a Membership, a Team or a CustomDomain, nor swap it for another, nor
// add a finalizer of its own, at creation or later; the provider can.
func TestFinalizersAreLandlords(t *testing.T) {
	a := newAccountNamespaces(t, "fin")
	tenant := a.as()
	const hold = "example.com/hold"
	const removeMsg = "only Landlord and the provider may remove the finalizer hosting.landlord.dev/finalizer"
	const addMsg = "finalizers on Landlord's kinds are Landlord's and the provider's"
	objects := func(prefix string) []client.Object {
		return []client.Object{
			&v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: a.accountNS, Name: testenv.Name(prefix)},
				Spec: v1.MembershipSpec{Subject: user("x@example.com"), Role: v1.RoleViewer}},
			&v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: a.accountNS, Name: testenv.Name(prefix)},
				Spec: v1.TeamSpec{Role: v1.TeamRoleViewer, Members: []v1.TeamMember{{Subject: user("y@example.com")}}}},
			&v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: a.siteNS, Name: testenv.Name(prefix)},
				Spec: v1.CustomDomainSpec{Hostname: testenv.Name(prefix) + ".example.com"}},
			&v1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: a.siteNS, Name: testenv.Name(prefix)},
				Spec: v1.DatabaseSpec{Name: "fin"}},
		}
	}
	waitEnforced(t, "finalizer", func() error {
		o := objects("probe")[0]
		o.SetFinalizers([]string{hold})
		return tenant.Create(ctx, o, client.DryRunAll)
	})
	for _, o := range objects("fin") {
		kind := fmt.Sprintf("%T", o)
		withHold := o.DeepCopyObject().(client.Object)
		withHold.SetFinalizers([]string{hold})
		refused(t, "tenant creates a "+kind+" with a finalizer", tenant.Create(ctx, withHold), addMsg)

		must(t, tenant.Create(ctx, o)) // Landlord's finalizer is put on by the mutating policy
		fins := fmt.Sprintf(`{"metadata":{"finalizers":[%q]}}`, v1.Finalizer)
		must(t, mergePatch(env.Client, o, fins)) // as Landlord would (clusters without the mutating policy)
		refused(t, "tenant removes Landlord's finalizer from a "+kind,
			mergePatch(tenant, o, `{"metadata":{"finalizers":null}}`), removeMsg)
		refused(t, "tenant swaps Landlord's finalizer on a "+kind+" for another",
			mergePatch(tenant, o, fmt.Sprintf(`{"metadata":{"finalizers":[%q]}}`, hold)), removeMsg)
		refused(t, "tenant adds a finalizer to a "+kind,
			mergePatch(tenant, o, fmt.Sprintf(`{"metadata":{"finalizers":[%q,%q]}}`, v1.Finalizer, hold)), addMsg)
		accepted(t, "tenant changes something else of a "+kind,
			mergePatch(tenant, o, `{"metadata":{"labels":{"tier":"gold"}}}`))
		accepted(t, "provider adds a finalizer to a "+kind,
			mergePatch(env.Client, o, fmt.Sprintf(`{"metadata":{"finalizers":[%q,%q]}}`, v1.Finalizer, hold)))
		refused(t, "tenant removes the provider's finalizer from a "+kind,
			mergePatch(tenant, o, fins), "only Landlord and the provider may remove the finalizer "+hold)
		accepted(t, "provider removes every finalizer of a "+kind, mergePatch(env.Client, o, `{"metadata":{"finalizers":null}}`))
		accepted(t, "tenant deletes a "+kind, tenant.Delete(ctx, o))
	}
}

// Memberships and Teams are refused in a site namespace, CustomDomains in an
// account namespace, for tenants and the provider alike, with the namespace
// they belong in; in their own namespaces they are admitted.
func TestLandlordKindsOnlyWhereTheyMeanSomething(t *testing.T) {
	a := newAccountNamespaces(t, "place")
	tenant := a.as()
	membership := func(ns string) *v1.Membership {
		return &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "richard"},
			Spec: v1.MembershipSpec{Subject: user("richard@example.com"), Role: v1.RoleViewer}}
	}
	team := func(ns string) *v1.Team {
		return &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "www-freelancers"},
			Spec: v1.TeamSpec{Role: v1.TeamRoleViewer, Sites: []string{a.sub}, Members: []v1.TeamMember{{Subject: user("f@example.com")}}}}
	}
	domain := func(ns string) *v1.CustomDomain {
		return &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
			Spec: v1.CustomDomainSpec{Hostname: "shop." + a.name + ".example.com"}}
	}
	waitEnforced(t, "placement", func() error { return env.Client.Create(ctx, domain(a.accountNS), client.DryRunAll) })
	inSite := "namespace " + a.siteNS + " is the site namespace of the Subscription www"
	for who, c := range map[string]client.Client{"tenant": tenant, "provider": env.Client} {
		refused(t, who+" creates a Membership in a site namespace", c.Create(ctx, membership(a.siteNS), client.DryRunAll),
			"Membership richard: "+inSite+", where a Membership grants nothing; create it in the account namespace of account "+a.name+" ("+a.accountNS+")")
		refused(t, who+" creates a Team in a site namespace", c.Create(ctx, team(a.siteNS), client.DryRunAll),
			"Team www-freelancers: "+inSite+", where a Team grants nothing; create it in the account namespace of account "+a.name+" ("+a.accountNS+"), with www in spec.sites")
		refused(t, who+" creates a CustomDomain in an account namespace", c.Create(ctx, domain(a.accountNS), client.DryRunAll),
			"CustomDomain shop: namespace "+a.accountNS+" is the account namespace of account "+a.name+
				", where a CustomDomain routes nothing; create it in the namespace of the site it is for, "+a.accountNS+"--<subscription>")
		accepted(t, who+" creates a Membership in the account namespace", c.Create(ctx, membership(a.accountNS), client.DryRunAll))
		accepted(t, who+" creates a Team in the account namespace", c.Create(ctx, team(a.accountNS), client.DryRunAll))
		accepted(t, who+" creates a CustomDomain in the site namespace", c.Create(ctx, domain(a.siteNS), client.DryRunAll))
	}
}

// A Team's members are people: a Group or a ServiceAccount member is
// refused, with what to do instead.
func TestTeamMembersAreUsers(t *testing.T) {
	a := newAccountNamespaces(t, "seats")
	for _, s := range []v1.Subject{{Kind: v1.SubjectGroup, Name: "contractors"}, {Kind: v1.SubjectServiceAccount, Namespace: a.siteNS, Name: "ci"}} {
		tm := &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: a.accountNS, Name: testenv.Name("team")},
			Spec: v1.TeamSpec{Role: v1.TeamRoleDeveloper, Sites: []string{a.sub}, Members: []v1.TeamMember{{Subject: user("u@example.com")}, {Subject: s}}}}
		for who, c := range map[string]client.Client{"tenant": a.as(), "provider": env.Client} {
			refused(t, who+" creates a Team with a "+string(s.Kind)+" member", c.Create(ctx, tm.DeepCopy(), client.DryRunAll),
				"a Team member is a person (kind User), who takes one seat in the sites of the team; "+string(s.Kind)+" "+s.Name+
					" is not: list its people as Users, or, to give a whole group access, ask the provider to create a Membership for the group")
		}
	}
	ok := &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: a.accountNS, Name: testenv.Name("team")},
		Spec: v1.TeamSpec{Role: v1.TeamRoleDeveloper, Members: []v1.TeamMember{{Subject: user("u@example.com")}}}}
	accepted(t, "tenant creates a Team of Users", a.as().Create(ctx, ok))
	refused(t, "tenant adds a Group to a Team", mergePatch(a.as(), ok,
		`{"spec":{"members":[{"subject":{"kind":"User","name":"u@example.com"}},{"subject":{"kind":"Group","name":"contractors"}}]}}`),
		"a Team member is a person (kind User)")
}

// An Admin may not change or remove the expiresAt of its own Membership (by
// its user name, or a group it is in), nor create one for itself, nor add
// itself to a Team or change its own expiry there; it may change another
// member's, and the provider may change anyone's.
func TestExpiryIsSetFromAbove(t *testing.T) {
	a := newAccountNamespaces(t, "expiry")
	tenant := env.As(a.admin, "agency")
	soon := metav1.NewTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	membership := func(name string, s v1.Subject) *v1.Membership {
		return &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: a.accountNS, Name: name},
			Spec: v1.MembershipSpec{Subject: s, Role: v1.RoleAdmin, ExpiresAt: &soon}}
	}
	own := membership("adam", user(a.admin))
	group := membership("agency", v1.Subject{Kind: v1.SubjectGroup, Name: "agency"})
	other := membership("bob", user("bob@example.com"))
	for _, m := range []*v1.Membership{own, group, other} {
		must(t, env.Client.Create(ctx, m)) // the provider may create anyone's
	}
	waitEnforced(t, "expiry", func() error { return mergePatch(tenant, own, `{"spec":{"expiresAt":null}}`, client.DryRunAll) })
	const mine = "names you (User " // + the user name
	refused(t, "Admin removes its own expiresAt", mergePatch(tenant, own, `{"spec":{"expiresAt":null}}`),
		"Membership adam "+mine+a.admin+"): you may not change or remove its expiresAt")
	refused(t, "Admin moves its own expiresAt", mergePatch(tenant, own, `{"spec":{"expiresAt":"2099-01-01T00:00:00Z"}}`),
		"you may not change or remove its expiresAt")
	refused(t, "Admin removes the expiresAt of its group's Membership", mergePatch(tenant, group, `{"spec":{"expiresAt":null}}`),
		"Membership agency names you (Group agency)")
	refused(t, "Admin creates a second Membership for itself", tenant.Create(ctx, membership("adam-forever", user(a.admin))),
		"you may not create a Membership for yourself")
	refused(t, "Admin makes another's Membership name itself", mergePatch(tenant, other, fmt.Sprintf(`{"spec":{"subject":{"name":%q}}}`, a.admin)),
		"subject is immutable")
	accepted(t, "Admin changes another member's expiresAt", mergePatch(tenant, other, `{"spec":{"expiresAt":"2031-01-01T00:00:00Z"}}`))
	accepted(t, "Admin changes its own role", mergePatch(tenant, own, `{"spec":{"role":"Developer"}}`))
	accepted(t, "provider changes the Admin's expiresAt", mergePatch(env.Client, own, `{"spec":{"expiresAt":"2031-01-01T00:00:00Z"}}`))

	tm := &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: a.accountNS, Name: "freelancers"},
		Spec: v1.TeamSpec{Role: v1.TeamRoleDeveloper, Sites: []string{a.sub}, Members: []v1.TeamMember{
			{Subject: user(a.admin), ExpiresAt: &soon}, {Subject: user("fay@example.com"), ExpiresAt: &soon}}}}
	refused(t, "Admin creates a Team listing itself", tenant.Create(ctx, tm.DeepCopy(), client.DryRunAll),
		"Team freelancers: spec.members lists you (User "+a.admin+")")
	must(t, env.Client.Create(ctx, tm))
	members := func(selfExpiry, otherExpiry string) string {
		return fmt.Sprintf(`{"spec":{"members":[{"subject":{"kind":"User","name":%q}%s},{"subject":{"kind":"User","name":"fay@example.com"}%s}]}}`,
			a.admin, selfExpiry, otherExpiry)
	}
	at := func(s string) string { return `,"expiresAt":"` + s + `"` }
	refused(t, "Admin removes its own expiresAt in a Team", mergePatch(tenant, tm, members("", at("2030-01-01T00:00:00Z"))),
		"you may not add yourself to a Team nor change or remove your own expiresAt")
	refused(t, "Admin moves its own expiresAt in a Team", mergePatch(tenant, tm, members(at("2099-01-01T00:00:00Z"), at("2030-01-01T00:00:00Z"))),
		"nor change or remove your own expiresAt")
	accepted(t, "Admin changes another member's expiresAt in a Team", mergePatch(tenant, tm, members(at("2030-01-01T00:00:00Z"), at("2031-01-01T00:00:00Z"))))
	accepted(t, "Admin removes itself from a Team", mergePatch(tenant, tm,
		`{"spec":{"members":[{"subject":{"kind":"User","name":"fay@example.com"},"expiresAt":"2031-01-01T00:00:00Z"}]}}`))
	accepted(t, "Admin deletes its own Membership", tenant.Delete(ctx, own))
}
