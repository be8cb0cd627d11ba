package membership_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// A Membership becomes a RoleBinding of its subject to its role's
// ClusterRole, owned by the Membership, and the member gets the access.
func TestMembershipBindsItsRole(t *testing.T) {
	acct, ns := newAccount(t, "bind")
	m := create(t, membership(ns, "dev@bind.example", v1.RoleDeveloper))
	got := waitCondition(t, m, metav1.ConditionTrue, v1.ReasonReconciled)
	if got.Status.Phase != v1.MembershipActive {
		t.Errorf("phase %s", got.Status.Phase)
	}
	rb := binding(t, m)
	if rb == nil {
		t.Fatal("no binding")
	}
	if rb.RoleRef.Name != "landlord-tenant-developer" || rb.RoleRef.Kind != "ClusterRole" ||
		len(rb.Subjects) != 1 || rb.Subjects[0].Kind != "User" || rb.Subjects[0].Name != "dev@bind.example" {
		t.Errorf("binding %+v", rb)
	}
	if rb.Labels[v1.AccountLabel] != acct || rb.Labels[v1.ManagedByLabel] != "landlord" {
		t.Errorf("binding labels %v", rb.Labels)
	}
	if !metav1.IsControlledBy(rb, got) {
		t.Errorf("binding not owned by the membership: %+v", rb.OwnerReferences)
	}
	if err := env.As("dev@bind.example").List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); err != nil {
		t.Errorf("the developer cannot list secrets: %v", err)
	}
	// Bound at once: the Ready condition says it, no Event (TestExpiredMembershipLosesAccess has one for a change).
	if reasons := eventReasons(t, m); slices.Contains(reasons, v1.ReasonReconciled) {
		t.Errorf("a new membership bound at once recorded a %s event: %v", v1.ReasonReconciled, reasons)
	}

	// Changing the role re-binds (roleRef is immutable: the binding is replaced).
	got.Spec.Role = v1.RoleViewer
	if err := env.Client.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		if rb := binding(t, m); rb == nil || rb.RoleRef.Name != "landlord-tenant-viewer" {
			return fmt.Errorf("binding %+v", rb)
		}
		if err := env.As("dev@bind.example").List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
			return fmt.Errorf("a viewer can list secrets (err=%v)", err)
		}
		return nil
	})
}

// Deleting a Membership removes exactly its binding.
func TestDeletingMembershipRemovesExactlyItsBinding(t *testing.T) {
	_, ns := newAccount(t, "del")
	gone := create(t, membership(ns, "a@del.example", v1.RoleEditor))
	kept := create(t, membership(ns, "b@del.example", v1.RoleEditor))
	waitCondition(t, gone, metav1.ConditionTrue, v1.ReasonReconciled)
	waitCondition(t, kept, metav1.ConditionTrue, v1.ReasonReconciled)
	if err := env.Client.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		if rb := binding(t, gone); rb != nil {
			return fmt.Errorf("binding of the deleted membership remains")
		}
		return nil
	})
	if binding(t, kept) == nil {
		t.Error("the other membership's binding was removed")
	}
	rbs := &rbacv1.RoleBindingList{}
	if err := env.Client.List(ctx, rbs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, rb := range rbs.Items {
		names = append(names, rb.Name)
	}
	want := []string{platform.OwnerBindingName, platform.MembershipBindingName(kept.Name)}
	if len(names) != 2 || !(names[0] == want[0] && names[1] == want[1] || names[0] == want[1] && names[1] == want[0]) {
		t.Errorf("bindings %v, want %v", names, want)
	}
}

