package customdomain_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/testenv"
)

func patchDomain(t *testing.T, cd *v1.CustomDomain, p string) {
	t.Helper()
	o := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: cd.Namespace, Name: cd.Name}}
	if err := h.env.Client.Patch(context.Background(), o, client.RawPatch(types.MergePatchType, []byte(p))); err != nil {
		t.Fatal(err)
	}
}

// routedPair is a site with two active, routed domains, each with its claim
// and listener: keep stays, and gone is the one the test deletes.
func routedPair(t *testing.T, prefix string) (keep, gone *v1.CustomDomain) {
	t.Helper()
	tn := h.newTenant(t, prefix)
	h.newSite(t, tn, "www", v1.PhaseActive, 5)
	keepHost, goneHost := "keep."+tn.account.Name+".example", "gone."+tn.account.Name+".example"
	h.publish(t, tn, keepHost)
	h.publish(t, tn, goneHost)
	keep = h.newDomain(t, h.env.Client, tn, "keep", keepHost, "www", true)
	gone = h.newDomain(t, h.env.Client, tn, "gone", goneHost, "www", false)
	h.active(t, keep)
	h.active(t, gone)
	h.routedTo(t, gone, goneHost, "", "", keepHost)
	h.listenersAre(t, gone.Namespace, customdomain.HTTPListenerName(keep), customdomain.HTTPListenerName(gone))
	return keep, gone
}

// cleanedUp waits until gone's claim, route and listeners are gone, while
// keep keeps its own.
func cleanedUp(t *testing.T, keep, gone *v1.CustomDomain) {
	t.Helper()
	h.released(t, canonical(t, gone.Spec.Hostname))
	h.unrouted(t, gone)
	h.listenersAre(t, gone.Namespace, customdomain.HTTPListenerName(keep))
	if c, err := h.claim(canonical(t, keep.Spec.Hostname)); err != nil || c.Spec.CustomDomain != keep.Name {
		t.Fatalf("the other domain's claim: %+v (%v)", c, err)
	}
	h.routedTo(t, keep, canonical(t, keep.Spec.Hostname), "", "www", "")
}

// A CustomDomain whose Landlord finalizer was swapped for another's (by the
// provider: tenants may not) and that is deleted hangs Terminating; its
// hostname claim, route and listeners go anyway, and its status says what
// holds it.
func TestDomainDeletionWhateverTheFinalizers(t *testing.T) {
	keep, gone := routedPair(t, "swap")
	const hold = "example.com/hold"
	// Paused meanwhile, so that Landlord does not put its finalizer back
	// before the delete (as a tenant's swap-and-delete could race it).
	patchDomain(t, gone, fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"},"finalizers":[%q]}}`, v1.PausedAnnotation, hold))
	t.Cleanup(func() { patchDomain(t, gone, `{"metadata":{"finalizers":null}}`) })
	if err := h.env.Client.Delete(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	patchDomain(t, gone, fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, v1.PausedAnnotation))
	cleanedUp(t, keep, gone)
	h.domain(t, gone, func(cd *v1.CustomDomain) error {
		c := findCond(cd, v1.ConditionReady)
		if cd.DeletionTimestamp.IsZero() || !slices.Equal(cd.Finalizers, []string{hold}) ||
			c.Reason != v1.ReasonDeleting || !strings.Contains(c.Message, hold) {
			return fmt.Errorf("want the domain Terminating, held by %s and saying so; got finalizers %v, Ready %+v", hold, cd.Finalizers, c)
		}
		return nil
	})
}

// A CustomDomain deleted with no finalizer at all (paused by the provider,
// its finalizer removed, then deleted: it goes at once) leaves no claim,
// route or listener behind: the claim belongs to the Account, so only
// Landlord can release it.
func TestDomainDeletedWithoutFinalizerLeavesNothing(t *testing.T) {
	keep, gone := routedPair(t, "nofin")
	patchDomain(t, gone, fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"},"finalizers":null}}`, v1.PausedAnnotation))
	if err := h.env.Client.Delete(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, wait, func() error {
		if err := h.env.Client.Get(context.Background(), client.ObjectKeyFromObject(gone), &v1.CustomDomain{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("the domain is still there (%v)", err)
		}
		return nil
	})
	cleanedUp(t, keep, gone)
}
