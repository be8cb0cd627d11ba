// Package site builds the objects of a Subscription's site and of its
// namespace's quota: pure functions, no client. A nil result means the
// object must not exist.
package site

import (
	"cmp"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// Defaults for limits a plan leaves out, so that every site runs bounded.
var (
	DefaultStorage = resource.MustParse("1Gi")
	DefaultCPU     = resource.MustParse("500m")
	DefaultMemory  = resource.MustParse("512Mi")
	// DefaultEphemeralStorage is the scratch disk of a site namespace's pods
	// together.
	DefaultEphemeralStorage = resource.MustParse("2Gi")
	// DefaultDatabaseStorage is how large each of a site's databases may grow.
	DefaultDatabaseStorage = resource.MustParse("1Gi")
)

// Default object counts of a site namespace: what the tenant may keep
// besides the site's own objects (Quota adds those).
const (
	DefaultPods                   int32 = 10
	DefaultServices               int32 = 5
	DefaultSecrets                int32 = 20
	DefaultConfigMaps             int32 = 20
	DefaultPersistentVolumeClaims int32 = 2
	DefaultDeployments            int32 = 5
	DefaultStatefulSets           int32 = 2
	DefaultJobs                   int32 = 20
	DefaultCronJobs               int32 = 5
	DefaultNetworkPolicies        int32 = 10
	// DefaultWaitingCustomDomains are CustomDomains a site namespace may
	// hold beyond limits.customDomains (waiting for DNS or for a slot).
	DefaultWaitingCustomDomains int32 = 10
)

// DefaultSeats is a site's seats when the plan says nothing: how many people
// the account's Teams may give access to the site.
const DefaultSeats int32 = 5

// DefaultDatabaseConnections is how many connections each database user of
// a site may hold when the plan says nothing.
const DefaultDatabaseConnections int32 = 10

// AddOnNotOfferedError says spec.addOns names an add-on the plan does not offer.
type AddOnNotOfferedError struct{ Plan, AddOn string }

func (e *AddOnNotOfferedError) Error() string {
	return fmt.Sprintf("plan %q does not offer the add-on %q", e.Plan, e.AddOn)
}

// EffectiveLimits are the plan's limits, plus each add-on's limits times the
// quantity bought, with the defaults for anything the plan leaves out.
func EffectiveLimits(plan *v1.Plan, addOns []v1.AddOnRef) (v1.Limits, error) {
	l := WithDefaults(plan.Spec.Limits)
	for _, ref := range addOns {
		var offered *v1.PlanAddOn
		for i := range plan.Spec.AddOns {
			if plan.Spec.AddOns[i].Name == ref.Name {
				offered = &plan.Spec.AddOns[i]
			}
		}
		if offered == nil {
			return v1.Limits{}, &AddOnNotOfferedError{Plan: plan.Name, AddOn: ref.Name}
		}
		n := int64(ref.Quantity)
		if n < 1 {
			n = 1
		}
		addTimes(l.Storage, offered.Limits.Storage, n)
		addTimes(l.CPU, offered.Limits.CPU, n)
		addTimes(l.Memory, offered.Limits.Memory, n)
		addTimes(l.EphemeralStorage, offered.Limits.EphemeralStorage, n)
		addCount(l.CustomDomains, offered.Limits.CustomDomains, n)
		addCount(l.Databases, offered.Limits.Databases, n)
		addTimes(l.DatabaseStorage, offered.Limits.DatabaseStorage, n)
		addCount(l.DatabaseConnections, offered.Limits.DatabaseConnections, n)
		if o := offered.Limits.Objects; o != nil {
			addCount(l.Objects.Pods, o.Pods, n)
			addCount(l.Objects.Services, o.Services, n)
			addCount(l.Objects.Secrets, o.Secrets, n)
			addCount(l.Objects.ConfigMaps, o.ConfigMaps, n)
			addCount(l.Objects.PersistentVolumeClaims, o.PersistentVolumeClaims, n)
			addCount(l.Objects.Deployments, o.Deployments, n)
			addCount(l.Objects.StatefulSets, o.StatefulSets, n)
			addCount(l.Objects.Jobs, o.Jobs, n)
			addCount(l.Objects.CronJobs, o.CronJobs, n)
			addCount(l.Objects.NetworkPolicies, o.NetworkPolicies, n)
			addCount(l.Objects.CustomDomains, o.CustomDomains, n)
		}
		if d := offered.Limits.Seats; d != nil {
			*l.Seats += *d * int32(n)
		}
	}
	return l, nil
}

// WithDefaults fills in the limits l leaves out (a copy).
func WithDefaults(l v1.Limits) v1.Limits {
	out := *l.DeepCopy()
	if out.Storage == nil {
		out.Storage = ptr.To(DefaultStorage.DeepCopy())
	}
	if out.CPU == nil {
		out.CPU = ptr.To(DefaultCPU.DeepCopy())
	}
	if out.Memory == nil {
		out.Memory = ptr.To(DefaultMemory.DeepCopy())
	}
	if out.CustomDomains == nil {
		out.CustomDomains = ptr.To[int32](0)
	}
	if out.Databases == nil {
		out.Databases = ptr.To[int32](0)
	}
	if out.DatabaseConnections == nil {
		out.DatabaseConnections = ptr.To(DefaultDatabaseConnections)
	}
	if out.DatabaseStorage == nil {
		out.DatabaseStorage = ptr.To(DefaultDatabaseStorage.DeepCopy())
	}
	if out.EphemeralStorage == nil {
		out.EphemeralStorage = ptr.To(DefaultEphemeralStorage.DeepCopy())
	}
	if out.Objects == nil {
		out.Objects = &v1.ObjectLimits{}
	}
	o := out.Objects
	o.Pods = cmp.Or(o.Pods, ptr.To(DefaultPods))
	o.Services = cmp.Or(o.Services, ptr.To(DefaultServices))
	o.Secrets = cmp.Or(o.Secrets, ptr.To(DefaultSecrets))
	o.ConfigMaps = cmp.Or(o.ConfigMaps, ptr.To(DefaultConfigMaps))
	o.PersistentVolumeClaims = cmp.Or(o.PersistentVolumeClaims, ptr.To(DefaultPersistentVolumeClaims))
	o.Deployments = cmp.Or(o.Deployments, ptr.To(DefaultDeployments))
	o.StatefulSets = cmp.Or(o.StatefulSets, ptr.To(DefaultStatefulSets))
	o.Jobs = cmp.Or(o.Jobs, ptr.To(DefaultJobs))
	o.CronJobs = cmp.Or(o.CronJobs, ptr.To(DefaultCronJobs))
	o.NetworkPolicies = cmp.Or(o.NetworkPolicies, ptr.To(DefaultNetworkPolicies))
	o.CustomDomains = cmp.Or(o.CustomDomains, ptr.To(DefaultWaitingCustomDomains))
	if out.Seats == nil {
		out.Seats = ptr.To(DefaultSeats)
	}
	return out
}

// addCount adds unit times n to *sum (both set, or nothing to add).
func addCount(sum, unit *int32, n int64) {
	if sum == nil || unit == nil {
		return
	}
	*sum += *unit * int32(n)
}

func addTimes(sum, unit *resource.Quantity, n int64) {
	if unit == nil {
		return
	}
	for range n {
		sum.Add(*unit)
	}
}

// Usage is what a site uses that a downgrade cannot take back.
type Usage struct {
	// Storage is the request of the existing volume (nil: none yet).
	Storage *resource.Quantity
	// CustomDomains in use (holding a route).
	CustomDomains int32
}

// Over lists what usage exceeds in limits, as a person reads it; empty when
// within limits.
func Over(limits v1.Limits, u Usage) []string {
	var over []string
	if u.Storage != nil && limits.Storage != nil && u.Storage.Cmp(*limits.Storage) > 0 {
		over = append(over, fmt.Sprintf("storage: %s provisioned, the limit is %s", u.Storage.String(), limits.Storage.String()))
	}
	if limits.CustomDomains != nil && u.CustomDomains > *limits.CustomDomains {
		over = append(over, fmt.Sprintf("customDomains: %d in use, the limit is %d", u.CustomDomains, *limits.CustomDomains))
	}
	return over
}

// OverMessage joins Over's findings.
func OverMessage(over []string) string {
	return strings.Join(over, "; ") + "; nothing was deleted, nothing may grow until use is reduced or the limits raised"
}
