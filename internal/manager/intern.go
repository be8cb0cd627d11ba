package manager

import (
	"maps"
	"slices"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// maxInterned bounds the interner: when it holds this many strings (or
// label sets) it starts again empty, so the strings of deleted tenants are
// not kept forever. Objects already cached keep the copies they share. A
// tenant brings a handful of new strings (its namespaces, account name,
// owners' UIDs), so 10,000 tenants fit; each entry costs the map ~40 bytes.
const maxInterned = 1 << 18

// interner keeps one copy of each string the cached objects' metadata
// repeat, and one copy of each set of labels. The decoder gives every object
// its own copy of each label key and value, annotation key, namespace and
// owner reference, and its own label map; one tenant's objects repeat its
// namespace, its account's name and its owner's UID, the objects of one
// account or site carry the same labels, and every object repeats the same
// few keys.
type interner struct {
	mu      sync.Mutex
	strings map[string]string
	// labelSets holds label maps by their content (labelSetKey). A shared map
	// is never written: the informers hand their objects out read-only and
	// the cache's readers get deep copies.
	labelSets map[string]map[string]string
}

func (in *interner) get(s string) string {
	if s == "" {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if c, ok := in.strings[s]; ok {
		return c
	}
	if in.strings == nil || len(in.strings) >= maxInterned {
		in.strings = make(map[string]string)
	}
	in.strings[s] = s
	return s
}

// labels returns the shared map with l's content, its strings interned.
func (in *interner) labels(l map[string]string) map[string]string {
	key := labelSetKey(l)
	in.mu.Lock()
	shared, ok := in.labelSets[key]
	in.mu.Unlock()
	if ok {
		return shared
	}
	m := make(map[string]string, len(l))
	for k, v := range l {
		m[in.get(k)] = in.get(v)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.labelSets == nil || len(in.labelSets) >= maxInterned {
		in.labelSets = make(map[string]map[string]string)
	}
	in.labelSets[key] = m
	return m
}

// labelSetKey is l's content in one string, the same for equal maps.
func labelSetKey(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(l[k])
		b.WriteByte(0)
	}
	return b.String()
}

var metaStrings interner

// internMeta points o's repeated metadata strings at the interner's copies.
// Name, UID and resourceVersion are the object's own and are left alone;
// annotation values are left alone too (the applied-hash digests are
// per object).
func internMeta(o metav1.Object) {
	o.SetNamespace(metaStrings.get(o.GetNamespace()))
	if l := o.GetLabels(); len(l) > 0 {
		o.SetLabels(metaStrings.labels(l))
	}
	if a := o.GetAnnotations(); len(a) > 0 {
		m := make(map[string]string, len(a))
		for k, v := range a {
			m[metaStrings.get(k)] = v
		}
		o.SetAnnotations(m)
	}
	// GetOwnerReferences and GetFinalizers return the object's own slices.
	refs := o.GetOwnerReferences()
	for i := range refs {
		r := &refs[i]
		r.APIVersion = metaStrings.get(r.APIVersion)
		r.Kind = metaStrings.get(r.Kind)
		r.Name = metaStrings.get(r.Name)
		r.UID = types.UID(metaStrings.get(string(r.UID)))
	}
	fins := o.GetFinalizers()
	for i := range fins {
		fins[i] = metaStrings.get(fins[i])
	}
}
