// Package rbacbind applies RoleBindings whose roleRef may change. A
// RoleBinding's roleRef is immutable, so moving a member to another role (or
// to the read-only role during a suspension) deletes the binding and applies
// it again.
package rbacbind

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
)

// identityLabels are the labels that say which Membership or Team (of which
// account) a binding is for.
var identityLabels = []string{hostingv1alpha1.MembershipLabel, hostingv1alpha1.TeamLabel}

// NotOurs is the error of Apply for a binding of that name that exists and
// is not labelled for the object rb is for.
type NotOurs struct{ Namespace, Name, For string }

func (e *NotOurs) Error() string {
	return fmt.Sprintf("the RoleBinding %s/%s exists and is not Landlord's for %s (its labels do not name it): Landlord leaves it alone and grants nothing there; delete or rename that binding",
		e.Namespace, e.Name, e.For)
}

// For reports whether the binding's labels name the object whose binding
// desired is: for a Membership's or a Team's binding, the same account and
// membership (or team) label values. Other bindings (the owner's) are not
// checked.
func For(live map[string]string, desired map[string]string) bool {
	checked := false
	for _, k := range identityLabels {
		if v, ok := desired[k]; ok {
			checked = true
			if live[k] != v {
				return false
			}
		}
	}
	return !checked || live[hostingv1alpha1.AccountLabel] == desired[hostingv1alpha1.AccountLabel]
}

// Apply server-side applies rb unless the binding c reads (Landlord's
// cache) already holds it; when the existing binding has another roleRef,
// it deletes that binding first. A binding of that name that exists and is
// not labelled for the Membership or Team rb is for is neither changed nor
// deleted: Apply returns NotOurs. (c is Landlord's cache, which holds only
// bindings labelled as Landlord's: one without that label, which only the
// provider can make, is not seen here.)
func Apply(ctx context.Context, c client.Client, rb *rbacv1ac.RoleBindingApplyConfiguration) error {
	live := &rbacv1.RoleBinding{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: *rb.Namespace, Name: *rb.Name}, live); err == nil {
		if !For(live.Labels, rb.Labels) {
			return &NotOurs{Namespace: *rb.Namespace, Name: *rb.Name, For: forWhat(rb.Labels)}
		}
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading RoleBinding %s/%s: %w", *rb.Namespace, *rb.Name, err)
	}
	_, err := kernel.Apply(ctx, c, nil, rb)
	if err == nil {
		return nil
	}
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "roleRef") {
		return fmt.Errorf("applying RoleBinding %s/%s: %w", *rb.Namespace, *rb.Name, err)
	}
	old := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: *rb.Namespace, Name: *rb.Name}}
	if err := c.Get(ctx, client.ObjectKeyFromObject(old), old); err != nil {
		return fmt.Errorf("reading RoleBinding %s/%s to change its role: %w", *rb.Namespace, *rb.Name, err)
	}
	if !For(old.Labels, rb.Labels) {
		return &NotOurs{Namespace: *rb.Namespace, Name: *rb.Name, For: forWhat(rb.Labels)}
	}
	if err := c.Delete(ctx, old, client.Preconditions{UID: &old.UID}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting RoleBinding %s/%s to change its role: %w", *rb.Namespace, *rb.Name, err)
	}
	if _, err := kernel.Apply(ctx, c, nil, rb); err != nil {
		return fmt.Errorf("re-creating RoleBinding %s/%s with role %s: %w", *rb.Namespace, *rb.Name, *rb.RoleRef.Name, err)
	}
	return nil
}

// forWhat names the object whose binding has the labels l.
func forWhat(l map[string]string) string {
	switch {
	case l[hostingv1alpha1.MembershipLabel] != "":
		return "membership " + l[hostingv1alpha1.MembershipLabel] + " of account " + l[hostingv1alpha1.AccountLabel]
	case l[hostingv1alpha1.TeamLabel] != "":
		return "team " + l[hostingv1alpha1.TeamLabel] + " of account " + l[hostingv1alpha1.AccountLabel]
	}
	return "account " + l[hostingv1alpha1.AccountLabel]
}

// Delete deletes exactly the binding rb as it was read (a UID
// precondition), if its labels name the Membership or Team whose labels
// are want: a binding re-created under that name meanwhile, Landlord's or
// not, and a binding not labelled for that object are left alone.
func Delete(ctx context.Context, c client.Client, rb *rbacv1.RoleBinding, want map[string]string) error {
	if !rb.DeletionTimestamp.IsZero() || !For(rb.Labels, want) {
		return nil
	}
	uid := rb.UID
	err := c.Delete(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: rb.Namespace, Name: rb.Name}},
		client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting RoleBinding %s/%s: %w", rb.Namespace, rb.Name, err)
	}
	return nil
}
