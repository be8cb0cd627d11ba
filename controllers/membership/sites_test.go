package membership_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var catalogueOnce sync.Once

// Plan and SiteTemplate of the subscriptions these tests create.
const (
	sitePlan     = "membership-test-plan"
	siteTemplate = "membership-test-site"
)

// catalogue creates, once per test binary, what a Subscription needs to get
// its site namespace: the operator namespace, a Plan and a SiteTemplate.
func catalogue(t *testing.T) {
	t.Helper()
	catalogueOnce.Do(func() {
		q := func(s string) *resource.Quantity { return ptr.To(resource.MustParse(s)) }
		for _, o := range []client.Object{
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.OperatorNamespace}},
			&v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: sitePlan},
				Spec: v1.PlanSpec{Limits: v1.Limits{Storage: q("1Gi"), CPU: q("1"), Memory: q("1Gi")}}},
			&v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: siteTemplate},
				Spec: v1.SiteTemplateSpec{Image: "nginx", Port: 8080, DataPath: "/srv", ReadinessPath: "/"}},
		} {
			if err := env.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
			}
		}
	})
}

// newSubscription sells account (namespace ns) the site sub and returns its
// site namespace once the subscription controller reports it
// (status.site.namespace) and it exists.
func newSubscription(t *testing.T, account, ns, sub string) string {
	t.Helper()
	catalogue(t)
	paid := metav1.NewTime(env.Manager.Clock.Now().Add(30 * 24 * time.Hour))
	s := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sub},
		Spec: v1.SubscriptionSpec{Plan: sitePlan, Site: v1.SiteSpec{Template: siteTemplate}, PaidThrough: &paid,
			DeletionProtection: ptr.To(false)}}
	if err := env.Client.Create(ctx, s); err != nil {
		t.Fatalf("creating subscription %s: %v", sub, err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, s) })
	want := cfg.SiteNamespace(account, sub)
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(s), s); err != nil {
			return err
		}
		if s.Status.Site.Namespace != want {
			return fmt.Errorf("subscription %s: status.site %+v, want namespace %s", sub, s.Status.Site, want)
		}
		return env.Client.Get(ctx, client.ObjectKey{Name: want}, &corev1.Namespace{})
	})
	return want
}

// newSite creates the site namespace of account's subscription sub as the
// subscription controller does (issue 11's contract: name, labels, Pod
// Security, owned by the Account), and returns its name. A pre-existing
// namespace with these labels is what Landlord adopts.
func newSite(t *testing.T, account, sub string) string {
	t.Helper()
	acct := &v1.Account{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: account}, acct); err != nil {
		t.Fatal(err)
	}
	labels := platform.SiteLabels(account, sub)
	for _, k := range []string{tenancy.PodSecurityEnforce, tenancy.PodSecurityAudit, tenancy.PodSecurityWarn} {
		labels[k] = tenancy.PodSecurityLevel
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   cfg.SiteNamespace(account, sub),
		Labels: labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: v1.GroupVersion.String(), Kind: "Account",
			Name: acct.Name, UID: acct.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
	}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating site namespace: %v", err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, ns) })
	return ns.Name
}

// bindingIn returns m's RoleBinding in namespace ns, or nil if there is none.
func bindingIn(t *testing.T, m *v1.Membership, ns string) *rbacv1.RoleBinding {
	t.Helper()
	rb := &rbacv1.RoleBinding{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: platform.MembershipBindingName(m.Name)}, rb); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		t.Fatal(err)
	}
	return rb
}

// waitBound waits until m is bound to role in every namespace of nss.
func waitBound(t *testing.T, m *v1.Membership, role string, nss ...string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		for _, ns := range nss {
			if rb := bindingIn(t, m, ns); rb == nil || rb.RoleRef.Name != role {
				return fmt.Errorf("binding in %s: %+v, want role %s", ns, rb, role)
			}
		}
		return nil
	})
}

// waitUnbound waits until m has no binding in any namespace of nss.
func waitUnbound(t *testing.T, m *v1.Membership, nss ...string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		for _, ns := range nss {
			if bindingIn(t, m, ns) != nil {
				return fmt.Errorf("a binding of %s remains in %s", m.Name, ns)
			}
		}
		return nil
	})
}

