package team_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	cfg = platform.Default()
	ctx = context.Background()
)

const timeout = 45 * time.Second

var operatorNS sync.Once

// The real manager with the controllers a Team needs: Accounts (the account
// namespace), Subscriptions (the site namespaces, usage.seats), Memberships
// (the Admin who manages teams, support access) and Teams, with the
// production worker count (manager.DefaultWorkers).
func TestMain(m *testing.M) {
	testenv.Main(m, &env, testenv.Options{Manager: &cfg, Controllers: []string{
		manager.AccountController, manager.SubscriptionController, manager.MembershipController, manager.TeamController}})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func q(s string) *resource.Quantity { return ptr.To(resource.MustParse(s)) }

// fixture is an account with a plan, a template and sites.
type fixture struct {
	account, namespace, plan, template string
	sites                              []string
}

// newAccount creates an account owned by "owner@<name>.example", waits for
// its namespace, and creates a plan with seats and a template.
func newAccount(t *testing.T, seats int32, mod ...func(*v1.PlanSpec)) *fixture {
	t.Helper()
	operatorNS.Do(func() {
		must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.OperatorNamespace}}))
	})
	a := &v1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("tm")},
		Spec:       v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "placeholder"}, DeletionProtection: ptr.To(false)},
	}
	a.Spec.Owner.Name = "owner@" + a.Name + ".example"
	must(t, env.Client.Create(ctx, a))
	t.Cleanup(func() { _ = env.Client.Delete(ctx, a) })
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(a), a); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(a.Status.Conditions, v1.ConditionReady) {
			return fmt.Errorf("account not ready: %+v", a.Status.Conditions)
		}
		return nil
	})
	p := &v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("plan")}, Spec: v1.PlanSpec{
		Limits: v1.Limits{Storage: q("1Gi"), CPU: q("500m"), Memory: q("256Mi"), Seats: ptr.To(seats)},
		AddOns: []v1.PlanAddOn{{Name: "extra-seat", Limits: v1.Limits{Seats: ptr.To[int32](1)}}},
	}}
	for _, m := range mod {
		m(&p.Spec)
	}
	must(t, env.Client.Create(ctx, p))
	t.Cleanup(func() { _ = env.Client.Delete(ctx, p) })
	st := &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("tmpl")}, Spec: v1.SiteTemplateSpec{
		Image: "example.com/site:1", Port: 8080, DataPath: "/srv", ReadinessPath: "/"}}
	must(t, env.Client.Create(ctx, st))
	t.Cleanup(func() { _ = env.Client.Delete(ctx, st) })
	return &fixture{account: a.Name, namespace: a.Status.Namespace, plan: p.Name, template: st.Name}
}

// site creates a Subscription and waits for its site namespace.
func (f *fixture) site(t *testing.T, name string) string {
	t.Helper()
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: name}, Spec: v1.SubscriptionSpec{
		Plan: f.plan, Site: v1.SiteSpec{Template: f.template}, DeletionProtection: ptr.To(false),
		PaidThrough: &metav1.Time{Time: testenv.ManagerEpoch.Add(365 * 24 * time.Hour)}}}
	must(t, env.Client.Create(ctx, sub))
	ns := cfg.SiteNamespace(f.account, name)
	testenv.Eventually(t, timeout, func() error {
		return env.Client.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
	})
	f.sites = append(f.sites, name)
	return ns
}

func user(name string) v1.Subject { return v1.Subject{Kind: v1.SubjectUser, Name: name} }

func members(names ...string) []v1.TeamMember {
	var out []v1.TeamMember
	for _, n := range names {
		out = append(out, v1.TeamMember{Subject: user(n)})
	}
	return out
}

func (f *fixture) team(name string, role v1.TeamRole, sites []string, ms ...v1.TeamMember) *v1.Team {
	return &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: f.namespace, Name: name},
		Spec: v1.TeamSpec{Role: role, Sites: sites, Members: ms}}
}

// waitTeam waits until the team's status describes its generation and check
// passes, and returns the team as it then is.
func waitTeam(t *testing.T, tm *v1.Team, check func(*v1.Team) error) *v1.Team {
	t.Helper()
	got := &v1.Team{}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(tm), got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
		if c == nil || got.Status.ObservedGeneration != got.Generation || c.ObservedGeneration != got.Generation {
			return fmt.Errorf("team %s not reconciled: %+v", tm.Name, got.Status)
		}
		return check(got)
	})
	return got
}

// ready checks the team's Ready condition's status and reason.
func ready(status metav1.ConditionStatus, reason string) func(*v1.Team) error {
	return func(t *v1.Team) error {
		c := meta.FindStatusCondition(t.Status.Conditions, v1.ConditionReady)
		if c.Status != status || c.Reason != reason {
			return fmt.Errorf("team %s Ready=%s/%s (%s), want %s/%s", t.Name, c.Status, c.Reason, c.Message, status, reason)
		}
		return nil
	}
}

// memberState is the state of subject name in the team's status ("" if absent).
func memberState(t *v1.Team, name string) (v1.TeamMemberState, string) {
	for _, m := range t.Status.Members {
		if m.Subject.Name == name {
			return m.State, m.Reason
		}
	}
	return "", ""
}

// states checks each named member's state.
func states(want map[string]v1.TeamMemberState) func(*v1.Team) error {
	return func(t *v1.Team) error {
		for name, st := range want {
			if got, reason := memberState(t, name); got != st {
				return fmt.Errorf("team %s member %s: %s (%s), want %s; status %+v", t.Name, name, got, reason, st, t.Status.Members)
			}
		}
		return nil
	}
}

// updateTeam changes a team's spec, retrying conflicts.
func updateTeam(t *testing.T, tm *v1.Team, change func(*v1.Team)) {
	t.Helper()
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &v1.Team{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(tm), cur); err != nil {
			return err
		}
		change(cur)
		return env.Client.Update(ctx, cur)
	}))
}

// boundInSite are the distinct subjects named by the team bindings of a
// site namespace, sorted.
func boundInSite(t *testing.T, ns string) []string {
	t.Helper()
	list := &rbacv1.RoleBindingList{}
	must(t, env.Client.List(ctx, list, client.InNamespace(ns), client.HasLabels{v1.TeamLabel}))
	var out []string
	for _, rb := range list.Items {
		for _, s := range rb.Subjects {
			out = append(out, s.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// seatHolders are the holders of the seats of a site.
func seatHolders(t *testing.T, f *fixture, site string) []string {
	t.Helper()
	list := &coordinationv1.LeaseList{}
	must(t, env.Client.List(ctx, list, client.InNamespace(f.namespace), client.MatchingLabels{v1.SeatLabel: site}))
	var out []string
	for _, l := range list.Items {
		out = append(out, *l.Spec.HolderIdentity)
	}
	slices.Sort(out)
	return out
}

// can asks the API server, as user, whether user may do verb on resource
// (group/resource[/subresource]) named name in ns: a SelfSubjectAccessReview
// made through impersonation.
func can(t *testing.T, user, verb, group, resource, sub, ns, name string) bool {
	t.Helper()
	return canNamed(t, env.As(user), verb, group, resource, sub, ns, name)
}

func canWith(t *testing.T, c client.Client, verb, group, resource, sub, ns string) bool {
	t.Helper()
	return canNamed(t, c, verb, group, resource, sub, ns, "")
}

func canNamed(t *testing.T, c client.Client, verb, group, resource, sub, ns, name string) bool {
	t.Helper()
	r := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource, Subresource: sub, Name: name}}}
	must(t, c.Create(ctx, r))
	return r.Status.Allowed
}

var _ = tenancy.SubjectKey
