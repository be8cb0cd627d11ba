package membership

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func mb(name, subject string, age time.Duration, mut ...func(*v1.Membership)) v1.Membership {
	m := v1.Membership{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(t0.Add(-age))},
		Spec:       v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: subject}, Role: v1.RoleViewer},
	}
	for _, f := range mut {
		f(&m)
	}
	return m
}

func expiresIn(d time.Duration) func(*v1.Membership) {
	return func(m *v1.Membership) { m.Spec.ExpiresAt = &metav1.Time{Time: t0.Add(d)} }
}

func TestDuplicateOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    v1.Membership
		all  []v1.Membership
		want string
	}{
		{"alone", mb("a", "sam", time.Hour), nil, ""},
		{"other subject", mb("a", "sam", time.Hour), []v1.Membership{mb("b", "kim", 2*time.Hour)}, ""},
		{"younger duplicate", mb("b", "sam", time.Hour), []v1.Membership{mb("a", "sam", 2*time.Hour)}, "a"},
		{"older is the original", mb("a", "sam", 2*time.Hour), []v1.Membership{mb("b", "sam", time.Hour)}, ""},
		{"oldest of several", mb("c", "sam", time.Hour), []v1.Membership{mb("b", "sam", 2*time.Hour), mb("a", "sam", 3*time.Hour)}, "a"},
		{"same age: name decides", mb("b", "sam", time.Hour), []v1.Membership{mb("a", "sam", time.Hour)}, "a"},
		{"expired older one does not count", mb("b", "sam", time.Hour), []v1.Membership{mb("a", "sam", 2*time.Hour, expiresIn(0))}, ""},
		{"deleted older one does not count", mb("b", "sam", time.Hour), []v1.Membership{mb("a", "sam", 2*time.Hour, func(m *v1.Membership) {
			m.DeletionTimestamp = &metav1.Time{Time: t0}
		})}, ""},
		{"group and user of one name differ", mb("b", "sam", time.Hour), []v1.Membership{mb("a", "sam", 2*time.Hour, func(m *v1.Membership) {
			m.Spec.Subject.Kind = v1.SubjectGroup
		})}, ""},
		{"itself in the list", mb("a", "sam", time.Hour), []v1.Membership{mb("a", "sam", time.Hour)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := duplicateOf(&tc.m, tc.all, t0)
			if (got == nil) != (tc.want == "") || (got != nil && got.Name != tc.want) {
				t.Errorf("duplicateOf = %v, want %q", got, tc.want)
			}
		})
	}
}