// A Membership is bound in the account namespace and in every site
// namespace of the account (labelled, not owned: the Membership is in
// another namespace); a new site is bound at once; a namespace that only
// poses as a site, or another account's site, is not.
func TestMembershipReachesEverySite(t *testing.T) {
	acct, ns := newAccount(t, "sites")
	shop, blog := newSubscription(t, acct, ns, "shop"), newSubscription(t, acct, ns, "blog")
	other, _ := newAccount(t, "other")
	otherSite := newSite(t, other, "shop")
	impostor := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("impostor"),
		Labels: platform.SiteLabels(acct, "impostor")}}
	if err := env.Client.Create(ctx, impostor); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, impostor) })

	m := create(t, membership(ns, "dev@sites.example", v1.RoleDeveloper))
	got := waitCondition(t, m, metav1.ConditionTrue, v1.ReasonReconciled)
	if msg := got.Status.Conditions[0].Message; !strings.Contains(msg, "in the account namespace and every site namespace") {
		t.Errorf("Ready message %q", msg)
	}
	for _, site := range []string{shop, blog} {
		rb := bindingIn(t, got, site)
		if rb == nil {
			t.Fatalf("no binding in site namespace %s", site)
		}
		if rb.RoleRef.Name != "landlord-tenant-developer" || len(rb.Subjects) != 1 || rb.Subjects[0].Name != "dev@sites.example" {
			t.Errorf("binding in %s: %+v", site, rb)
		}
		if rb.Labels[v1.AccountLabel] != acct || rb.Labels[v1.ManagedByLabel] != "landlord" || rb.Labels[v1.MembershipLabel] != m.Name ||
			site != cfg.SiteNamespace(acct, rb.Labels[v1.SubscriptionLabel]) {
			t.Errorf("binding labels in %s: %v", site, rb.Labels)
		}
		if len(rb.OwnerReferences) != 0 {
			t.Errorf("binding in %s has owner references %+v", site, rb.OwnerReferences)
		}
		if err := env.As("dev@sites.example").List(ctx, &corev1.SecretList{}, client.InNamespace(site)); err != nil {
			t.Errorf("the developer cannot list secrets in site namespace %s: %v", site, err)
		}
	}
	if rb := bindingIn(t, got, ns); rb == nil || !metav1.IsControlledBy(rb, got) || rb.Labels[v1.MembershipLabel] != m.Name {
		t.Errorf("account namespace binding %+v", rb)
	}
	for _, notMine := range []string{otherSite, impostor.Name} {
		if bindingIn(t, got, notMine) != nil {
			t.Errorf("bound in %s, which is no site of account %s", notMine, acct)
		}
	}

	// A new site is reached at once (a namespace watch, no periodic resync).
	wiki := newSubscription(t, acct, ns, "wiki")
	start := time.Now()
	waitBound(t, m, "landlord-tenant-developer", wiki)
	t.Logf("a new site namespace was bound %s after the subscription reported it", time.Since(start).Round(time.Millisecond))
	// A namespace made beforehand with Landlord's labels for a site is one too (adoption).
	adopted := newSite(t, acct, "adopted")
	waitBound(t, m, "landlord-tenant-developer", adopted)
	if err := env.As("dev@sites.example").List(ctx, &corev1.PodList{}, client.InNamespace(wiki)); err != nil {
		t.Errorf("the developer cannot list pods in the new site: %v", err)
	}

	// A removed site leaves nothing: deleting its Subscription removes its
	// namespace (the subscription controller), and the bindings there go.
	for _, gone := range []client.Object{
		&v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wiki"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: adopted}},
	} {
		if err := env.Client.Delete(ctx, gone); err != nil {
			t.Fatal(err)
		}
	}
	waitUnbound(t, m, wiki, adopted)
	waitBound(t, m, "landlord-tenant-developer", shop, blog)
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: wiki}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("the deleted site's namespace %s is still there (err=%v)", wiki, err)
		}
		return nil
	})
}

