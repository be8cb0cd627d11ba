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

// SiteOf is the one rule for which site a namespace is: the namespace carries
// the account and subscription labels, its name is that pair's site namespace
// (a namespace labelled by hand cannot pose as another site), the Account
// exists and the Subscription exists in the account namespace. It returns
// nil, nil, nil when the namespace is no existing site's.
func SiteOf(ctx context.Context, c client.Reader, cfg platform.Config, namespace string) (*v1.Account, *v1.Subscription, error) {
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("reading namespace %s: %w", namespace, err)
	}
	account, subscription := platform.SiteOfNamespace(ns.Labels)
	if account == "" || cfg.SiteNamespace(account, subscription) != namespace {
		return nil, nil, nil
	}
	acct := &v1.Account{}
	if err := c.Get(ctx, client.ObjectKey{Name: account}, acct); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("reading account %s: %w", account, err)
	}
	sub := &v1.Subscription{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: cfg.AccountNamespace(account), Name: subscription}, sub); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("reading subscription %s/%s: %w", cfg.AccountNamespace(account), subscription, err)
	}
	return acct, sub, nil
}

// NoSiteMessage says why a namespace is no site's, for a condition.
func NoSiteMessage(cfg platform.Config, namespace string) string {
	return fmt.Sprintf("namespace %s is no site's namespace: create this object in the namespace a Subscription reports in status.site.namespace (%s<account>--<subscription>)",
		namespace, cfg.NamespacePrefix)
}
