package account_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// An account gets a labelled namespace with Pod Security restricted, a
// default-deny NetworkPolicy, a quota that admits no workload, its owner bound to the Owner
// role, and a status saying so.
func TestAccountGetsIsolatedNamespace(t *testing.T) {
	a := newAccount(t, "acme", func(a *v1.Account) { a.Spec.CostCenter = "cc-1042" })
	a = waitReady(t, a.Name)
	nsName := cfg.AccountNamespace(a.Name)

	if a.Status.Namespace != nsName || a.Status.Phase != v1.AccountActive {
		t.Errorf("status namespace=%q phase=%q, want %q Active", a.Status.Namespace, a.Status.Phase, nsName)
	}
	for _, typ := range []string{v1.ConditionReady, v1.ConditionNamespaceReady} {
		c := meta.FindStatusCondition(a.Status.Conditions, typ)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != a.Generation {
			t.Errorf("condition %s = %+v", typ, c)
		}
	}
	if c := meta.FindStatusCondition(a.Status.Conditions, v1.ConditionSuspended); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Suspended = %+v, want False", c)
	}

	ns := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: nsName}, ns); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		v1.AccountLabel: a.Name, v1.ManagedByLabel: "landlord", v1.CostCenterLabel: "cc-1042",
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/audit":   "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
	} {
		if ns.Labels[k] != want {
			t.Errorf("namespace label %s = %q, want %q", k, ns.Labels[k], want)
		}
	}

	np := &networkingv1.NetworkPolicy{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: nsName, Name: platform.NetworkPolicyName}, np); err != nil {
		t.Fatalf("no NetworkPolicy: %v", err)
	}
	if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) != 0 ||
		len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 2 ||
		np.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != "test-gateway" ||
		np.Spec.Ingress[0].From[1].PodSelector == nil {
		t.Errorf("NetworkPolicy does not deny all but the gateway and the namespace: %+v", np.Spec)
	}

	// Nothing runs in the account namespace: sites have their own.
	rq := &corev1.ResourceQuota{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: nsName, Name: platform.QuotaName}, rq); err != nil {
		t.Fatalf("no ResourceQuota: %v", err)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourcePods, corev1.ResourceLimitsCPU, corev1.ResourceRequestsStorage, corev1.ResourcePersistentVolumeClaims} {
		if q, ok := rq.Spec.Hard[res]; !ok || !q.IsZero() {
			t.Errorf("account namespace quota %s = %v, want 0", res, rq.Spec.Hard[res])
		}
	}

	rb := &rbacv1.RoleBinding{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: nsName, Name: platform.OwnerBindingName}, rb); err != nil {
		t.Fatalf("no owner binding: %v", err)
	}
	if rb.RoleRef.Name != "landlord-tenant-owner" || rb.Subjects[0].Name != ownerOf(a.Name) {
		t.Errorf("owner binding %+v", rb)
	}
	// The owner really can work in the namespace: the binding is effective.
	if err := env.As(ownerOf(a.Name)).Create(ctx, configMap(nsName)); err != nil {
		t.Errorf("the owner cannot create a ConfigMap in its namespace: %v", err)
	}

	// Becoming Active at birth is in the status, not an Event (one write less
	// per account); changes of phase are Events (TestSuspensionMakesMembersReadOnly).
	if reasons := eventReasons(t, a.Name); slices.Contains(reasons, "Active") {
		t.Errorf("a new account recorded an Active event: %v", reasons)
	}
}

// eventReasons are the reasons of the Events recorded for the account name.
func eventReasons(t *testing.T, name string) []string {
	t.Helper()
	evs := &corev1.EventList{}
	if err := env.Client.List(ctx, evs, client.MatchingFields{"involvedObject.name": name}); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range evs.Items {
		reasons = append(reasons, e.Reason)
	}
	return reasons
}