func TestNextDeadline(t *testing.T) {
	older := mb("a", "sam", 2*time.Hour, expiresIn(time.Hour))
	for _, tc := range []struct {
		name string
		s    scope
		want time.Duration
	}{
		{"no expiry", scope{membership: ptr(mb("m", "sam", 0))}, 0},
		{"own expiry", scope{membership: ptr(mb("m", "sam", 0, expiresIn(2*time.Hour)))}, 2 * time.Hour},
		{"already expired", scope{membership: ptr(mb("m", "sam", 0, expiresIn(-time.Minute)))}, 0},
		{"the older duplicate's expiry first", scope{membership: ptr(mb("m", "sam", 0, expiresIn(2*time.Hour))), duplicateOf: &older}, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextDeadline(&tc.s, t0); got != tc.want {
				t.Errorf("nextDeadline = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	acct := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	suspended := acct.DeepCopy()
	suspended.Spec.Suspension = &v1.Suspension{Reason: v1.SuspensionNonPayment}
	dup := mb("a", "sam", time.Hour)
	for _, tc := range []struct {
		name   string
		s      scope
		ready  bool
		reason string
		phase  v1.MembershipPhase
	}{
		{"bound", scope{account: acct, boundTo: "landlord-tenant-viewer"}, true, v1.ReasonReconciled, v1.MembershipActive},
		{"no account", scope{}, false, v1.ReasonNoAccount, v1.MembershipActive},
		{"expired", scope{account: acct, expired: true}, false, v1.ReasonExpired, v1.MembershipExpired},
		{"duplicate", scope{account: acct, duplicateOf: &dup}, false, v1.ReasonDuplicateSubject, v1.MembershipActive},
		{"suspended", scope{account: suspended, boundTo: "landlord-tenant-suspended"}, false, v1.ReasonAccountSuspended, v1.MembershipActive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mb("m", "sam", 0, expiresIn(-time.Hour))
			m.Generation = 3
			tc.s.membership = &m
			setStatus(&tc.s)
			c := m.Status.Conditions[0]
			if (c.Status == metav1.ConditionTrue) != tc.ready || c.Reason != tc.reason || m.Status.Phase != tc.phase ||
				c.ObservedGeneration != 3 {
				t.Errorf("status %+v", m.Status)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestSiteTargets(t *testing.T) {
	cfg := platform.Default()
	ns := func(name string, labels map[string]string, mut ...func(*corev1.Namespace)) corev1.Namespace {
		n := corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
		for _, f := range mut {
			f(&n)
		}
		return n
	}
	site := func(account, sub string) map[string]string {
		return map[string]string{v1.AccountLabel: account, v1.SubscriptionLabel: sub}
	}
	now := metav1.NewTime(t0)
	all := []corev1.Namespace{
		ns("acct-acme--shop", site("acme", "shop")),
		ns("acct-acme--blog", site("acme", "blog")),
		ns("acct-acme", map[string]string{v1.AccountLabel: "acme"}),                                         // the account namespace
		ns("acct-other--blog", site("other", "blog")),                                                       // another account's site
		ns("acct-acme--wiki", site("acme", "other-name")),                                                   // name is not the site's
		ns("impostor", site("acme", "impostor")),                                                            // labelled by hand
		ns("acct-acme--old", site("acme", "old"), func(n *corev1.Namespace) { n.DeletionTimestamp = &now }), // terminating
		ns("acct-acme--gone", site("acme", "gone"), func(n *corev1.Namespace) { n.Status.Phase = corev1.NamespaceTerminating }),
		ns("acct-acme--nosub", map[string]string{v1.AccountLabel: "acme"}), // no subscription label
	}
	var got []string
	for _, target := range siteTargets(cfg, "acme", all) {
		got = append(got, target.Namespace+"/"+target.Labels[v1.SubscriptionLabel])
	}
	if want := []string{"acct-acme--blog/blog", "acct-acme--shop/shop"}; !slices.Equal(got, want) {
		t.Errorf("site namespaces %v, want %v", got, want)
	}
	if got := siteTargets(cfg, "nobody", all); len(got) != 0 {
		t.Errorf("an account without sites has %v", got)
	}
}

func TestBindingsOf(t *testing.T) {
	cfg := platform.Default()
	rb := func(ns, account, value string) rbacv1.RoleBinding {
		return rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "landlord-member-bob",
			Labels: map[string]string{v1.AccountLabel: account, v1.MembershipLabel: value}}}
	}
	all := []rbacv1.RoleBinding{
		rb("acct-acme", "acme", "bob"),
		rb("acct-acme--shop", "acme", "bob"),
		rb("acct-other--shop", "other", "bob"), // the other account's membership bob
		rb("acct-acme--shop", "acme", "kim"),
		rb("acct-acme--blog", "", "bob"),
	}
	var got []string
	for _, b := range bindingsOf(cfg, "acct-acme", "bob", all) {
		got = append(got, b.Namespace)
	}
	if want := []string{"acct-acme", "acct-acme--shop"}; !slices.Equal(got, want) {
		t.Errorf("bindings in %v, want %v", got, want)
	}
}

func TestReadinessNamesTheScope(t *testing.T) {
	m := mb("bob", "bob@example.com", time.Hour)
	s := &scope{membership: &m, account: &v1.Account{}, boundTo: "landlord-tenant-viewer"}
	s.account.Name = "acme"
	if ok, _, msg := readiness(s); !ok || !strings.Contains(msg, "in the account namespace and every site namespace of the account") {
		t.Errorf("ready=%v %q", ok, msg)
	}
	s.account.Spec.Suspension = &v1.Suspension{Reason: v1.SuspensionNonPayment}
	if _, _, msg := readiness(s); !strings.Contains(msg, "read-only role landlord-tenant-viewer, in the account namespace and every site namespace") {
		t.Errorf("%q", msg)
	}
}
