package subscription

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
)

// Landlord never adopts an object it did not make under one of its names.
// A tenant who can write in a site namespace before the site's objects exist
// (a site that waited for its plan, or whose route waited for the Gateway
// API) could create a Deployment, Service, claim or route under the site's
// name; server-side apply would then merge Landlord's fields into the
// tenant's object and keep the tenant's own (an extra container, a priority
// class). Such an object is reported (ReasonSiteObjectTaken) and the site
// is not applied until it is gone; Landlord deletes nothing of the tenant's
// (a claim holds data).

// takenRetry is how often a site whose names are taken is looked at again:
// the cache holds only Landlord's objects, so the deletion of a tenant's
// object under a site name is no event for the Subscription.
const takenRetry = 10 * time.Second

// siteObject is one of the site's objects, under its name in the site namespace.
type siteObject struct {
	kind string
	gvk  schema.GroupVersionKind
	obj  client.Object // typed, for the cache
}

// siteObjects are the objects the site applies under names of its own.
func (r *Reconciler) siteObjects(s *scope) []siteObject {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: s.siteNS, Name: name} }
	name := platform.SiteName(s.sub.Name)
	out := []siteObject{
		{"Deployment", appsv1.SchemeGroupVersion.WithKind("Deployment"), &appsv1.Deployment{ObjectMeta: meta(name)}},
		{"Service", corev1.SchemeGroupVersion.WithKind("Service"), &corev1.Service{ObjectMeta: meta(name)}},
		{"PersistentVolumeClaim", corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"),
			&corev1.PersistentVolumeClaim{ObjectMeta: meta(platform.SiteVolumeName(s.sub.Name))}},
	}
	switch {
	case r.Config.RouteKind == platform.RouteIngress:
		out = append(out, siteObject{"Ingress", networkingv1.SchemeGroupVersion.WithKind("Ingress"), &networkingv1.Ingress{ObjectMeta: meta(name)}})
	case r.routesServed():
		out = append(out, siteObject{"HTTPRoute", gatewayv1.SchemeGroupVersion.WithKind("HTTPRoute"), &gatewayv1.HTTPRoute{ObjectMeta: meta(name)}})
	}
	return out
}

// takenSiteObjects names the site's objects that exist and are not
// Landlord's for this site. The cache holds only objects labelled
// managed-by: landlord (which tenants may not set: config/admission), so an
// object it does not have is looked up on the API server, by its metadata
// only; once Landlord's objects exist this costs nothing.
func (r *Reconciler) takenSiteObjects(ctx context.Context, s *scope) ([]string, error) {
	var taken []string
	for _, o := range r.siteObjects(s) {
		key := client.ObjectKeyFromObject(o.obj)
		found, err := r.get(ctx, key, o.obj)
		if err != nil {
			return nil, err
		}
		labels := o.obj.GetLabels()
		if !found {
			if r.APIReader == nil {
				continue
			}
			m := &metav1.PartialObjectMetadata{}
			m.SetGroupVersionKind(o.gvk)
			if found, err = kernel.Get(ctx, r.APIReader, key, m); err != nil {
				return nil, err
			}
			labels = m.Labels
		}
		if found && !landlordsFor(labels, s.accountName, s.sub.Name) {
			taken = append(taken, o.kind+" "+key.Name)
		}
	}
	return taken, nil
}

// landlordsFor: labels are those Landlord puts on the objects of this site.
func landlordsFor(labels map[string]string, account, subscription string) bool {
	return labels[v1.ManagedByLabel] == v1.ManagedByValue &&
		labels[v1.AccountLabel] == account && labels[v1.SubscriptionLabel] == subscription
}

// takenMessage says what is in the way and what to do.
func takenMessage(siteNS, account, subscription string, taken []string) string {
	verb, them := "was", "it"
	if len(taken) > 1 {
		verb, them = "were", "them"
	}
	return fmt.Sprintf("%s in namespace %s %s not made by Landlord for this site (Landlord's carry %s=%s, %s=%s, %s=%s); "+
		"Landlord does not adopt, change or delete %s: delete or rename %s and the site is created",
		strings.Join(taken, ", "), siteNS, verb,
		v1.ManagedByLabel, v1.ManagedByValue, v1.AccountLabel, account, v1.SubscriptionLabel, subscription, them, them)
}
