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
	// Skip, without mutating want (for an Unstructured desired it is the
	// caller's own map), what the comparison ignores.
	trimmed := make(map[string]any, len(want))
	for k, v := range want {
		switch k {
		case "status", "apiVersion", "kind":
			continue
		case "metadata":
			if md, ok := v.(map[string]any); ok {
				m := make(map[string]any, len(md))
				for mk, mv := range md {
					if mk != "creationTimestamp" {
						m[mk] = mv
					}
				}
				v = m
			}
		}
		trimmed[k] = v
	}
	return contains(have, trimmed)
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