// Deleting a Membership removes its bindings in the account namespace and
// in every site namespace (a finalizer), and no other membership's.
func TestDeletingMembershipRemovesEverySiteBinding(t *testing.T) {
	acct, ns := newAccount(t, "sdel")
	sites := []string{newSubscription(t, acct, ns, "shop"), newSubscription(t, acct, ns, "blog")}
	all := append([]string{ns}, sites...)
	gone := create(t, membership(ns, "a@sdel.example", v1.RoleEditor))
	kept := create(t, membership(ns, "b@sdel.example", v1.RoleEditor))
	waitBound(t, gone, "landlord-tenant-editor", all...)
	waitBound(t, kept, "landlord-tenant-editor", all...)
	got := &v1.Membership{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(gone), got); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(got.Finalizers, " "), v1.Finalizer) {
		t.Errorf("finalizers %v, want %s", got.Finalizers, v1.Finalizer)
	}

	if err := env.Client.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(gone), &v1.Membership{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("the membership is still there (err=%v)", err)
		}
		return nil
	})
	// The finalizer ran before the Membership went: no binding is left in a
	// site namespace, where no garbage collector would ever remove it.
	for _, site := range sites {
		if bindingIn(t, gone, site) != nil {
			t.Errorf("the deleted membership's binding remains in %s", site)
		}
	}
	waitUnbound(t, gone, ns)
	for _, n := range all {
		if bindingIn(t, kept, n) == nil {
			t.Errorf("the other membership's binding in %s was removed", n)
		}
	}
	testenv.Eventually(t, timeout, func() error {
		if err := env.As("a@sdel.example").List(ctx, &corev1.ConfigMapList{}, client.InNamespace(sites[0])); !apierrors.IsForbidden(err) {
			return fmt.Errorf("the removed member still lists configmaps in a site (err=%v)", err)
		}
		return nil
	})
}

// A binding removed or changed by hand in a site namespace is restored.
func TestSiteBindingIsRestored(t *testing.T) {
	acct, ns := newAccount(t, "srest")
	site := newSite(t, acct, "shop")
	m := create(t, membership(ns, "v@srest.example", v1.RoleViewer))
	waitBound(t, m, "landlord-tenant-viewer", ns, site)
	if err := env.Client.Delete(ctx, bindingIn(t, m, site)); err != nil {
		t.Fatal(err)
	}
	waitBound(t, m, "landlord-tenant-viewer", site)
}

// An expired membership loses its bindings in every namespace at expiresAt.
func TestExpiredMembershipLosesEverySite(t *testing.T) {
	acct, ns := newAccount(t, "sexp")
	sites := []string{newSubscription(t, acct, ns, "shop"), newSubscription(t, acct, ns, "blog")}
	clk := env.Manager.Clock
	m := membership(ns, "contractor@sexp.example", v1.RoleDeveloper)
	m.Spec.ExpiresAt = &metav1.Time{Time: clk.Now().Add(time.Hour)}
	create(t, m)
	waitCondition(t, m, metav1.ConditionTrue, v1.ReasonReconciled)
	waitBound(t, m, "landlord-tenant-developer", append([]string{ns}, sites...)...)
	contractor := env.As("contractor@sexp.example")
	for _, site := range sites {
		if err := contractor.List(ctx, &corev1.PodList{}, client.InNamespace(site)); err != nil {
			t.Fatalf("before expiry, in %s: %v", site, err)
		}
	}

	clk.Step(61 * time.Minute)
	got := waitCondition(t, m, metav1.ConditionFalse, v1.ReasonExpired)
	if got.Status.Phase != v1.MembershipExpired {
		t.Errorf("phase %s, want Expired", got.Status.Phase)
	}
	waitUnbound(t, m, append([]string{ns}, sites...)...)
	testenv.Eventually(t, timeout, func() error {
		for _, site := range sites {
			if err := contractor.List(ctx, &corev1.PodList{}, client.InNamespace(site)); !apierrors.IsForbidden(err) {
				return fmt.Errorf("the contractor still has access to %s (err=%v)", site, err)
			}
		}
		return nil
	})
	// A site created after the expiry is not bound either.
	late := newSubscription(t, acct, ns, "late")
	testenv.Consistently(t, 2*time.Second, func() error {
		if bindingIn(t, m, late) != nil {
			return fmt.Errorf("the expired membership was bound in the new site %s", late)
		}
		return nil
	})
}

// A younger membership of the same subject is bound nowhere.
func TestDuplicateIsBoundInNoSite(t *testing.T) {
	acct, ns := newAccount(t, "sdup")
	site := newSite(t, acct, "shop")
	first := create(t, membership(ns, "sam@sdup.example", v1.RoleViewer))
	waitBound(t, first, "landlord-tenant-viewer", ns, site)
	second := create(t, membership(ns, "sam@sdup.example", v1.RoleAdmin))
	waitCondition(t, second, metav1.ConditionFalse, v1.ReasonDuplicateSubject)
	if bindingIn(t, second, site) != nil || bindingIn(t, second, ns) != nil {
		t.Error("the duplicate was bound")
	}
}