// waitEvent waits for an Event with reason for the account name.
func waitEvent(t *testing.T, name, reason string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if reasons := eventReasons(t, name); !slices.Contains(reasons, reason) {
			return fmt.Errorf("no %s event among %v", reason, reasons)
		}
		return nil
	})
}

// A namespace of the account's name that does not carry the account label is
// not adopted: the account says so, and the namespace is left untouched.
func TestForeignNamespaceIsNotAdopted(t *testing.T) {
	name := testenv.Name("squat")
	nsName := cfg.AccountNamespace(name)
	foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsName, Labels: map[string]string{"team": "other"}}}
	if err := env.Client.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, foreign) })
	newAccount(t, "", func(a *v1.Account) { a.Name = name })

	testenv.Eventually(t, timeout, func() error {
		a := &v1.Account{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, a); err != nil {
			return err
		}
		c := meta.FindStatusCondition(a.Status.Conditions, v1.ConditionNamespaceReady)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1.ReasonNamespaceNotOwned ||
			a.Status.Phase != v1.AccountPending {
			return fmt.Errorf("status %+v", a.Status)
		}
		if !strings.Contains(c.Message, v1.AccountLabel+"="+name) {
			return fmt.Errorf("message does not say how to adopt: %q", c.Message)
		}
		return nil
	})
	testenv.Consistently(t, 2*time.Second, func() error {
		ns := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: nsName}, ns); err != nil {
			return err
		}
		if len(ns.Labels) != 2 || len(ns.OwnerReferences) != 0 { // team + kubernetes.io/metadata.name
			return fmt.Errorf("the foreign namespace was touched: labels %v owners %v", ns.Labels, ns.OwnerReferences)
		}
		nps := &networkingv1.NetworkPolicyList{}
		if err := env.Client.List(ctx, nps, client.InNamespace(nsName)); err != nil {
			return err
		}
		rbs := &rbacv1.RoleBindingList{}
		if err := env.Client.List(ctx, rbs, client.InNamespace(nsName)); err != nil {
			return err
		}
		if len(nps.Items)+len(rbs.Items) != 0 {
			return fmt.Errorf("objects were created in the foreign namespace")
		}
		return nil
	})

	// Labelling it for the account is the consent to adopt it.
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(foreign), foreign); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(foreign.DeepCopy())
	foreign.Labels[v1.AccountLabel] = name
	if err := env.Client.Patch(ctx, foreign, patch); err != nil {
		t.Fatal(err)
	}
	waitReady(t, name)
}

// Hand-deleted guard rails, owner binding and namespace labels come back.
func TestHandDeletedObjectsAreRepaired(t *testing.T) {
	a := newAccount(t, "repair", func(a *v1.Account) { a.Spec.CostCenter = "cc-7" })
	waitReady(t, a.Name)
	nsName := cfg.AccountNamespace(a.Name)

	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: nsName, Name: platform.NetworkPolicyName}}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: nsName, Name: platform.OwnerBindingName}}
	rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: nsName, Name: platform.QuotaName}}
	for _, o := range []client.Object{np, rb, rq} {
		if err := env.Client.Delete(ctx, o); err != nil {
			t.Fatalf("deleting %T: %v", o, err)
		}
	}
	// Strip the labels by hand, the account label included.
	for _, label := range []string{"pod-security.kubernetes.io/enforce", v1.CostCenterLabel, v1.AccountLabel, v1.ManagedByLabel} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsName}}
		p := fmt.Sprintf(`{"metadata":{"labels":{%q:null}}}`, label)
		if err := env.Client.Patch(ctx, ns, client.RawPatch(client.Merge.Type(), []byte(p))); err != nil {
			t.Fatalf("removing label %s: %v", label, err)
		}
	}

	testenv.Eventually(t, timeout, func() error {
		for _, o := range []client.Object{np, rb, rq} {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return fmt.Errorf("%T not repaired: %w", o, err)
			}
		}
		ns := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: nsName}, ns); err != nil {
			return err
		}
		for k, want := range map[string]string{"pod-security.kubernetes.io/enforce": "restricted",
			v1.CostCenterLabel: "cc-7", v1.AccountLabel: a.Name, v1.ManagedByLabel: "landlord"} {
			if ns.Labels[k] != want {
				return fmt.Errorf("namespace label %s = %q, want %q", k, ns.Labels[k], want)
			}
		}
		return nil
	})
	if rb.RoleRef.Name != "landlord-tenant-owner" {
		t.Errorf("repaired owner binding points to %s", rb.RoleRef.Name)
	}
}

