package kernel

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// AccountOf is the one rule for which Account a namespace belongs to: the
// namespace carries the account label naming an Account, its name is that
// Account's namespace (so a namespace labelled by hand cannot pose as
// another account's), and the Account exists. It returns nil, nil when the
// namespace belongs to no Account; whether a deleting Account still counts
// is the caller's decision.
func AccountOf(ctx context.Context, c client.Reader, cfg platform.Config, namespace string) (*v1.Account, error) {
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading namespace %s: %w", namespace, err)
	}
	name := platform.AccountOfNamespace(ns.Labels)
	if name == "" || cfg.AccountNamespace(name) != namespace {
		return nil, nil
	}
	acct := &v1.Account{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, acct); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading account %s: %w", name, err)
	}
	return acct, nil
}

// NoAccountMessage says why a namespace belongs to no Account, for a
// condition.
func NoAccountMessage(cfg platform.Config, namespace string) string {
	return fmt.Sprintf("namespace %s belongs to no Account: it must be an Account's namespace (%s<account>, labelled %s=<account>)",
		namespace, cfg.NamespacePrefix, v1.AccountLabel)
}
