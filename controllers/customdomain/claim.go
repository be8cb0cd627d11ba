package customdomain

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// BuildClaim is the DomainClaim that locks host for the CustomDomain cd of
// account: named after the canonical hostname, owned by the Account, so the
// garbage collector releases it with the account.
func BuildClaim(host string, account *hostingv1alpha1.Account, cd *hostingv1alpha1.CustomDomain) *hostingv1alpha1.DomainClaim {
	return &hostingv1alpha1.DomainClaim{
		TypeMeta: metav1.TypeMeta{APIVersion: hostingv1alpha1.GroupVersion.String(), Kind: "DomainClaim"},
		ObjectMeta: metav1.ObjectMeta{
			Name:   host,
			Labels: platform.AccountLabels(account.Name),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: hostingv1alpha1.GroupVersion.String(),
				Kind:       "Account",
				Name:       account.Name,
				UID:        account.UID,
			}},
		},
		Spec: hostingv1alpha1.DomainClaimSpec{
			Hostname:     host,
			Account:      account.Name,
			AccountUID:   string(account.UID),
			Namespace:    cd.Namespace,
			CustomDomain: cd.Name,
		},
	}
}

// heldBy reports whether claim names the CustomDomain cd (of the account with
// accountUID, when given).
func heldBy(claim *hostingv1alpha1.DomainClaim, cd *hostingv1alpha1.CustomDomain, accountUID string) bool {
	return claim.Spec.Namespace == cd.Namespace && claim.Spec.CustomDomain == cd.Name &&
		(accountUID == "" || claim.Spec.AccountUID == accountUID)
}

// AccountDomainAllowance is how many CustomDomains an account may have beyond
// the sum of its sites' customDomains limits: room for domains waiting for
// verification or for a slot (a site moving its hostnames over, a customer
// trying spellings) without letting an account squat on hostnames by the
// hundred. Squatting is bounded in time too: an unverified claim expires
// (--domain-claim-ttl) when another account wants the hostname.
const AccountDomainAllowance = 10

// ClaimedAt is when claim was made: its ClaimedAtAnnotation (Landlord's
// clock), else its creationTimestamp.
func ClaimedAt(claim *hostingv1alpha1.DomainClaim) time.Time {
	if t, err := time.Parse(time.RFC3339, claim.Annotations[hostingv1alpha1.ClaimedAtAnnotation]); err == nil {
		return t
	}
	return claim.CreationTimestamp.Time
}

// ClaimExpiry says whether a claim held by holder has expired at now: a claim
// is kept while its domain is verified or lapsed within the grace; otherwise
// it expires ttl after it was made. next is when to look again (zero: not
// before the holder's verification changes).
func ClaimExpiry(claim *hostingv1alpha1.DomainClaim, holder *hostingv1alpha1.CustomDomain, now time.Time, ttl, grace time.Duration) (expired bool, next time.Time) {
	state, deadline := State(holder.Status.Verification, now, grace)
	switch state {
	case dnsVerified:
		return false, time.Time{}
	case dnsLapsed:
		return false, deadline
	}
	at := ClaimedAt(claim).Add(ttl)
	return !now.Before(at), at
}

// AccountDomainRank ranks the account's CustomDomains, oldest first by
// (creationTimestamp, name), and returns self's place (0-based) among them.
func AccountDomainRank(self *hostingv1alpha1.CustomDomain, domains []hostingv1alpha1.CustomDomain) int {
	rank := 0
	for i := range domains {
		d := &domains[i]
		if d.UID != self.UID && d.DeletionTimestamp.IsZero() && before(d, self) {
			rank++
		}
	}
	return rank
}