// spec.expiresAt removes the binding at that time and the phase becomes Expired.
func TestExpiredMembershipLosesAccess(t *testing.T) {
	_, ns := newAccount(t, "exp")
	clk := env.Manager.Clock
	m := membership(ns, "contractor@exp.example", v1.RoleDeveloper)
	m.Spec.ExpiresAt = &metav1.Time{Time: clk.Now().Add(time.Hour)}
	create(t, m)
	waitCondition(t, m, metav1.ConditionTrue, v1.ReasonReconciled)
	contractor := env.As("contractor@exp.example")
	if err := contractor.List(ctx, &corev1.PodList{}, client.InNamespace(ns)); err != nil {
		t.Fatalf("before expiry: %v", err)
	}

	clk.Step(30 * time.Minute)
	testenv.Consistently(t, time.Second, func() error {
		if binding(t, m) == nil {
			return fmt.Errorf("the binding went before expiresAt")
		}
		return nil
	})

	clk.Step(31 * time.Minute)
	got := waitCondition(t, m, metav1.ConditionFalse, v1.ReasonExpired)
	if got.Status.Phase != v1.MembershipExpired {
		t.Errorf("phase %s, want Expired", got.Status.Phase)
	}
	if binding(t, m) != nil {
		t.Error("the binding remains after expiry")
	}
	testenv.Eventually(t, timeout, func() error { // Reconciled → Expired is a change: an Event
		if reasons := eventReasons(t, m); !slices.Contains(reasons, v1.ReasonExpired) {
			return fmt.Errorf("no %s event among %v", v1.ReasonExpired, reasons)
		}
		return nil
	})
	testenv.Eventually(t, timeout, func() error {
		if err := contractor.List(ctx, &corev1.PodList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
			return fmt.Errorf("the contractor still has access (err=%v)", err)
		}
		return nil
	})
}

// A Membership in a namespace that belongs to no account grants nothing and says so.
func TestMembershipOutsideAnAccountGrantsNothing(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("plain")}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	m := create(t, membership(ns.Name, "eve@example.com", v1.RoleAdmin))
	got := waitCondition(t, m, metav1.ConditionFalse, v1.ReasonNoAccount)
	if c := got.Status.Conditions[0]; !strings.Contains(c.Message, "belongs to no Account") {
		t.Errorf("message %q", c.Message)
	}
	rbs := &rbacv1.RoleBindingList{}
	if err := env.Client.List(ctx, rbs, client.InNamespace(ns.Name)); err != nil {
		t.Fatal(err)
	}
	if len(rbs.Items) != 0 {
		t.Errorf("bindings were created: %d", len(rbs.Items))
	}
	// A namespace with a forged account label but not the account's name is no account namespace either.
	forged := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("forged"),
		Labels: map[string]string{v1.AccountLabel: "someone"}}}
	if err := env.Client.Create(ctx, forged); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, create(t, membership(forged.Name, "eve@example.com", v1.RoleAdmin)), metav1.ConditionFalse, v1.ReasonNoAccount)
}

// Of two memberships of one subject only the older is bound; the younger
// says DuplicateSubject, and takes over when the older goes.
func TestDuplicateSubject(t *testing.T) {
	_, ns := newAccount(t, "dup")
	first := create(t, membership(ns, "sam@dup.example", v1.RoleViewer))
	waitCondition(t, first, metav1.ConditionTrue, v1.ReasonReconciled)
	second := create(t, membership(ns, "sam@dup.example", v1.RoleAdmin))
	got := waitCondition(t, second, metav1.ConditionFalse, v1.ReasonDuplicateSubject)
	if msg := got.Status.Conditions[0].Message; !strings.Contains(msg, first.Name) {
		t.Errorf("message does not name the older membership: %q", msg)
	}
	if binding(t, second) != nil {
		t.Error("the duplicate was bound")
	}
	if err := env.As("sam@dup.example").Create(ctx, membership(ns, "x@dup.example", v1.RoleViewer)); !apierrors.IsForbidden(err) {
		t.Errorf("the duplicate's Admin role is effective (err=%v)", err)
	}

	if err := env.Client.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, second, metav1.ConditionTrue, v1.ReasonReconciled)
	if rb := binding(t, second); rb == nil || rb.RoleRef.Name != "landlord-tenant-admin" {
		t.Errorf("binding after the older went: %+v", rb)
	}
}

// eventReasons are the reasons of the Events recorded for the membership m.
func eventReasons(t *testing.T, m *v1.Membership) []string {
	t.Helper()
	evs := &corev1.EventList{}
	if err := env.Client.List(ctx, evs, client.InNamespace(m.Namespace), client.MatchingFields{"involvedObject.name": m.Name}); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range evs.Items {
		reasons = append(reasons, e.Reason)
	}
	return reasons
}
