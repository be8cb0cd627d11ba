package kernel

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/landlord-dev/landlord/internal/platform"
)

// A child in the manager's cache need not be the whole object: all the
// applier decides is whether the object still holds what Landlord applied.
// The API server records which fields Landlord's field manager owns
// (managedFields). Those fields, read from the live object, are what
// Landlord applied, unless somebody changed them since: a write by anyone
// else to a field Landlord owns takes the field from Landlord's manager,
// and a field removed leaves its set. So a hash of the live object's values
// at the fields Landlord owns equals the hash of the desired object exactly
// when the object holds it. The cache keeps that hash (OwnedDigest) in place
// of the spec; Apply compares it with DesiredDigest.

// DigestAnnotation holds, on a cached copy only, OwnedDigest of the object
// the API server has. It is never written to the API server: Landlord
// applies children from their desired state, never from a cached copy.
const DigestAnnotation = "hosting.landlord.dev/cached-digest"

// OwnedDigest is the hash of obj's values at the fields Landlord's apply
// owns (its managedFields entry), or false when Landlord owns none (an
// object it did not apply, or one whose managedFields were dropped).
func OwnedDigest(obj runtime.Object) (string, bool) {
	m, ok := obj.(interface {
		GetManagedFields() []metav1.ManagedFieldsEntry
	})
	if !ok {
		return "", false
	}
	var owned map[string]any
	for _, e := range m.GetManagedFields() {
		if e.Manager == platform.FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" && e.FieldsV1 != nil {
			if err := json.Unmarshal(e.FieldsV1.Raw, &owned); err != nil {
				return "", false
			}
			break
		}
	}
	if owned == nil {
		return "", false
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "", false
	}
	p, _ := project(u, owned).(map[string]any)
	sum, err := hashOf(comparable(p))
	if err != nil {
		return "", false
	}
	return sum, true
}

// DesiredDigest is the hash OwnedDigest gives an object that holds want (an
// apply patch from ApplyForm).
func DesiredDigest(want *unstructured.Unstructured) (string, error) {
	return hashOf(comparable(runtime.DeepCopyJSON(want.Object)))
}

// comparable drops from an object what no field set names (the kind and
// the name are the object's identity, not fields) and empty strings, so
// that a projection and an apply patch hash alike: a typed object reads an
// empty string and an absent one alike, and the API server returns an
// omitempty field Landlord sent empty (a ServiceAccount subject's apiGroup)
// as absent.
func comparable(m map[string]any) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	dropEmptyStrings(m)
	delete(m, "apiVersion")
	delete(m, "kind")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "name")
		delete(md, "namespace")
		if len(md) == 0 {
			delete(m, "metadata")
		}
	}
	return m
}

func dropEmptyStrings(v any) {
	switch val := v.(type) {
	case map[string]any:
		for k, x := range val {
			if x == "" {
				delete(val, k)
				continue
			}
			dropEmptyStrings(x)
		}
	case []any:
		for _, x := range val {
			dropEmptyStrings(x)
		}
	}
}

// project returns the parts of v that the field set node (the JSON of a
// managedFields entry's fieldsV1, or a node of it) names. A node with no
// children names a whole value: a leaf, an atomic list or struct, or a map
// owned as one.
func project(v any, node map[string]any) any {
	if len(node) == 0 {
		return v
	}
	switch val := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, child := range node {
			name, ok := strings.CutPrefix(k, "f:")
			if !ok {
				continue
			}
			if x, present := val[name]; present {
				sub, _ := child.(map[string]any)
				out[name] = project(x, sub)
			}
		}
		return out
	case []any:
		out := []any{}
		for i, item := range val {
			for k, child := range node {
				if listItemIs(k, i, item) {
					sub, _ := child.(map[string]any)
					out = append(out, projectItem(item, sub))
					break
				}
			}
		}
		return out
	}
	return v
}

// projectItem projects a list item: a node holding only "." owns the item
// as a whole (a set's value).
func projectItem(item any, node map[string]any) any {
	fields := 0
	for k := range node {
		if k != "." {
			fields++
		}
	}
	if fields == 0 {
		return item
	}
	return project(item, node)
}

// listItemIs reports whether the field set key k (k:{key fields},
// v:value or i:index) names item, the i-th of its list.
func listItemIs(k string, i int, item any) bool {
	switch {
	case strings.HasPrefix(k, "k:"):
		var keys map[string]any
		if err := json.Unmarshal([]byte(k[2:]), &keys); err != nil {
			return false
		}
		m, ok := item.(map[string]any)
		if !ok {
			return false
		}
		for field, want := range keys {
			if !sameJSON(m[field], want) {
				return false
			}
		}
		return true
	case strings.HasPrefix(k, "v:"):
		var want any
		if err := json.Unmarshal([]byte(k[2:]), &want); err != nil {
			return false
		}
		return sameJSON(item, want)
	case strings.HasPrefix(k, "i:"):
		n, err := strconv.Atoi(k[2:])
		return err == nil && n == i
	}
	return false
}

// sameJSON compares two values by their JSON (an int64 and the float64
// json.Unmarshal makes of it are the same number).
func sameJSON(a, b any) bool {
	x, err := json.Marshal(a)
	if err != nil {
		return false
	}
	y, err := json.Marshal(b)
	return err == nil && bytes.Equal(x, y)
}

// cachedDigest is the digest a cached copy carries in place of its spec.
func cachedDigest(obj interface{ GetAnnotations() map[string]string }) (string, bool) {
	d, ok := obj.GetAnnotations()[DigestAnnotation]
	return d, ok
}
