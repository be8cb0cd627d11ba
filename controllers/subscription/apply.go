package subscription

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/landlord-dev/landlord/internal/applyutil"
)

// get reads obj (from the cache); found is false when it does not exist.
func (r *Reconciler) get(ctx context.Context, key client.ObjectKey, obj client.Object) (found bool, err error) {
	if err := r.Client.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	return true, nil
}

// apply server-side applies desired, the full object, with the controller's
// field manager, unless existing (nil: absent) already holds every field of
// desired.
func (r *Reconciler) apply(ctx context.Context, desired, existing client.Object) error {
	if existing != nil && applyutil.Holds(existing, desired) {
		return nil
	}
	want, err := applyForm(desired)
	if err != nil {
		return err
	}
	if err := r.Client.Patch(ctx, want, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s/%s: %w", want.GetKind(), want.GetNamespace(), want.GetName(), err)
	}
	return nil
}

// applyForm is desired as an apply patch: no status, no null timestamps.
func applyForm(desired client.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(desired)
	if err != nil {
		return nil, fmt.Errorf("converting %s: %w", desired.GetName(), err)
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(m, "spec", "template", "metadata", "creationTimestamp")
	return &unstructured.Unstructured{Object: m}, nil
}

// remove deletes obj if it exists (read from the cache first).
func (r *Reconciler) remove(ctx context.Context, obj client.Object) error {
	found, err := r.get(ctx, client.ObjectKeyFromObject(obj), obj)
	if err != nil || !found || !obj.GetDeletionTimestamp().IsZero() {
		return err
	}
	if err := r.Client.Delete(ctx, obj, client.PropagationPolicy("Background")); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}
