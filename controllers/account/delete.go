package account

import (
	"context"
	"fmt"
	corev1 "k8s.io/api/core/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/index"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
)

// reconcileDelete runs a confirmed deletion (admission refuses one while
// spec.deletionProtection is true): it deletes the account namespace and the
// account's site namespaces and waits until they are gone, releases the
// account's DomainClaims, then removes the finalizer. A namespace the
// account does not own is left alone.
func (r *Reconciler) reconcileDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	acct := s.account
	if !controllerutil.ContainsFinalizer(acct, hostingv1alpha1.Finalizer) {
		return ctrl.Result{}, nil
	}
	namespaces, err := r.namespacesOf(ctx, acct)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(namespaces) > 0 {
		s.nsState = nsTerminating
		for _, ns := range namespaces {
			if !ns.DeletionTimestamp.IsZero() {
				continue
			}
			if err := r.Delete(ctx, ns, client.PropagationPolicy("Background")); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, fmt.Errorf("deleting namespace %s of account %s: %w", ns.Name, acct.Name, err)
			}
			r.Recorder.Eventf(acct, nil, "Normal", "DeletingNamespace", "Delete",
				"deleting namespace %s and everything in it", ns.Name)
		}
		return ctrl.Result{RequeueAfter: terminatingRetry}, nil
	}
	if err := r.releaseDomainClaims(ctx, acct); err != nil {
		return ctrl.Result{}, err
	}
	if err := kernel.RemoveFinalizer(ctx, r.Client, acct); err != nil {
		return ctrl.Result{}, err
	}
	s.gone = true
	return ctrl.Result{}, nil
}

// namespacesOf are the namespaces a deletion of acct removes: its account
// namespace (when it owns it) and its site namespaces (named and labelled
// for the account and one of its sites).
func (r *Reconciler) namespacesOf(ctx context.Context, acct *hostingv1alpha1.Account) ([]*corev1.Namespace, error) {
	var out []*corev1.Namespace
	ns, found, err := r.getNamespace(ctx, r.Config.AccountNamespace(acct.Name))
	if err != nil {
		return nil, err
	}
	if found && ownsNamespace(acct, ns) {
		out = append(out, ns)
	}
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list, index.NamespacesOf(acct.Name)); err != nil {
		return nil, fmt.Errorf("listing the site namespaces of account %s: %w", acct.Name, err)
	}
	for i := range list.Items {
		site := &list.Items[i]
		account, sub := platform.SiteOfNamespace(site.Labels)
		if account == acct.Name && site.Name == r.Config.SiteNamespace(account, sub) {
			out = append(out, site)
		}
	}
	return out, nil
}

// releaseDomainClaims deletes every DomainClaim held by the account.
func (r *Reconciler) releaseDomainClaims(ctx context.Context, acct *hostingv1alpha1.Account) error {
	claims := &hostingv1alpha1.DomainClaimList{}
	if err := r.List(ctx, claims); err != nil {
		return fmt.Errorf("listing domain claims of account %s: %w", acct.Name, err)
	}
	for i := range claims.Items {
		c := &claims.Items[i]
		if c.Spec.Account != acct.Name {
			continue
		}
		// The UID precondition: a claim another account took meanwhile under
		// the same name (the hostname) is not released by mistake.
		if err := r.Delete(ctx, c, client.Preconditions{UID: &c.UID}); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("releasing domain claim %s of account %s: %w", c.Name, acct.Name, err)
		}
	}
	return nil
}
