package customdomain

import (
	"slices"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// routedPhase reports whether a domain in phase p holds a route (and so a
// slot of its site's customDomains limit).
func routedPhase(p hostingv1alpha1.DomainPhase) bool {
	return p == hostingv1alpha1.DomainActive || p == hostingv1alpha1.DomainLapsed
}

// The plan gate: at most limits.customDomains domains of a site are routed,
// under any interleaving of workers, restarts and simultaneous verifications.
//
// Design: name-unique slot objects. A site with limit L has slots 0..L-1; a
// slot is a Lease named <subscription>-slot-<i> in the site's namespace,
// controlled by the CustomDomain that holds it (ownerReference with its UID).
// A verified domain is routed only after it holds a slot, and it takes one by
// creating it: the API server's name uniqueness lets exactly one of any number
// of simultaneous creates of slot i succeed, whichever worker or replica makes
// it, so no two domains hold the same slot and no slot ≥ L is ever created
// under a limit L. A domain gives its slot back only after its route is gone
// (a delete the API server confirmed), with a UID precondition so that only
// that slot object is deleted; a slot whose holder no longer exists is
// released by whoever finds it (and by the garbage collector). So at every
// moment the routes of a site are at most its slots' holders, and a restart
// in the middle of anything finds the same slots in the API server.
//
// Why not one decision point per site (a single object updated with
// resourceVersion preconditions)? It is as atomic, but every admission and
// release of a site serialises on one object and its conflicts, one domain's
// stale entry blocks the others until pruned, and the garbage collector
// cannot release one entry of it. Slots are independent, owned objects: a
// crash leaves at worst an owned slot that the owner's next reconcile (or the
// garbage collector) cleans up. Leases rather than a ConfigMap: tenants may
// write ConfigMaps in their namespaces but not Leases, and the manager caches
// only Landlord-labelled ones.
//
// What the slots keep of the earlier status-based gate:
//   - A domain holding a slot keeps it (and its route) when the limit is
//     lowered: a downgrade never takes away what exists. Its slot may then be
//     ≥ L; while any such slot exists no new domain is admitted, and its
//     holder moves down to a free slot < L when one appears, so the site
//     drains back to L.
//   - Waiting domains still compete by (creationTimestamp, name): a domain
//     tries to take a free slot only if fewer verified waiting siblings rank
//     before it than there are free slots. Siblings' phases come from their
//     statuses, which may lag, so the order is best effort (a sibling whose
//     verification is not yet written does not count); the limit is exact.
//   - What changed: a domain that was routed but lost its slot (a person
//     deleted the Lease) competes again, first among the waiting; if the
//     slots are full it is unrouted. Slots, not routes or statuses, are the
//     truth.

// Slot is one slot object of a site, as read from the API server.
type Slot struct {
	// Index is i of <subscription>-slot-<i>.
	Index int32
	// Holder is the UID of the CustomDomain controlling it.
	Holder string
}

// Decision is the plan gate's answer for a verified domain.
type Decision struct {
	// Held are the slots self holds, lowest first (more than one only after
	// an interrupted move).
	Held []int32
	// Try are the free slots self may take, in order; with Held set, a move
	// down from an over-limit slot. Empty with nothing held: wait.
	Try []int32
	// InUse is the number of domains holding a slot.
	InUse int32
}

// Gate decides, from the site's slots, its custom domains and the limit, what
// the verified domain self holds and which free slots it may try to take.
func Gate(self *hostingv1alpha1.CustomDomain, siblings []hostingv1alpha1.CustomDomain, slots []Slot, limit int32) Decision {
	var d Decision
	taken := map[int32]bool{}
	holders := map[string]bool{}
	over := false
	for _, sl := range slots {
		taken[sl.Index] = true
		holders[sl.Holder] = true
		if sl.Holder == string(self.UID) {
			d.Held = append(d.Held, sl.Index)
		} else if sl.Index >= limit {
			over = true
		}
	}
	d.InUse = int32(len(holders))
	slices.Sort(d.Held)
	var free []int32
	for i := int32(0); i < limit; i++ {
		if !taken[i] {
			free = append(free, i)
		}
	}
	if len(d.Held) > 0 {
		if d.Held[0] >= limit {
			d.Try = free // move down
		}
		return d
	}
	if over || len(free) == 0 {
		return d
	}
	// Rank self among the waiting: routed ones that lost their slot first,
	// then verified ones, each by (creationTimestamp, name).
	ahead := 0
	for i := range siblings {
		sib := &siblings[i]
		if sib.UID == self.UID || holders[string(sib.UID)] {
			continue
		}
		if waitsBefore(sib, self) {
			ahead++
		}
	}
	if ahead < len(free) {
		d.Try = free
	}
	return d
}

// waitsBefore reports whether the waiting sibling a ranks before self.
func waitsBefore(a, self *hostingv1alpha1.CustomDomain) bool {
	switch {
	case routedPhase(a.Status.Phase) && !routedPhase(self.Status.Phase):
		return true
	case routedPhase(a.Status.Phase) == routedPhase(self.Status.Phase):
		return (a.Status.Phase == hostingv1alpha1.DomainVerified || routedPhase(a.Status.Phase)) && before(a, self)
	}
	return false
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
