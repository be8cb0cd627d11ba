package customdomain

import (
	"context"
	"errors"
	"fmt"
	"slices"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// cleanupGone removes what Landlord made for the CustomDomain key, which no
// longer exists (it was deleted without Landlord's finalizer, or while
// Landlord was not running): its routes, certificate and slots (controlled
// by a CustomDomain of that name; the garbage collector would delete them
// too, but not before it runs), its listeners in the site's ListenerSet (by
// their names), and its hostname claim (a DomainClaim naming it: the claim is
// owned by the Account, so nothing else would release it). The API server
// confirms the domain is gone first, so a domain the cache has not seen yet
// loses nothing.
func (r *Reconciler) cleanupGone(ctx context.Context, key types.NamespacedName) error {
	err := r.APIReader.Get(ctx, key, &hostingv1alpha1.CustomDomain{})
	if err == nil {
		return nil // the cache is behind: the domain's own event follows
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading custom domain %s: %w", key, err)
	}
	gone := &hostingv1alpha1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	var errs []error
	if r.routesServed() {
		errs = append(errs, r.deleteControlledBy(ctx, r.routeReader(), emptyRoute(r.Config, gone), key.Name))
		if r.Config.RouteKind != platform.RouteIngress {
			errs = append(errs, r.deleteControlledBy(ctx, r.routeReader(), emptyRedirectRoute(gone), key.Name))
		}
	}
	if r.certManagerServed() {
		errs = append(errs, r.deleteControlledBy(ctx, r.Optional, emptyCertificate(gone), key.Name))
	}
	errs = append(errs, r.removeListenersNamed(ctx, gone), r.releaseSlotsOfGone(ctx, key), r.releaseClaimsOfGone(ctx, key))
	return errors.Join(errs...)
}

// deleteControlledBy deletes obj (its kind, namespace and name), read
// through reader (nil: the client), if a CustomDomain named owner controls
// it; exactly the object read (UID precondition).
func (r *Reconciler) deleteControlledBy(ctx context.Context, reader client.Reader, obj client.Object, owner string) error {
	if reader == nil {
		reader = r.Client
	}
	key := client.ObjectKeyFromObject(obj)
	if err := reader.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.Kind != "CustomDomain" || ref.Name != owner || !obj.GetDeletionTimestamp().IsZero() {
		return nil
	}
	uid := obj.GetUID()
	if err := r.Delete(ctx, obj, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting %T %s of the deleted custom domain %s: %w", obj, key, owner, err)
	}
	return nil
}

// releaseSlotsOfGone gives back the plan slots a CustomDomain of that name
// held (its route is gone or going: cleanupGone deleted it first).
func (r *Reconciler) releaseSlotsOfGone(ctx context.Context, key types.NamespacedName) error {
	list := &coordinationv1.LeaseList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(key.Namespace), client.MatchingLabels{
		hostingv1alpha1.ManagedByLabel: hostingv1alpha1.ManagedByValue,
	}); err != nil {
		return fmt.Errorf("listing the slots of %s: %w", key, err)
	}
	var errs []error
	for i := range list.Items {
		l := &list.Items[i]
		ref := metav1.GetControllerOf(l)
		if _, ok := slotIndex(l.Labels[hostingv1alpha1.SubscriptionLabel], l.Name); !ok || ref == nil || ref.Kind != "CustomDomain" ||
			ref.Name != key.Name || ptr.Deref(l.Spec.HolderIdentity, "") != key.Name {
			continue
		}
		ctrl.LoggerFrom(ctx).Info("releasing the slot of a deleted custom domain", "slot", l.Name)
		errs = append(errs, r.deleteSlot(ctx, l))
	}
	return errors.Join(errs...)
}

// releaseClaimsOfGone deletes the DomainClaims that name the CustomDomain
// key as their holder.
func (r *Reconciler) releaseClaimsOfGone(ctx context.Context, key types.NamespacedName) error {
	list := &hostingv1alpha1.DomainClaimList{}
	if err := r.List(ctx, list); err != nil {
		return fmt.Errorf("listing the hostname claims: %w", err)
	}
	var errs []error
	for i := range list.Items {
		c := &list.Items[i]
		if c.Spec.Namespace != key.Namespace || c.Spec.CustomDomain != key.Name || !c.DeletionTimestamp.IsZero() {
			continue
		}
		ctrl.LoggerFrom(ctx).Info("releasing the hostname of a deleted custom domain", "hostname", c.Name)
		errs = append(errs, r.deleteClaim(ctx, c))
	}
	return errors.Join(errs...)
}

// removeListenersNamed takes the listeners of the (deleted) domain gone out
// of its site's ListenerSet, by their names (the field manager that applied
// them carried the domain's UID, which is gone with it), and deletes the
// ListenerSet when they were its last. Both writes are conditional on the
// resourceVersion read; a conflict is retried on a fresh read.
func (r *Reconciler) removeListenersNamed(ctx context.Context, gone *hostingv1alpha1.CustomDomain) error {
	if !r.listenerSetsServed() {
		return nil
	}
	names := []gatewayv1.SectionName{gatewayv1.SectionName(HTTPListenerName(gone)), gatewayv1.SectionName(HTTPSListenerName(gone))}
	key := client.ObjectKey{Namespace: gone.Namespace, Name: ListenerSetName}
	var err error
	for range 5 {
		live := &gatewayv1.ListenerSet{}
		if err = r.APIReader.Get(ctx, key, live); err != nil {
			return client.IgnoreNotFound(err)
		}
		kept := slices.DeleteFunc(slices.Clone(live.Spec.Listeners), func(l gatewayv1.ListenerEntry) bool { return slices.Contains(names, l.Name) })
		switch {
		case len(kept) == len(live.Spec.Listeners) || !live.DeletionTimestamp.IsZero():
			return nil
		case len(kept) == 0:
			err = r.Delete(ctx, live, client.Preconditions{UID: &live.UID, ResourceVersion: &live.ResourceVersion})
		default:
			live.Spec.Listeners = kept
			err = r.Update(ctx, live)
		}
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) {
			break
		}
	}
	return fmt.Errorf("removing the listeners of the deleted custom domain %s from the ListenerSet %s: %w", gone.Name, ListenerSetName, err)
}
