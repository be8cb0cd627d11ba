package customdomain

import (
	"sort"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// routedPhase reports whether a domain in phase p holds a route (and so a
// slot of its site's customDomains limit).
func routedPhase(p hostingv1alpha1.DomainPhase) bool {
	return p == hostingv1alpha1.DomainActive || p == hostingv1alpha1.DomainLapsed
}

// Admit is the plan gate: may self, verified, be routed, given the site's
// custom domains (siblings, self included or not) and the limit?
//   - A domain already routed stays routed, even over a lowered limit (a
//     downgrade never takes away what exists).
//   - Otherwise the free slots are limit minus the siblings already routed,
//     and the verified, unrouted domains competing for them are ranked by
//     (creationTimestamp, name): only the first free ones win.
//
// inUse is the number of routed siblings, for the condition message.
func Admit(self *hostingv1alpha1.CustomDomain, siblings []hostingv1alpha1.CustomDomain, limit int32, selfRouted bool) (admitted bool, inUse int32) {
	candidates := []*hostingv1alpha1.CustomDomain{self}
	for i := range siblings {
		sib := &siblings[i]
		if sib.Name == self.Name {
			continue
		}
		switch {
		case routedPhase(sib.Status.Phase):
			inUse++
		case sib.Status.Phase == hostingv1alpha1.DomainVerified:
			candidates = append(candidates, sib)
		}
	}
	if selfRouted {
		return true, inUse
	}
	free := int(limit) - int(inUse)
	if free <= 0 {
		return false, inUse
	}
	sort.Slice(candidates, func(i, j int) bool { return before(candidates[i], candidates[j]) })
	for i, c := range candidates {
		if c.Name == self.Name {
			return i < free, inUse
		}
	}
	return false, inUse
}

// before orders domains by (creationTimestamp, name).
func before(a, b *hostingv1alpha1.CustomDomain) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// Limit is the site's customDomains limit: the Subscription's effective
// limits, else the plan's; absent means none allowed.
func Limit(sub *hostingv1alpha1.Subscription, plan *hostingv1alpha1.Plan) int32 {
	if l := sub.Status.EffectiveLimits.CustomDomains; l != nil {
		return *l
	}
	if plan != nil && plan.Spec.Limits.CustomDomains != nil {
		return *plan.Spec.Limits.CustomDomains
	}
	return 0
}

// RedirectTarget is the hostname self permanently redirects to: the site's
// primary domain (the first, by creationTimestamp and name, of the routed
// domains with spec.primary; self counts as routed), or "" when self is that
// primary or the site has none.
func RedirectTarget(self *hostingv1alpha1.CustomDomain, siblings []hostingv1alpha1.CustomDomain) string {
	var primary *hostingv1alpha1.CustomDomain
	if self.Spec.Primary {
		primary = self
	}
	for i := range siblings {
		sib := &siblings[i]
		if sib.Name == self.Name || !sib.Spec.Primary || !routedPhase(sib.Status.Phase) || sib.Status.Hostname == "" {
			continue
		}
		if primary == nil || before(sib, primary) {
			primary = sib
		}
	}
	if primary == nil || primary.Name == self.Name {
		return ""
	}
	return primary.Status.Hostname
}
