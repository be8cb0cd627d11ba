// Package applyutil decides whether a server-side apply would change
// anything: Landlord applies a child only when the object it has (from the
// cache) lacks a field of the desired object or holds another value, so that
// a reconcile of a converged object writes nothing.
package applyutil

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"
)

// Holds reports whether existing (a typed object, nil or a nil pointer for
// none) already holds every field of desired (a typed object or an apply
// configuration) with the same value. Maps may hold more keys; lists must
// match element by element. status, creationTimestamp and the top-level
// apiVersion and kind are ignored (cached objects do not carry the latter).
func Holds(existing, desired any) bool {
	if existing == nil || desired == nil {
		return false
	}
	if v := reflect.ValueOf(existing); v.Kind() == reflect.Pointer && v.IsNil() {
		return false
	}
	have, err := runtime.DefaultUnstructuredConverter.ToUnstructured(existing)
	if err != nil {
		return false
	}
	want, err := runtime.DefaultUnstructuredConverter.ToUnstructured(desired)
	if err != nil {
		return false
	}
	delete(want, "status")
	delete(want, "apiVersion")
	delete(want, "kind")
	if md, ok := want["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return contains(have, want)
}

func contains(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		for k, wv := range w {
			if !contains(h[k], wv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return len(w) == 0 && have == nil
		}
		for i := range w {
			if !contains(h[i], w[i]) {
				return false
			}
		}
		return true
	case nil:
		return true
	default:
		return reflect.DeepEqual(have, want)
	}
}