// Status counts the account's subscriptions by the phase they report and its
// live members. A subscription that reports no phase yet is not counted until
// its first phase is written.
func TestStatusCountsSubscriptionsAndMembers(t *testing.T) {
	a := newAccount(t, "counts")
	waitReady(t, a.Name)
	nsName := cfg.AccountNamespace(a.Name)
	// Created, and their phases reported, all at the same instant.
	phases := []v1.SubscriptionPhase{v1.PhaseActive, v1.PhaseActive, v1.PhaseSuspended, v1.PhasePending, ""}
	subs := make([]*v1.Subscription, len(phases))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, phase := range phases {
		subs[i] = &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: nsName, Name: fmt.Sprintf("site-%d", i)},
			Spec: v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}}}
		wg.Add(1)
		go func(s *v1.Subscription) {
			defer wg.Done()
			<-start
			if err := env.Client.Create(ctx, s); err != nil {
				t.Error(err)
				return
			}
			if phase == "" {
				return
			}
			s.Status.Phase = phase
			if err := env.Client.Status().Update(ctx, s); err != nil {
				t.Error(err)
			}
		}(subs[i])
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	unreported := subs[len(subs)-1]
	newMembership(t, nsName, "dev1", v1.RoleDeveloper)
	newMembership(t, nsName, "viewer1", v1.RoleViewer)

	counts := func(want v1.SubscriptionCounts) func() error {
		return func() error {
			got := &v1.Account{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: a.Name}, got); err != nil {
				return err
			}
			if got.Status.Subscriptions != want || got.Status.Members != 2 {
				return fmt.Errorf("subscriptions %+v members %d; want %+v and 2", got.Status.Subscriptions, got.Status.Members, want)
			}
			return nil
		}
	}
	testenv.Eventually(t, timeout, counts(v1.SubscriptionCounts{Active: 2, Suspended: 1, Pending: 1}))

	// Its first phase wakes the account.
	unreported.Status.Phase = v1.PhaseTrialing
	if err := env.Client.Status().Update(ctx, unreported); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, counts(v1.SubscriptionCounts{Active: 2, Suspended: 1, Pending: 1, Trialing: 1}))
}

