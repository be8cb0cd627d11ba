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

	"github.com/landlord-dev/landlord/internal/kernel"
)

// Apply server-side applies rb unless the binding c reads (Landlord's
// cache) already holds it; when the existing binding has another roleRef,
// it deletes that binding first.
func Apply(ctx context.Context, c client.Client, rb *rbacv1ac.RoleBindingApplyConfiguration) error {
	_, err := kernel.Apply(ctx, c, nil, rb)
	if err == nil {
		return nil
	}
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "roleRef") {
		return fmt.Errorf("applying RoleBinding %s/%s: %w", *rb.Namespace, *rb.Name, err)
	}
	old := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: *rb.Namespace, Name: *rb.Name}}
	if err := c.Delete(ctx, old); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting RoleBinding %s/%s to change its role: %w", *rb.Namespace, *rb.Name, err)
	}
	if _, err := kernel.Apply(ctx, c, nil, rb); err != nil {
		return fmt.Errorf("re-creating RoleBinding %s/%s with role %s: %w", *rb.Namespace, *rb.Name, *rb.RoleRef.Name, err)
	}
	return nil
}
