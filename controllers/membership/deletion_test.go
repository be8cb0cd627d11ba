package membership_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

const hold = "example.com/hold"

// waitGone waits until m no longer exists.
func waitGone(t *testing.T, m *v1.Membership) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(m), &v1.Membership{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("membership %s still there (%v)", m.Name, err)
	})
}

// A Membership whose Landlord finalizer was swapped for another's (the
// provider here: tenants may not, config/admission) and that is deleted
// hangs Terminating; its bindings go anyway, in the account namespace and
// in the site namespaces, and its status says the deletion waits for the
// other finalizer.
func TestDeletionRemovesBindingsWhateverTheFinalizers(t *testing.T) {
	acct, ns := newAccount(t, "swap")
	site := newSite(t, acct, "www")
	m := create(t, membership(ns, "sam@swap.example", v1.RoleAdmin))
	waitBound(t, m, "landlord-tenant-admin", ns, site)

	// Paused meanwhile, so that Landlord does not put its finalizer back
	// before the delete (as a tenant's swap-and-delete could race it).
	must(t, patch(env.Client, m, fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"},"finalizers":[%q]}}`, v1.PausedAnnotation, hold)))
	t.Cleanup(func() { _ = patch(env.Client, m, `{"metadata":{"finalizers":null}}`) })
	must(t, env.Client.Delete(ctx, m))
	must(t, patch(env.Client, m, fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, v1.PausedAnnotation)))
	waitUnbound(t, m, ns, site)
	got := waitCondition(t, m, metav1.ConditionFalse, v1.ReasonDeleting)
	if got.DeletionTimestamp.IsZero() || !slices.Equal(got.Finalizers, []string{hold}) {
		t.Fatalf("want the membership Terminating, held by %s only; got deletionTimestamp %v, finalizers %v", hold, got.DeletionTimestamp, got.Finalizers)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady); !strings.Contains(c.Message, hold) {
		t.Errorf("the Deleting condition does not name the finalizer that holds the membership: %q", c.Message)
	}
	must(t, patch(env.Client, m, `{"metadata":{"finalizers":null}}`))
	waitGone(t, m)
}

// A Membership deleted with no finalizer at all (paused by the provider,
// its finalizer removed, then deleted: it goes at once, and Landlord wrote
// nothing while it was paused) leaves no binding behind.
func TestMembershipDeletedWithoutFinalizerLeavesNoBinding(t *testing.T) {
	acct, ns := newAccount(t, "nofin")
	site := newSite(t, acct, "www")
	m := create(t, membership(ns, "nina@nofin.example", v1.RoleDeveloper))
	waitBound(t, m, "landlord-tenant-developer", ns, site)
	must(t, patch(env.Client, m, fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"},"finalizers":null}}`, v1.PausedAnnotation)))
	must(t, env.Client.Delete(ctx, m))
	waitGone(t, m)
	waitUnbound(t, m, ns, site)
}

// withoutPlacementPolicy runs create with the placement admission policy's
// binding removed, as on a cluster where the object was created before the
// policy, and puts the binding back.
func withoutPlacementPolicy(t *testing.T, create func() error) {
	t.Helper()
	b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "landlord-placement"}}
	must(t, env.Client.Delete(ctx, b))
	defer func() { must(t, env.ApplyFile(ctx, filepath.Join(env.Root, "config", "admission", "placement.yaml"))) }()
	testenv.Eventually(t, timeout, create) // until the API server stops enforcing it
}

// A Membership in a site namespace (refused at admission now; created
// before the policy here) named like a real member's, changed again and
// again, never makes Landlord delete or change the real member's binding
// there: only bindings labelled for a membership are its.
func TestMisplacedMembershipNeverTouchesAnotherBinding(t *testing.T) {
	acct, ns := newAccount(t, "place")
	site := newSite(t, acct, "www")
	real := create(t, membership(ns, "richard@place.example", v1.RoleDeveloper))
	waitBound(t, real, "landlord-tenant-developer", ns, site)
	before := bindingIn(t, real, site)

	impostor := &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: real.Name},
		Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: "mallory@place.example"}, Role: v1.RoleViewer}}
	withoutPlacementPolicy(t, func() error { return env.Client.Create(ctx, impostor) })
	t.Cleanup(func() { _ = env.Client.Delete(ctx, impostor) })
	waitCondition(t, impostor, metav1.ConditionFalse, v1.ReasonNoAccount)
	for i := range 5 {
		must(t, patch(env.Client, impostor, fmt.Sprintf(`{"metadata":{"annotations":{"poke":"%d"}}}`, i)))
		time.Sleep(200 * time.Millisecond)
	}
	must(t, env.Client.Delete(ctx, impostor))
	waitGone(t, impostor)
	testenv.Consistently(t, 3*time.Second, func() error {
		rb := bindingIn(t, real, site)
		if rb == nil || rb.UID != before.UID {
			return fmt.Errorf("the real member's binding in %s was deleted (now %v)", site, rb)
		}
		return nil
	})
}

// A RoleBinding of a Membership's binding name that is not labelled for it
// (made by the provider) is neither taken over nor deleted: the Membership
// says why it grants nothing in that namespace.
func TestForeignBindingOfTheSameNameIsLeftAlone(t *testing.T) {
	_, ns := newAccount(t, "foreign")
	m := membership(ns, "fred@foreign.example", v1.RoleViewer)
	foreign := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "landlord-member-" + m.Name,
			Labels: map[string]string{v1.ManagedByLabel: v1.ManagedByValue, "made-by": "provider"}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-tenant-billing"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "someone@foreign.example"}},
	}
	must(t, env.Client.Create(ctx, foreign))
	create(t, m)
	got := waitCondition(t, m, metav1.ConditionFalse, v1.ReasonReconcileError)
	if c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady); !strings.Contains(c.Message, "is not Landlord's for membership "+m.Name) {
		t.Errorf("Ready does not say the binding is someone else's: %q", c.Message)
	}
	must(t, env.Client.Delete(ctx, m))
	waitGone(t, m)
	rb := &rbacv1.RoleBinding{}
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(foreign), rb))
	if rb.UID != foreign.UID || rb.RoleRef.Name != "landlord-tenant-billing" || len(rb.Subjects) != 1 || rb.Subjects[0].Name != "someone@foreign.example" {
		t.Fatalf("the provider's binding was changed: %+v", rb)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