// Suspension drops every member, the owner included, to read-only within
// seconds; lifting it restores their roles.
func TestSuspensionMakesMembersReadOnly(t *testing.T) {
	a := newAccount(t, "suspend")
	waitReady(t, a.Name)
	nsName := cfg.AccountNamespace(a.Name)
	newMembership(t, nsName, "dev@suspend.example", v1.RoleDeveloper)
	newMembership(t, nsName, "admin@suspend.example", v1.RoleAdmin)
	users := []string{ownerOf(a.Name), "dev@suspend.example", "admin@suspend.example"}
	for _, u := range users {
		if err := env.As(u).Create(ctx, configMap(nsName)); err != nil {
			t.Fatalf("%s cannot write before the suspension: %v", u, err)
		}
	}

	setSuspension(t, a.Name, `{"reason":"Fraud","message":"chargebacks"}`)
	start := time.Now()
	testenv.Eventually(t, 10*time.Second, func() error {
		for _, u := range users {
			if err := env.As(u).Create(ctx, configMap(nsName)); !apierrors.IsForbidden(err) {
				return fmt.Errorf("%s can still write (err=%v)", u, err)
			}
		}
		return nil
	})
	t.Logf("members read-only %s after the suspension", time.Since(start).Round(time.Millisecond))
	got := &v1.Account{}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: a.Name}, got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSuspended)
		if got.Status.Phase != v1.AccountSuspended || c == nil || c.Status != metav1.ConditionTrue || c.Reason != "Fraud" ||
			!strings.Contains(c.Message, "chargebacks") {
			return fmt.Errorf("status %+v", got.Status)
		}
		return nil
	})
	waitEvent(t, a.Name, "Suspended")
	for _, u := range users {
		// Read-only, not locked out: they still see the subscriptions and members.
		if err := env.As(u).List(ctx, &v1.SubscriptionList{}, client.InNamespace(nsName)); err != nil {
			t.Errorf("%s cannot read subscriptions while suspended: %v", u, err)
		}
		if err := env.As(u).List(ctx, &v1.MembershipList{}, client.InNamespace(nsName)); err != nil {
			t.Errorf("%s cannot read memberships while suspended: %v", u, err)
		}
	}
	rbs := &rbacv1.RoleBindingList{}
	if err := env.Client.List(ctx, rbs, client.InNamespace(nsName)); err != nil {
		t.Fatal(err)
	}
	for _, rb := range rbs.Items {
		if rb.RoleRef.Name != tenancy.SuspendedClusterRole {
			t.Errorf("binding %s still points to %s", rb.Name, rb.RoleRef.Name)
		}
	}

	setSuspension(t, a.Name, "null")
	testenv.Eventually(t, 10*time.Second, func() error {
		for _, u := range users {
			if err := env.As(u).Create(ctx, configMap(nsName)); err != nil {
				return fmt.Errorf("%s cannot write after the suspension was lifted: %w", u, err)
			}
		}
		return nil
	})
	a = waitReady(t, a.Name)
	if a.Status.Phase != v1.AccountActive {
		t.Errorf("phase %s after lifting the suspension", a.Status.Phase)
	}
	waitEvent(t, a.Name, "Active") // Suspended → Active is a change
}

func setSuspension(t *testing.T, name, suspension string) {
	t.Helper()
	a := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: name}}
	p := fmt.Sprintf(`{"spec":{"suspension":%s}}`, suspension)
	if err := env.Client.Patch(ctx, a, client.RawPatch(client.Merge.Type(), []byte(p))); err != nil {
		t.Fatalf("setting the suspension: %v", err)
	}
}

// A protected account cannot be deleted, and the refusal says how to confirm.
func TestProtectedAccountCannotBeDeleted(t *testing.T) {
	a := newAccount(t, "keep")
	waitReady(t, a.Name)
	err := env.Client.Delete(ctx, a)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "deletionProtection") {
		t.Fatalf("deleting a protected account: want Forbidden naming deletionProtection, got %v", err)
	}
	a = waitReady(t, a.Name)
	if !a.DeletionTimestamp.IsZero() {
		t.Fatal("the account is being deleted")
	}
}

