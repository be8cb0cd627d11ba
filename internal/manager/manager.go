// Package manager assembles Landlord's controller manager: the cache (only
// what Landlord labels, without managedFields) and the controllers. The
// manager binary and the integration tests share it, so tests run what ships.
package manager

import (
	"fmt"

	"github.com/landlord-dev/landlord/controllers/subscription"
	"github.com/landlord-dev/landlord/internal/clock"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// ManagedSelector selects the objects Landlord creates.
var ManagedSelector = labels.SelectorFromSet(labels.Set{hostingv1alpha1.ManagedByLabel: hostingv1alpha1.ManagedByValue})

// Options are the manager options every Landlord manager uses: a cache that
// holds only Landlord-labelled built-in objects, and never managedFields.
func Options(scheme *runtime.Scheme, _ platform.Config) ctrl.Options {
	managed := cache.ByObject{Label: ManagedSelector}
	return ctrl.Options{
		Scheme: scheme,
		Cache: cache.Options{
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&corev1.Namespace{}:             managed,
				&corev1.Service{}:               managed,
				&corev1.PersistentVolumeClaim{}: managed,
				&corev1.ResourceQuota{}:         managed,
				&corev1.LimitRange{}:            managed,
				&appsv1.Deployment{}:            managed,
				&networkingv1.NetworkPolicy{}:   managed,
				&networkingv1.Ingress{}:         managed,
				&rbacv1.RoleBinding{}:           managed,
				&gatewayv1.HTTPRoute{}:          managed,
				&gatewayv1.ReferenceGrant{}:     managed,
			},
		},
		Client: client.Options{
			Cache: &client.CacheOptions{
				// Landlord never reads these through the cache: no accidental
				// cluster-wide informer of Secrets or Pods.
				DisableFor: []client.Object{&corev1.Secret{}, &corev1.Pod{}, &corev1.ConfigMap{}},
			},
		},
	}
}

// SetupControllers registers every Landlord controller with mgr.
func SetupControllers(mgr ctrl.Manager, cfg platform.Config, clk clock.Clock) error {
	_ = hostingv1alpha1.GroupVersion
	if err := (&subscription.Reconciler{Client: mgr.GetClient(), Config: cfg, Clock: clk}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the subscription controller: %w", err)
	}
	return nil
}
