package platform

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Taint effects a toleration entry may name.
var tolerationEffects = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}

// ParseTolerations parses a comma-separated list of toleration entries,
// each written as kubectl taint writes a taint: key, key=value, key:effect
// or key=value:effect. An entry covers the tolerations of its key with that
// value (operator Equal) and effect; what it leaves out is free (key alone:
// any value, any effect). The key is required: a toleration of every key is
// never allowed. Duplicates are dropped; the order is kept.
func ParseTolerations(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		rest, effect, hasEffect := strings.Cut(part, ":")
		key, value, hasValue := strings.Cut(rest, "=")
		if errs := validation.IsQualifiedName(key); len(errs) > 0 {
			return nil, errInvalid(fmt.Sprintf("tenant-tolerations: %q: the key %q is not a valid taint key (%s); write key, key=value, key:effect or key=value:effect", part, key, strings.Join(errs, "; ")))
		}
		if hasValue {
			if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
				return nil, errInvalid(fmt.Sprintf("tenant-tolerations: %q: the value %q is not a valid taint value (%s)", part, value, strings.Join(errs, "; ")))
			}
		}
		if hasEffect && !slices.Contains(tolerationEffects, effect) {
			return nil, errInvalid(fmt.Sprintf("tenant-tolerations: %q: the effect %q is not one of %s", part, effect, strings.Join(tolerationEffects, ", ")))
		}
		if !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	return out, nil
}

// ParsePriorityClasses parses a comma-separated list of PriorityClass names.
func ParsePriorityClasses(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if errs := validation.IsDNS1123Subdomain(part); len(errs) > 0 {
			return nil, errInvalid(fmt.Sprintf("tenant-priority-classes: %q is not a PriorityClass name (%s)", part, strings.Join(errs, "; ")))
		}
		if !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	return out, nil
}
