package manager

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
)

func meta() metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: "x", Namespace: "ns",
		Labels:        map[string]string{hostingv1alpha1.ManagedByLabel: hostingv1alpha1.ManagedByValue},
		Annotations:   map[string]string{hostingv1alpha1.AppliedAnnotation: "abc", lastApplied: `{"big":"copy"}`},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}},
	}
}

// The transform drops what Landlord never reads and keeps every field it
// reads or compares (the applier's hash, labels, specs, the status fields
// the controllers use).
func TestCacheTransform(t *testing.T) {
	q := resource.MustParse("1")
	rq := &corev1.ResourceQuota{ObjectMeta: meta(),
		Spec:   corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: q}},
		Status: corev1.ResourceQuotaStatus{Hard: corev1.ResourceList{corev1.ResourcePods: q}, Used: corev1.ResourceList{corev1.ResourcePods: q}}}
	dep := &appsv1.Deployment{ObjectMeta: meta(),
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1))},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, UpdatedReplicas: 1, AvailableReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Message: "Deployment has minimum availability."}}}}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: meta(),
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Conditions: []corev1.PersistentVolumeClaimCondition{{Type: "Resizing"}}}}
	ns := &corev1.Namespace{ObjectMeta: meta(),
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating, Conditions: []corev1.NamespaceCondition{{Type: "NamespaceDeletionContentFailure"}}}}
	route := &gatewayv1.HTTPRoute{ObjectMeta: meta(),
		Spec:   gatewayv1.HTTPRouteSpec{Hostnames: []gatewayv1.Hostname{"www.example.com"}},
		Status: gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{{ControllerName: "gw"}}}}}
	sub := &hostingv1alpha1.Subscription{ObjectMeta: meta(), Status: hostingv1alpha1.SubscriptionStatus{Phase: hostingv1alpha1.PhaseActive}}

	for _, o := range []metav1.Object{rq, dep, pvc, ns, route, sub} {
		if _, err := CacheTransform(o); err != nil {
			t.Fatalf("%T: %v", o, err)
		}
		if o.GetManagedFields() != nil {
			t.Errorf("%T: managedFields kept", o)
		}
		if _, ok := o.GetAnnotations()[lastApplied]; ok {
			t.Errorf("%T: last-applied-configuration kept", o)
		}
		if o.GetAnnotations()[hostingv1alpha1.AppliedAnnotation] != "abc" || o.GetLabels()[hostingv1alpha1.ManagedByLabel] == "" {
			t.Errorf("%T: the applied hash or a label was dropped: %v %v", o, o.GetAnnotations(), o.GetLabels())
		}
	}
	if rq.Status.Used != nil || rq.Status.Hard != nil || len(rq.Spec.Hard) != 1 {
		t.Errorf("ResourceQuota: want status.used and status.hard (as spec.hard) dropped, spec.hard kept: %+v", rq)
	}
	// A limit not yet enforced: status.hard stays, and differs from the
	// enforced quota's (none), so the site's watch sees it catch up.
	two := resource.MustParse("2")
	lagging := &corev1.ResourceQuota{ObjectMeta: meta(),
		Spec:   corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: two}},
		Status: corev1.ResourceQuotaStatus{Hard: corev1.ResourceList{corev1.ResourcePods: q}}}
	if _, err := CacheTransform(lagging); err != nil {
		t.Fatal(err)
	}
	if len(lagging.Status.Hard) != 1 {
		t.Errorf("ResourceQuota: status.hard unlike spec.hard dropped: %+v", lagging.Status)
	}
	if dep.Status.Conditions != nil || dep.Status.ObservedGeneration != 2 || dep.Status.UpdatedReplicas != 1 ||
		dep.Status.AvailableReplicas != 1 || dep.Spec.Replicas == nil {
		t.Errorf("Deployment: want conditions dropped, spec and replica counts kept: %+v", dep)
	}
	if pvc.Status.Conditions != nil || pvc.Status.Phase != corev1.ClaimBound {
		t.Errorf("PersistentVolumeClaim: want conditions dropped, phase kept: %+v", pvc.Status)
	}
	if ns.Status.Conditions != nil || ns.Status.Phase != corev1.NamespaceTerminating {
		t.Errorf("Namespace: want conditions dropped, phase kept: %+v", ns.Status)
	}
	if route.Status.Parents != nil || len(route.Spec.Hostnames) != 1 {
		t.Errorf("HTTPRoute: want status dropped, spec kept: %+v", route)
	}
	if sub.Status.Phase != hostingv1alpha1.PhaseActive {
		t.Errorf("Subscription: status dropped: %+v", sub.Status)
	}
}

func ptr[T any](v T) *T { return &v }

// A child Landlord applied, of a kind only the applier reads, is cached as
// its metadata and the digest of the fields Landlord owns; one it did not
// apply keeps its spec.
func TestCacheTransformKeepsDigestsOfAppliedChildren(t *testing.T) {
	applied := func() metav1.ObjectMeta {
		m := meta()
		m.ManagedFields = []metav1.ManagedFieldsEntry{{
			Manager: platform.FieldManager, Operation: metav1.ManagedFieldsOperationApply,
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{}}},"f:spec":{"f:replicas":{},"f:hard":{"f:pods":{}}}}`)},
		}}
		return m
	}
	q := resource.MustParse("2")
	dep := &appsv1.Deployment{ObjectMeta: applied(), Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1)), MinReadySeconds: 5},
		Status: appsv1.DeploymentStatus{AvailableReplicas: 1}}
	rq := &corev1.ResourceQuota{ObjectMeta: applied(), Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: q}},
		Status: corev1.ResourceQuotaStatus{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}}}
	notApplied := &corev1.Service{ObjectMeta: meta(), Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1"}}

	wantDep, ok := kernel.OwnedDigest(dep.DeepCopy())
	if !ok {
		t.Fatal("no digest for a Deployment Landlord applied")
	}
	wantRQ, _ := kernel.OwnedDigest(rq.DeepCopy())
	for _, o := range []metav1.Object{dep, rq, notApplied} {
		if _, err := CacheTransform(o); err != nil {
			t.Fatalf("%T: %v", o, err)
		}
	}
	if got := dep.Annotations[kernel.DigestAnnotation]; got != wantDep {
		t.Errorf("Deployment digest %q, want %q", got, wantDep)
	}
	if dep.Spec.MinReadySeconds != 0 || dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 || dep.Status.AvailableReplicas != 1 {
		t.Errorf("Deployment: want the spec dropped but replicas, and the status kept: %+v", dep)
	}
	if got := rq.Annotations[kernel.DigestAnnotation]; got != wantRQ || rq.Spec.Hard != nil {
		t.Errorf("ResourceQuota: digest %q (want %q), spec %+v (want none)", got, wantRQ, rq.Spec)
	}
	// A limit not yet enforced is still seen (the site waits for it).
	if rq.Status.Hard.Pods().Value() != 1 {
		t.Errorf("ResourceQuota: status.hard %v dropped while it differs from spec.hard", rq.Status.Hard)
	}
	if _, ok := notApplied.Annotations[kernel.DigestAnnotation]; ok || notApplied.Spec.ClusterIP == "" {
		t.Errorf("a Service Landlord did not apply lost its spec or got a digest: %+v", notApplied)
	}
}
