package manager

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/landlord-dev/landlord/internal/kernel"
)

// lastApplied is kubectl's copy of what it last applied: as large as the
// object's spec, and never read by Landlord.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

var stripManagedFields = cache.TransformStripManagedFields()

// CacheTransform is the transform of every object the manager caches: it
// keeps what Landlord reads or compares and drops what it never does, so
// that the cache's memory grows with what is compared, not with what other
// controllers write. Kept: metadata (labels, annotations, owner references:
// the applier compares them with the applied-hash annotation), every spec
// (the applier checks each desired field against it, and the tenant objects'
// controllers read theirs; but see below) and the status fields read: Deployment replica
// counts and observedGeneration, claim phase, namespace phase, quota
// status.hard while it differs from spec.hard (a raised limit being enforced
// wakes the site). Dropped:
//   - managedFields;
//   - kubectl's last-applied-configuration annotation;
//   - ResourceQuota status.used (the quota controller rewrites it with every
//     pod, claim or Service in the namespace), and status.hard once it is
//     spec.hard (the quota objects were the largest in the cache);
//   - Deployment, PersistentVolumeClaim and Namespace status conditions;
//   - HTTPRoute and ListenerSet status (the Gateway implementation's report
//     per parent and per listener).
//
// The metadata strings objects repeat (namespace, label keys and values,
// annotation keys, owner references, finalizers) are shared between cached
// objects (internMeta).
//
// A child of a kind whose spec Landlord reads only through the applier
// (Deployment, Service, ResourceQuota, NetworkPolicy, LimitRange,
// ReferenceGrant, RoleBinding) and that Landlord applied keeps no spec at all
// (Deployment: but its replicas): in its place the digest of the fields
// Landlord's field manager owns (kernel.OwnedDigest, in
// kernel.DigestAnnotation), which the applier compares with the desired
// object's. Not HTTPRoutes: the API server fills defaults into the atomic
// lists Landlord owns whole, so their digest never matches (see
// kernel's TestOwnedDigestIsTheDesiredDigest).
//
// Landlord never writes a cached object back whole (no Update: children are
// applied, its own objects patched against their cached copy), so a dropped
// field is never erased in the API server. Objects of Landlord's own kinds
// keep their status: the status patch compares against it.
func CacheTransform(obj any) (any, error) {
	digest := digestOnly(obj)
	obj, err := stripManagedFields(obj)
	if err != nil {
		return obj, err
	}
	switch o := obj.(type) {
	case *corev1.ResourceQuota:
		o.Status.Used = nil
		// status.hard matters only while it differs from spec.hard (a limit
		// not yet enforced): the site's watch compares it between events,
		// and a quota that catches up still changes it (to none).
		if equality.Semantic.DeepEqual(o.Status.Hard, o.Spec.Hard) {
			o.Status.Hard = nil
		}
		if digest {
			o.Spec = corev1.ResourceQuotaSpec{}
		}
	case *appsv1.Deployment:
		o.Status.Conditions = nil
		if digest {
			// The site's readiness reads the replicas it asked for.
			o.Spec = appsv1.DeploymentSpec{Replicas: o.Spec.Replicas}
		}
	case *corev1.Service:
		if digest {
			o.Spec, o.Status = corev1.ServiceSpec{}, corev1.ServiceStatus{}
		}
	case *networkingv1.NetworkPolicy:
		if digest {
			o.Spec = networkingv1.NetworkPolicySpec{}
		}
	case *corev1.LimitRange:
		if digest {
			o.Spec = corev1.LimitRangeSpec{}
		}
	case *gatewayv1.ReferenceGrant:
		if digest {
			o.Spec = gatewayv1.ReferenceGrantSpec{}
		}
	case *rbacv1.RoleBinding:
		if digest {
			// Subjects are read from the API server, never from here.
			o.Subjects, o.RoleRef = nil, rbacv1.RoleRef{}
		}
	case *corev1.PersistentVolumeClaim:
		o.Status.Conditions = nil
	case *corev1.Namespace:
		o.Status.Conditions = nil
	case *gatewayv1.HTTPRoute:
		o.Status = gatewayv1.HTTPRouteStatus{}
	case *gatewayv1.ListenerSet:
		o.Status = gatewayv1.ListenerSetStatus{}
	}
	if m, ok := obj.(metav1.Object); ok {
		if a := m.GetAnnotations(); a != nil {
			delete(a, lastApplied)
		}
		internMeta(m)
	}
	return obj, nil
}

// digestOnly reports whether obj is a child of a kind Landlord only ever
// applies (it reads no field of its spec but through the applier) and that
// Landlord applied; if so it annotates obj with the digest of the fields
// Landlord owns (kernel.DigestAnnotation), which the applier compares in
// place of the spec the transform then drops. It must run before the
// managedFields it reads are stripped.
func digestOnly(obj any) bool {
	switch obj.(type) {
	case *appsv1.Deployment, *corev1.Service, *corev1.ResourceQuota, *networkingv1.NetworkPolicy, *corev1.LimitRange, *gatewayv1.ReferenceGrant,
		*rbacv1.RoleBinding:
	default:
		return false
	}
	o := obj.(client.Object)
	d, ok := kernel.OwnedDigest(o)
	if !ok {
		return false
	}
	a := o.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[kernel.DigestAnnotation] = d
	o.SetAnnotations(a)
	return true
}
