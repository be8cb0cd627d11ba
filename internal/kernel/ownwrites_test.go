package kernel

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

func TestBehindUntilTheCacheShowsTheWrite(t *testing.T) {
	obj := func(rv string) *v1.Account {
		return &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: "behind", UID: types.UID("u1"), ResourceVersion: rv}}
	}
	if Behind(obj("1")) {
		t.Fatal("behind with no write recorded")
	}
	// A finalizer patch 1 -> 2, then a status patch 2 -> 3.
	Wrote(obj("2"), "1")
	Wrote(obj("3"), "2")
	for _, rv := range []string{"1", "2"} {
		if !Behind(obj(rv)) {
			t.Fatalf("resourceVersion %s predates Landlord's write but is not behind", rv)
		}
	}
	other := obj("1")
	other.UID = "u2" // re-created under the same name
	if Behind(other) {
		t.Fatal("another object of the same name is behind")
	}
	Wrote(obj("3"), "2")
	if Behind(obj("4")) {
		t.Fatal("a newer object is behind")
	}
	if Behind(obj("2")) {
		t.Fatal("the record outlived the cache catching up")
	}
	// A write that changed nothing has no watch event to wait for.
	Wrote(obj("5"), "5")
	if Behind(obj("5")) {
		t.Fatal("behind after a write that changed nothing")
	}
}

func TestAppliedAlready(t *testing.T) {
	live := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cm", UID: "u", ResourceVersion: "7"}}
	result := live.DeepCopy()
	result.ResourceVersion = "8"
	applied(live, result, "h1")
	if appliedAlready(live, "h2") != nil {
		t.Fatal("another desired state counts as applied")
	}
	applied(live, result, "h1")
	got := appliedAlready(live, "h1")
	if got == nil || got.GetResourceVersion() != "8" {
		t.Fatalf("the cache is behind the apply, got %v", got)
	}
	if appliedAlready(result, "h1") != nil {
		t.Fatal("the record outlived the cache catching up")
	}
	// A create (no live object) is never recorded.
	applied(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "new"}}, result, "h1")
	if appliedAlready(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "new"}}, "h1") != nil {
		t.Fatal("an absent object is answered for")
	}
}
