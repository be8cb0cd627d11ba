package kernel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/applyutil"
	"github.com/landlord-dev/landlord/internal/platform"
)

// Apply makes the child desired (a typed object or an apply configuration,
// built by a pure function) hold, with server-side apply under Landlord's
// one field manager. It reads the live object from reader (the manager's
// cache; nil: c) and writes nothing when the live object already holds every
// desired field (the cache may keep only a digest of the fields Landlord
// owns: DigestAnnotation) and the hash of what Landlord last applied
// (AppliedAnnotation) is the desired one. When Landlord stops setting a
// field, the hash differs, the object is applied again, and server-side
// apply removes the field Landlord's manager owned. It returns the live
// object (as read, or as the API server returned it after the apply).
func Apply(ctx context.Context, c client.Client, reader client.Reader, desired any) (client.Object, error) {
	want, err := ApplyForm(c.Scheme(), desired)
	if err != nil {
		return nil, err
	}
	if reader == nil {
		reader = c
	}
	live, err := newFor(c.Scheme(), want)
	if err != nil {
		return nil, err
	}
	key := client.ObjectKeyFromObject(want)
	err = reader.Get(ctx, key, live)
	hash := want.GetAnnotations()[v1.AppliedAnnotation]
	found := err == nil
	switch {
	case found:
		if holds, err := holds(live, want); err != nil || holds {
			return live, err
		}
		if done := appliedAlready(live, hash); done != nil {
			// The cache is behind this very apply of Landlord's.
			return done, nil
		}
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("reading %s %s: %w", want.GetKind(), key, err)
	}
	if err := c.Patch(ctx, want, client.Apply, client.FieldOwner(platform.FieldManager), client.ForceOwnership); err != nil {
		return nil, fmt.Errorf("applying %s %s: %w", want.GetKind(), key, err)
	}
	if found {
		applied(live, want.DeepCopy(), hash)
	}
	return want, nil
}

// holds reports whether live, from reader, holds want: by the digest a
// cached copy carries in place of its spec (DigestAnnotation), or field by
// field for a whole object.
func holds(live client.Object, want *unstructured.Unstructured) (bool, error) {
	if d, ok := cachedDigest(live); ok {
		w, err := DesiredDigest(want)
		return err == nil && d == w, err
	}
	return applyutil.Holds(live, want), nil
}

// ApplyForm is desired as the apply patch Landlord sends: apiVersion and
// kind set, no status, no null timestamps, and AppliedAnnotation holding the
// hash of the rest.
func ApplyForm(scheme *runtime.Scheme, desired any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(desired)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", desired, err)
	}
	u := &unstructured.Unstructured{Object: m}
	if u.GetKind() == "" {
		obj, ok := desired.(runtime.Object)
		if !ok {
			return nil, fmt.Errorf("%T names no kind", desired)
		}
		gvk, err := apiutil.GVKForObject(obj, scheme)
		if err != nil {
			return nil, err
		}
		u.SetGroupVersionKind(gvk)
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(m, "spec", "template", "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(m, "spec", "jobTemplate", "spec", "template", "metadata", "creationTimestamp")
	annotations := u.GetAnnotations()
	delete(annotations, v1.AppliedAnnotation)
	if len(annotations) == 0 {
		annotations = nil // no annotations and an empty map hash alike
	}
	u.SetAnnotations(annotations)
	sum, err := hashOf(m)
	if err != nil {
		return nil, err
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[v1.AppliedAnnotation] = sum
	u.SetAnnotations(annotations)
	return u, nil
}

// hashOf is a short, stable hash of an apply patch (encoding/json sorts map
// keys, so equal patches hash equally).
func hashOf(m map[string]any) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("hashing the apply patch: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

// newFor is an empty object to read want's kind into: typed when the scheme
// knows the kind (so reads hit the manager's typed cache), unstructured
// otherwise (cert-manager's Certificate).
func newFor(scheme *runtime.Scheme, want *unstructured.Unstructured) (client.Object, error) {
	gvk := want.GroupVersionKind()
	if scheme.Recognizes(gvk) {
		obj, err := scheme.New(gvk)
		if err != nil {
			return nil, err
		}
		return obj.(client.Object), nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// Delete deletes obj (its kind, namespace and name) if the reader (nil: c)
// shows it, with a UID precondition so that an object re-created meanwhile
// under the same name is never deleted by mistake. It reports whether it
// sent a delete.
func Delete(ctx context.Context, c client.Client, reader client.Reader, obj client.Object, opts ...client.DeleteOption) (bool, error) {
	if reader == nil {
		reader = c
	}
	key := client.ObjectKeyFromObject(obj)
	if err := reader.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return false, nil
	}
	uid := obj.GetUID()
	opts = append([]client.DeleteOption{client.Preconditions{UID: &uid}, client.PropagationPolicy("Background")}, opts...)
	if err := c.Delete(ctx, obj, opts...); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return false, nil
		}
		return false, fmt.Errorf("deleting %T %s: %w", obj, key, err)
	}
	return true, nil
}
