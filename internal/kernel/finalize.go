package kernel

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// Finalize is the deletion branch of a reconcile, for an object being
// deleted (its deletionTimestamp is set). cleanup removes what Landlord made
// for the object, found by what Landlord labelled (or named and owned) for
// it, and it runs whether or not Landlord's finalizer is still on the
// object: a finalizer someone removed, or swapped for another, must not leave
// access, claims or routes behind. Only once cleanup succeeded is Landlord's
// finalizer, if there, removed. A cleanup that fails is returned as a
// Deleting failure: the deferred status patch reports it on the object's
// Ready condition, and the reconcile is retried.
func Finalize(ctx context.Context, c client.Client, obj client.Object, cleanup func(context.Context) error) error {
	if err := cleanup(ctx); err != nil {
		return Fail(v1.ReasonDeleting, fmt.Errorf("the deletion cannot finish: %w", err))
	}
	return RemoveFinalizer(ctx, c, obj)
}

// OthersFinalizers are obj's finalizers other than Landlord's: what holds
// the object once Landlord's part of its deletion is done.
func OthersFinalizers(obj client.Object) []string {
	return slices.DeleteFunc(slices.Clone(obj.GetFinalizers()), func(f string) bool { return f == v1.Finalizer })
}

// SetDeletionStatus, for an object being deleted whose cleanup (Finalize)
// succeeded, sets Ready=False (Deleting) saying that Landlord's part is done
// and which finalizers of others still hold the object. It reports whether
// there is a status to write: false when no other finalizer holds the
// object (it is gone, or about to be).
func SetDeletionStatus(obj Object, made string) bool {
	others := OthersFinalizers(obj)
	if len(others) == 0 {
		return false
	}
	SetCondition(obj, v1.ConditionReady, false, v1.ReasonDeleting, fmt.Sprintf(
		"being deleted: Landlord removed %s; the deletion now waits for the finalizers %s, which are not Landlord's (whoever added them removes them)",
		made, strings.Join(others, ", ")))
	return true
}
