// Package v1alpha1 contains the hosting.landlord.dev/v1alpha1 API: the provider's
// catalogue (Plan, SiteTemplate), tenants (Account, Membership), their sites
// (Subscription, CustomDomain) and Landlord's own bookkeeping (DomainClaim).
//
// +kubebuilder:object:generate=true
// +groupName=hosting.landlord.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "hosting.landlord.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
