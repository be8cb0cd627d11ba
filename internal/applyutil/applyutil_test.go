package applyutil

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

func TestHolds(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"x": "1", "kubernetes.io/metadata.name": "a"}}}
	var none *corev1.Namespace
	for _, tc := range []struct {
		name     string
		existing any
		desired  any
		want     bool
	}{
		{"absent", nil, corev1ac.Namespace("a"), false},
		{"nil pointer", none, corev1ac.Namespace("a"), false},
		{"same labels, server adds more", ns, corev1ac.Namespace("a").WithLabels(map[string]string{"x": "1"}), true},
		{"label value differs", ns, corev1ac.Namespace("a").WithLabels(map[string]string{"x": "2"}), false},
		{"label missing", ns, corev1ac.Namespace("a").WithLabels(map[string]string{"y": "1"}), false},
		{"owner reference missing", ns, corev1ac.Namespace("a").WithOwnerReferences(metav1ac.OwnerReference().WithName("o")), false},
		{"typed desired", ns, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, true},
	} {
		if got := Holds(tc.existing, tc.desired); got != tc.want {
			t.Errorf("%s: Holds = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Holds must not change an Unstructured desired object: the applier sends it
// as the apply patch afterwards.
func TestHoldsLeavesUnstructuredDesiredAlone(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "a", "creationTimestamp": nil},
	}}
	before := u.DeepCopy()
	if !Holds(ns, u) {
		t.Fatal("Holds = false, want true")
	}
	if !equality.Semantic.DeepEqual(before.Object, u.Object) {
		t.Errorf("Holds changed desired: %v, was %v", u.Object, before.Object)
	}
}
