package manager

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// decoded is an object as the decoder gives it: every string its own copy.
func decoded(name string) *networkingv1.NetworkPolicy {
	c := strings.Clone
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: c("acct-a"), UID: types.UID(c("uid-" + name)),
		Labels:      map[string]string{c(hostingv1alpha1.ManagedByLabel): c(hostingv1alpha1.ManagedByValue), c(hostingv1alpha1.AccountLabel): c("a")},
		Annotations: map[string]string{c(hostingv1alpha1.AppliedAnnotation): c("hash-" + name)},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: c("hosting.landlord.dev/v1alpha1"), Kind: c("Account"),
			Name: c("a"), UID: types.UID(c("uid-a"))}},
		Finalizers: []string{c("example.com/keep")},
	}}
}

func same(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

// Two cached objects of one tenant share one copy of each metadata string
// they repeat, and keep their values.
func TestCacheTransformSharesRepeatedMetadata(t *testing.T) {
	one, two := decoded("one"), decoded("two")
	for _, o := range []*networkingv1.NetworkPolicy{one, two} {
		if _, err := CacheTransform(o); err != nil {
			t.Fatal(err)
		}
	}
	if want := decoded("two"); two.Namespace != want.Namespace || two.Labels[hostingv1alpha1.AccountLabel] != "a" ||
		two.Annotations[hostingv1alpha1.AppliedAnnotation] != "hash-two" || two.OwnerReferences[0] != want.OwnerReferences[0] ||
		two.Finalizers[0] != "example.com/keep" || two.UID != "uid-two" {
		t.Fatalf("interning changed the metadata: %+v", two.ObjectMeta)
	}
	shared := map[string][2]string{
		"namespace":             {one.Namespace, two.Namespace},
		"account label value":   {one.Labels[hostingv1alpha1.AccountLabel], two.Labels[hostingv1alpha1.AccountLabel]},
		"owner reference UID":   {string(one.OwnerReferences[0].UID), string(two.OwnerReferences[0].UID)},
		"owner reference kind":  {one.OwnerReferences[0].Kind, two.OwnerReferences[0].Kind},
		"owner reference name":  {one.OwnerReferences[0].Name, two.OwnerReferences[0].Name},
		"owner reference group": {one.OwnerReferences[0].APIVersion, two.OwnerReferences[0].APIVersion},
		"finalizer":             {one.Finalizers[0], two.Finalizers[0]},
	}
	for what, s := range shared {
		if !same(s[0], s[1]) {
			t.Errorf("%s: two copies", what)
		}
	}
	if reflect.ValueOf(one.Labels).UnsafePointer() != reflect.ValueOf(two.Labels).UnsafePointer() {
		t.Error("equal labels: two maps")
	}
	other := decoded("three")
	other.Labels["extra"] = "x"
	if _, err := CacheTransform(other); err != nil {
		t.Fatal(err)
	}
	if other.Labels["extra"] != "x" || len(other.Labels) != 3 || len(one.Labels) != 2 {
		t.Errorf("different labels share a map: %v and %v", other.Labels, one.Labels)
	}
	for k := range one.Labels {
		for k2 := range two.Labels {
			if k == k2 && !same(k, k2) {
				t.Errorf("label key %s: two copies", k)
			}
		}
	}
}

// The interner starts again empty when full: it never holds more than
// maxInterned strings.
func TestInternerIsBounded(t *testing.T) {
	var in interner
	for i := range maxInterned + 10 {
		in.get(strconv.Itoa(i))
	}
	if n := len(in.strings); n > maxInterned || n == 0 {
		t.Fatalf("the interner holds %d strings, want 1..%d", n, maxInterned)
	}
}

// The informers transform at once, one goroutine per kind: objects
// transformed at the same instant keep their values and share one copy.
// `make test` runs it under the race detector, which fails it if the
// interner's maps are touched without its lock.
func TestCacheTransformConcurrently(t *testing.T) {
	const goroutines, each = 16, 200
	out := make([][]*networkingv1.NetworkPolicy, goroutines)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		out[g] = make([]*networkingv1.NetworkPolicy, each)
		for i := range each {
			out[g][i] = decoded(strconv.Itoa(g*each + i))
		}
		wg.Go(func() {
			<-start
			for _, o := range out[g] {
				if _, err := CacheTransform(o); err != nil {
					t.Error(err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	first := out[0][0]
	for _, objs := range out {
		for _, o := range objs {
			if o.Namespace != "acct-a" || o.Labels[hostingv1alpha1.AccountLabel] != "a" {
				t.Fatalf("metadata changed: %+v", o.ObjectMeta)
			}
		}
	}
	// The last object of each goroutine was transformed after the first
	// set was stored: it shares the stored copy.
	for g := range goroutines {
		o := out[g][each-1]
		if !same(o.Namespace, first.Namespace) && len(metaStrings.strings) < maxInterned {
			t.Errorf("goroutine %d: its namespace is another copy", g)
		}
	}
}
