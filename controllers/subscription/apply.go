package subscription

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/landlord-dev/landlord/internal/kernel"
)

// get reads obj (from the cache); found is false when it does not exist.
func (r *Reconciler) get(ctx context.Context, key client.ObjectKey, obj client.Object) (bool, error) {
	return kernel.Get(ctx, r.readerFor(obj), key, obj)
}

// apply applies desired through the kernel (writes only when it differs).
func (r *Reconciler) apply(ctx context.Context, desired client.Object) error {
	_, err := kernel.Apply(ctx, r.Client, r.readerFor(desired), desired)
	return err
}

// remove deletes obj if it exists (UID precondition).
func (r *Reconciler) remove(ctx context.Context, obj client.Object) error {
	_, err := kernel.Delete(ctx, r.Client, r.readerFor(obj), obj)
	return err
}

// readerFor is where obj's kind is read from: the Gateway API kinds, which
// may be installed after Landlord starts, live in a cache of their own.
func (r *Reconciler) readerFor(obj client.Object) client.Reader {
	switch obj.(type) {
	case *gatewayv1.HTTPRoute, *gatewayv1.ReferenceGrant:
		if r.Optional != nil {
			return r.Optional
		}
	}
	return r.Client
}