// A confirmed deletion removes the namespace (really terminated by the
// namespace controller) with everything in it, releases the account's domain
// claims and only then lets the Account go; nothing of it remains.
func TestConfirmedDeletionRemovesEverything(t *testing.T) {
	a := newAccount(t, "doomed")
	waitReady(t, a.Name)
	nsName := cfg.AccountNamespace(a.Name)
	// Content: a membership, an Owner membership (owner protection must not
	// block the namespace controller), a subscription, a secret.
	newMembership(t, nsName, "dev@doomed.example", v1.RoleDeveloper)
	newMembership(t, nsName, "co-owner@doomed.example", v1.RoleOwner)
	for _, o := range []client.Object{
		&v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: nsName, Name: "www"},
			Spec: v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsName, Name: "db"}, StringData: map[string]string{"p": "x"}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
		// The finalizer policy put Landlord's finalizer on the Subscription;
		// the Subscription controller that would release it does not run here.
		if len(o.GetFinalizers()) > 0 {
			o.SetFinalizers(nil)
			if err := env.Client.Update(ctx, o); err != nil {
				t.Fatalf("releasing %T's finalizer: %v", o, err)
			}
		}
	}
	// A site namespace of the account with a volume (the Subscription
	// controller, not running here, would have made it), and a namespace
	// that only carries the account's label: the first goes, the second not.
	siteNS := cfg.SiteNamespace(a.Name, "www")
	impostor := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("impostor"), Labels: platform.SiteLabels(a.Name, "www")}}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, impostor) })
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS, Labels: platform.SiteLabels(a.Name, "www")}},
		impostor,
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: siteNS, Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	mine := domainClaim(t, testenv.Name("shop")+".example.com", a)
	other := newAccount(t, "bystander")
	theirs := domainClaim(t, testenv.Name("blog")+".example.com", other)

	deleteAccount(t, a.Name, false)
	testenv.Eventually(t, timeout, func() error {
		got := &v1.Account{}
		if err := env.Client.Get(ctx, client.ObjectKey{Name: a.Name}, got); err != nil {
			if apierrors.IsNotFound(err) {
				return nil // already through
			}
			return err
		}
		if got.Status.Phase != v1.AccountTerminating {
			return fmt.Errorf("phase %s, want Terminating", got.Status.Phase)
		}
		return nil
	})
	testenv.Eventually(t, 2*time.Minute, func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Name: a.Name}, &v1.Account{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		ns := &corev1.Namespace{}
		_ = env.Client.Get(ctx, client.ObjectKey{Name: nsName}, ns)
		return fmt.Errorf("account %s still exists (%v); namespace status %+v", a.Name, err, ns.Status)
	})

	// The Account disappears only after its namespaces are gone.
	for _, name := range []string{nsName, siteNS} {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
			t.Errorf("the account is gone but its namespace %s is not (err=%v)", name, err)
		}
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(mine), &v1.DomainClaim{}); !apierrors.IsNotFound(err) {
		t.Errorf("the account's domain claim was not released (err=%v)", err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(theirs), &v1.DomainClaim{}); err != nil {
		t.Errorf("another account's domain claim was released: %v", err)
	}
	// A namespace merely labelled for the account is not its to delete.
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(impostor), impostor); err != nil || !impostor.DeletionTimestamp.IsZero() {
		t.Errorf("a namespace not named as the account's was deleted (err=%v)", err)
	}
	// Nothing else labelled for the account remains anywhere.
	sel := client.MatchingLabels{v1.AccountLabel: a.Name}
	for _, l := range []client.ObjectList{&rbacv1.RoleBindingList{}, &networkingv1.NetworkPolicyList{},
		&corev1.LimitRangeList{}, &v1.MembershipList{}, &v1.SubscriptionList{}, &corev1.SecretList{}} {
		if err := env.Client.List(ctx, l, sel); err != nil {
			t.Fatal(err)
		}
		if n := meta.LenList(l); n != 0 {
			t.Errorf("%d %T remain", n, l)
		}
	}
	for _, l := range []client.ObjectList{&v1.MembershipList{}, &v1.SubscriptionList{}, &corev1.SecretList{}, &corev1.PersistentVolumeClaimList{}} {
		if err := env.Client.List(ctx, l, client.InNamespace(nsName)); err != nil {
			t.Fatal(err)
		}
		if n := meta.LenList(l); n != 0 {
			t.Errorf("%d %T remain in the deleted namespace", n, l)
		}
	}
}

func domainClaim(t *testing.T, host string, a *v1.Account) *v1.DomainClaim {
	t.Helper()
	dc := &v1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: host},
		Spec: v1.DomainClaimSpec{Hostname: host, Account: a.Name, AccountUID: string(a.UID),
			Namespace: cfg.AccountNamespace(a.Name), CustomDomain: "d"}}
	if err := env.Client.Create(ctx, dc); err != nil {
		t.Fatalf("creating domain claim: %v", err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, dc) })
	return dc
}
