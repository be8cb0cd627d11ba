package platform

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// Names of the objects Landlord creates. Every controller derives them from
// here, so that one controller can find what another made.

// SiteName names a subscription's Deployment, Service and default route.
func SiteName(subscription string) string { return subscription }

// SiteVolumeName names a subscription's PersistentVolumeClaim.
func SiteVolumeName(subscription string) string { return subscription + "-data" }

// DatabaseSecretName names the Secret of a Database's credentials.
func DatabaseSecretName(database string) string { return database + "-mysql" }

// DomainRouteName names the route of a CustomDomain.
func DomainRouteName(customDomain string) string { return "domain-" + customDomain }

// Fixed names of the per-namespace guard rails.
const (
	QuotaName         = "landlord-quota"
	LimitRangeName    = "landlord-limits"
	NetworkPolicyName = "landlord-default-deny"
)

// HostnameSeparator joins the subscription and the account in a site's
// default hostname. Account names may not contain it (admission, as for
// SiteNamespaceSeparator) and start with a letter or digit, so its last
// occurrence in the first label splits the label back into its pair: no two
// (account, subscription) pairs share a default hostname.
const HostnameSeparator = "--"

// DefaultHostname is a site's default hostname:
// <subscription>--<account>.<base domain>, one DNS label of at most
// 26+2+30 = 58 characters before the base domain (a wildcard certificate
// of the base domain covers it).
func (c Config) DefaultHostname(subscription, account string) string {
	return subscription + HostnameSeparator + account + "." + strings.TrimSuffix(c.BaseDomain, ".")
}

// LegacyHostname is the default hostname of the scheme before v0.1.0,
// <subscription>-<account>.<base domain>, that two sites could share (site
// a-b of account c and site a of account b-c), kept on the routes of sites
// created before --legacy-hostnames-before. "" when it is off, when the
// Subscription is not older than it, or when the legacy name contains
// HostnameSeparator (a subscription name with "--"): such a name could be
// another site's new default hostname, and a new name must never be
// shadowed by an old one.
func (c Config) LegacyHostname(subscription, account string, created time.Time) string {
	if c.LegacyHostnamesBefore.IsZero() || !created.Before(c.LegacyHostnamesBefore) {
		return ""
	}
	label := subscription + "-" + account
	if strings.Contains(label, HostnameSeparator) {
		return ""
	}
	return label + "." + strings.TrimSuffix(c.BaseDomain, ".")
}

// AccountLabels are the labels of every object Landlord creates for an account.
func AccountLabels(account string) map[string]string {
	return map[string]string{
		hostingv1alpha1.AccountLabel:   account,
		hostingv1alpha1.ManagedByLabel: hostingv1alpha1.ManagedByValue,
	}
}

// SiteLabels are the labels of a subscription's site objects.
func SiteLabels(account, subscription string) map[string]string {
	l := AccountLabels(account)
	l[hostingv1alpha1.SubscriptionLabel] = subscription
	return l
}

// AccountOfNamespace returns the account a namespace belongs to, from its
// label (never from a field a tenant could forge), or "" if none.
func AccountOfNamespace(labels map[string]string) string {
	return labels[hostingv1alpha1.AccountLabel]
}

// OwnerBindingName names the RoleBinding that gives Account.spec.owner the
// Owner role in the account namespace.
const OwnerBindingName = "landlord-owner"

// MembershipBindingName names the RoleBinding of a Membership. Membership
// names may be up to 253 characters; longer results are shortened with a
// hash, so that distinct memberships never share a binding.
func MembershipBindingName(membership string) string {
	const prefix = "landlord-member-"
	name := prefix + membership
	if len(name) <= 253 {
		return name
	}
	sum := sha256.Sum256([]byte(membership))
	return name[:253-17] + "-" + hex.EncodeToString(sum[:8])
}

// FieldManager is the server-side apply field manager of every object Landlord applies.
const FieldManager = "landlord"

// SiteNamespaceSeparator joins the account and the subscription in a site
// namespace's name. Account names may not contain it (admission), so the
// first occurrence after the prefix splits a name back into its pair, and no
// account namespace (which never contains it) is a site namespace.
const SiteNamespaceSeparator = "--"

// Name bounds checked at admission (CRD validation) and for the prefix at
// start-up: MaxPrefixLength + MaxAccountNameLength + 2 +
// MaxSubscriptionNameLength = 63, the longest namespace name.
const (
	MaxPrefixLength           = 5
	MaxAccountNameLength      = 30
	MaxSubscriptionNameLength = 26
)

// SiteNamespace is the site namespace of a subscription of account:
// <prefix><account>--<subscription>.
func (c Config) SiteNamespace(account, subscription string) string {
	return c.NamespacePrefix + account + SiteNamespaceSeparator + subscription
}

// SiteOfNamespace returns the account and subscription a site namespace
// belongs to, from its labels (never from a field a tenant could forge), or
// "" when it is not labelled as a site namespace.
func SiteOfNamespace(labels map[string]string) (account, subscription string) {
	account, subscription = labels[hostingv1alpha1.AccountLabel], labels[hostingv1alpha1.SubscriptionLabel]
	if account == "" || subscription == "" {
		return "", ""
	}
	return account, subscription
}