// overAccountCap reports whether cd is beyond its account's cap on custom
// domains: the sum of the customDomains limits of the account's live sites
// plus AccountDomainAllowance. The account's domains are those of all its
// site namespaces; the oldest are within the cap. It reads
// the cache: a cap against squatting, not an exact limit (the plan gate is
// the exact one).
func (r *Reconciler) overAccountCap(ctx context.Context, s *scope) (over bool, msg string, err error) {
	nss, err := r.siteNamespaces(ctx, s.account.Name)
	if err != nil {
		return false, "", err
	}
	var domains []hostingv1alpha1.CustomDomain
	for _, ns := range nss {
		cds := &hostingv1alpha1.CustomDomainList{}
		if err := r.List(ctx, cds, client.InNamespace(ns)); err != nil {
			return false, "", fmt.Errorf("listing custom domains in %s: %w", ns, err)
		}
		domains = append(domains, cds.Items...)
	}
	subs := &hostingv1alpha1.SubscriptionList{}
	if err := r.List(ctx, subs, client.InNamespace(r.Config.AccountNamespace(s.account.Name))); err != nil {
		return false, "", fmt.Errorf("listing the account's subscriptions: %w", err)
	}
	var sum int64
	for i := range subs.Items {
		sub := &subs.Items[i]
		if !sub.DeletionTimestamp.IsZero() || sub.Status.Phase == hostingv1alpha1.PhaseTerminated {
			continue
		}
		var plan *hostingv1alpha1.Plan
		if sub.Status.EffectiveLimits.CustomDomains == nil {
			p := &hostingv1alpha1.Plan{}
			if err := r.Get(ctx, client.ObjectKey{Name: sub.Spec.Plan}, p); err == nil {
				plan = p
			} else if !apierrors.IsNotFound(err) {
				return false, "", fmt.Errorf("getting plan %s: %w", sub.Spec.Plan, err)
			}
		}
		sum += int64(max(Limit(sub, plan), 0))
	}
	limit := sum + AccountDomainAllowance
	rank := AccountDomainRank(s.cd, domains)
	if int64(rank) < limit {
		return false, "", nil
	}
	return true, fmt.Sprintf("account %s may have %d custom domains claiming hostnames (its sites' customDomains limits, %d, plus %d awaiting verification); this is its domain number %d by age: delete a domain or raise a plan", s.account.Name, limit, sum, AccountDomainAllowance, rank+1), nil
}

// claimHolder reads the CustomDomain a claim names, nil when it is gone.
func (r *Reconciler) claimHolder(ctx context.Context, claim *hostingv1alpha1.DomainClaim) (*hostingv1alpha1.CustomDomain, error) {
	holder := &hostingv1alpha1.CustomDomain{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: claim.Spec.Namespace, Name: claim.Spec.CustomDomain}, holder)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the holder of the claim on %s: %w", claim.Name, err)
	}
	return holder, nil
}

// provenElsewhere reports whether another account's CustomDomain waits for
// the hostname and the TXT record holds that account's token: DNS proves the
// other account controls it, so this (unverified) domain does not claim it
// when it is free. This is what makes an expired claim stay with the domain
// that took it: the expired holder, woken by the release, does not race
// back into the moment between the release and the new claim.
func (r *Reconciler) provenElsewhere(ctx context.Context, s *scope) (bool, string, error) {
	list := &hostingv1alpha1.CustomDomainList{}
	if err := r.List(ctx, list, client.MatchingFields{hostnameIndex: s.obs.host}); err != nil {
		return false, "", fmt.Errorf("listing the domains waiting for %s: %w", s.obs.host, err)
	}
	var tokens []string
	for i := range list.Items {
		other := &list.Items[i]
		// Only a domain waiting for the claim (Conflict) counts: one that
		// cannot hold it (Failed: site terminated, account gone) does not.
		if other.Namespace == s.cd.Namespace || !other.DeletionTimestamp.IsZero() || other.Status.Phase != hostingv1alpha1.DomainConflict {
			continue
		}
		ns := &corev1.Namespace{}
		if err := r.Get(ctx, client.ObjectKey{Name: other.Namespace}, ns); err != nil {
			continue
		}
		name, sub := platform.SiteOfNamespace(ns.Labels)
		acct := &hostingv1alpha1.Account{}
		if name == "" || name == s.account.Name || r.Config.SiteNamespace(name, sub) != ns.Name ||
			r.Get(ctx, client.ObjectKey{Name: name}, acct) != nil {
			continue
		}
		tokens = append(tokens, Token(string(acct.UID), s.obs.host))
	}
	if len(tokens) == 0 {
		return false, "", nil
	}
	values, err := r.Resolver.LookupTXT(ctx, s.obs.record)
	if err != nil {
		return false, "", nil // unknown: claim as usual
	}
	if Matches(values, Token(string(s.account.UID), s.obs.host)) {
		return false, "", nil
	}
	for _, tok := range tokens {
		if Matches(values, tok) {
			return true, fmt.Sprintf("the TXT record %s holds another account's token: that account's domain takes %s", s.obs.record, s.obs.host), nil
		}
	}
	return false, "", nil
}

// claimExpiredMessage tells the domain that lost host why.
func claimExpiredMessage(cfg platform.Config, host string, taken *hostingv1alpha1.DomainClaim) string {
	return fmt.Sprintf("this domain's claim on %s expired: its TXT record was not verified within %s, and another account's domain waiting for the hostname took it at %s; add the record, and the claim can be taken back once that domain's claim expires unverified",
		host, cfg.DomainClaimTTL, ClaimedAt(taken).UTC().Format(time.RFC3339))
}
