package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PlanSpec is one entry of the provider's catalogue: limits, trial and grace.
type PlanSpec struct {
	// displayName is the name customers see, e.g. "Business".
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName,omitempty"`

	// limits apply to every subscription on this plan.
	// +required
	Limits Limits `json:"limits"`

	// siteTemplates lists the SiteTemplates a subscription on this plan may use;
	// empty allows all.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	SiteTemplates []string `json:"siteTemplates,omitempty"`

	// trialPeriod is how long a trial on this plan lasts (informational for
	// billing; the subscription's spec.trialEnd decides).
	// +optional
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$')",message="trialPeriod must be a duration such as 336h or 90m"
	TrialPeriod *metav1.Duration `json:"trialPeriod,omitempty"`

	// gracePeriod is how long a site stays up after paidThrough before it is
	// suspended for non-payment.
	// +optional
	// +kubebuilder:default="336h"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$')",message="gracePeriod must be a duration such as 336h or 90m"
	GracePeriod *metav1.Duration `json:"gracePeriod,omitempty"`

	// retentionPeriod is how long a suspended or cancelled site keeps its data
	// before it is terminated.
	// +optional
	// +kubebuilder:default="720h"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$')",message="retentionPeriod must be a duration such as 720h"
	RetentionPeriod *metav1.Duration `json:"retentionPeriod,omitempty"`

	// renewalNotice is how long before paidThrough the RenewalDue condition is set.
	// +optional
	// +kubebuilder:default="336h"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$')",message="renewalNotice must be a duration such as 336h"
	RenewalNotice *metav1.Duration `json:"renewalNotice,omitempty"`

	// addOns are optional extras that raise limits per unit bought.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	AddOns []PlanAddOn `json:"addOns,omitempty"`
}

// PlanAddOn raises a subscription's limits by its limits times the quantity bought.
type PlanAddOn struct {
	// name identifies the add-on in Subscription.spec.addOns.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// limits are added once per unit.
	// +required
	Limits Limits `json:"limits"`
}

// Plan is an entry of the provider's catalogue: the limits and periods that
// apply to the subscriptions on it.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=pl,categories=landlord
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=`.spec.limits.storage`
// +kubebuilder:printcolumn:name="CPU",type=string,JSONPath=`.spec.limits.cpu`
// +kubebuilder:printcolumn:name="Memory",type=string,JSONPath=`.spec.limits.memory`
// +kubebuilder:printcolumn:name="Domains",type=integer,JSONPath=`.spec.limits.customDomains`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Plan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the plan as the provider sells it.
	// +required
	Spec PlanSpec `json:"spec"`
}

// PlanList is a list of Plans.
// +kubebuilder:object:root=true
type PlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Plan `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Plan{}, &PlanList{})
}