// Account suspension makes every binding of every member read-only, in the
// account namespace and in every site; lifting it restores the roles.
func TestAccountSuspensionMakesEverySiteReadOnly(t *testing.T) {
	acct, ns := newAccount(t, "ssus")
	all := []string{ns, newSubscription(t, acct, ns, "shop"), newSubscription(t, acct, ns, "blog")}
	dev := create(t, membership(ns, "dev@ssus.example", v1.RoleDeveloper))
	admin := create(t, membership(ns, "admin@ssus.example", v1.RoleAdmin))
	waitBound(t, dev, "landlord-tenant-developer", all...)
	waitBound(t, admin, "landlord-tenant-admin", all...)

	suspend := func(patch string) {
		t.Helper()
		a := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: acct}}
		if err := env.Client.Patch(ctx, a, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			t.Fatal(err)
		}
	}
	suspend(`{"spec":{"suspension":{"reason":"NonPayment"}}}`)
	waitBound(t, dev, tenancy.SuspendedClusterRole, all...)
	waitBound(t, admin, tenancy.SuspendedClusterRole, all...)
	got := waitCondition(t, dev, metav1.ConditionFalse, v1.ReasonAccountSuspended)
	if msg := got.Status.Conditions[0].Message; !strings.Contains(msg, "and every site namespace") {
		t.Errorf("message %q", msg)
	}
	testenv.Eventually(t, timeout, func() error {
		for _, n := range all {
			if err := env.As("dev@ssus.example").List(ctx, &corev1.ConfigMapList{}, client.InNamespace(n)); !apierrors.IsForbidden(err) {
				return fmt.Errorf("a suspended developer lists configmaps in %s (err=%v)", n, err)
			}
			if err := env.As("dev@ssus.example").List(ctx, &v1.CustomDomainList{}, client.InNamespace(n)); err != nil {
				return fmt.Errorf("a suspended developer cannot read custom domains in %s: %v", n, err)
			}
		}
		return nil
	})

	suspend(`{"spec":{"suspension":null}}`)
	waitBound(t, dev, "landlord-tenant-developer", all...)
	waitBound(t, admin, "landlord-tenant-admin", all...)
}

// Deleting the Account deletes its namespaces and Memberships: the
// memberships' finalizer lets them go (no binding is left to remove once the
// account is deleting), so it never holds up the account's deletion.
func TestAccountDeletionIsNotHeldByMemberships(t *testing.T) {
	acct, ns := newAccount(t, "sgone")
	site := newSubscription(t, acct, ns, "shop")
	m := create(t, membership(ns, "dev@sgone.example", v1.RoleDeveloper))
	owner := create(t, membership(ns, "co-owner@sgone.example", v1.RoleOwner))
	waitBound(t, m, "landlord-tenant-developer", ns, site)
	waitBound(t, owner, "landlord-tenant-owner", ns, site)

	a := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: acct}}
	if err := env.Client.Patch(ctx, a, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"deletionProtection":false}}`))); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Minute, func() error {
		for _, o := range []client.Object{m, owner, a, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: site}},
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}} {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%T %s is still there (finalizers %v, err=%v)", o, o.GetName(), o.GetFinalizers(), err)
			}
		}
		return nil
	})
}

// A membership binding whose Membership is gone (deleted while Landlord was
// not running, say) is removed from the site namespace when it is seen.
func TestOrphanedSiteBindingIsRemoved(t *testing.T) {
	acct, _ := newAccount(t, "sorph")
	site := newSite(t, acct, "shop")
	ghost := &v1.Membership{ObjectMeta: metav1.ObjectMeta{Name: "ghost"}}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: platform.MembershipBindingName(ghost.Name),
			Labels: tenancy.MemberBindingLabels(tenancy.SiteTarget(acct, "shop", cfg), ghost.Name)},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-tenant-viewer"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "ghost@sorph.example"}},
	}
	if err := env.Client.Create(ctx, rb); err != nil {
		t.Fatal(err)
	}
	waitUnbound(t, ghost, site)
}
