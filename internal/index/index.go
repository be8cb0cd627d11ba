// Package index holds the cache field indexes the controllers share.
//
// A label selector on a cached List is a scan of every cached object of the
// kind; the namespaces of an account were listed that way on every Account
// event and every Membership reconcile, and a Membership's bindings among
// every RoleBinding of the cluster on each of its reconciles, a cost that grows with the number of
// tenants (make bench BENCH_MODE=tenancy's profile at 2,000 Accounts). An
// index answers from the account's own entries.
package index

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// NamespaceAccount indexes cached namespaces by their account label
// (hosting.landlord.dev/account): the account namespace and the site
// namespaces of an account.
const NamespaceAccount = "landlord.namespace.account"

// RoleBindingMembership indexes cached RoleBindings by their account and
// membership labels, "<account>/<membership label value>": a Membership's
// bindings in its account namespace and in the account's site namespaces.
const RoleBindingMembership = "landlord.rolebinding.membership"

// Register adds the indexes to the manager's cache; call it once, before the
// controllers start.
func Register(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &corev1.Namespace{}, NamespaceAccount, func(o client.Object) []string {
		if a := o.GetLabels()[hostingv1alpha1.AccountLabel]; a != "" {
			return []string{a}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing namespaces by account: %w", err)
	}
	if err := indexer.IndexField(ctx, &rbacv1.RoleBinding{}, RoleBindingMembership, func(o client.Object) []string {
		l := o.GetLabels()
		if a, m := l[hostingv1alpha1.AccountLabel], l[hostingv1alpha1.MembershipLabel]; a != "" && m != "" {
			return []string{a + "/" + m}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing role bindings by membership: %w", err)
	}
	return nil
}

// BindingsOf selects, in a List of the cache, the RoleBindings labelled for
// account and the membership label value membership.
func BindingsOf(account, membership string) client.MatchingFields {
	return client.MatchingFields{RoleBindingMembership: account + "/" + membership}
}

// NamespacesOf selects, in a List of the cache, the namespaces labelled for
// account (as client.MatchingLabels{AccountLabel: account} would, by index).
func NamespacesOf(account string) client.MatchingFields {
	return client.MatchingFields{NamespaceAccount: account}
}
