package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AddOnRef buys a quantity of one of the plan's add-ons.
type AddOnRef struct {
	// name of an add-on in the plan's spec.addOns.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// quantity is how many units are bought.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	Quantity int32 `json:"quantity,omitempty"`
}

// SiteSpec chooses how the subscription's site runs.
type SiteSpec struct {
	// template is the name of a SiteTemplate the plan allows.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Template string `json:"template"`

	// env sets the site container's own environment variables (as hosting
	// panels let customers do), after the template's: a name here wins.
	// A value, or a key of a Secret in the site namespace. Changing them
	// rolls the site.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Env []SiteEnvVar `json:"env,omitempty"`
}

// SiteEnvVar is one environment variable of a site.
// +kubebuilder:validation:XValidation:rule="has(self.value) != has(self.secretKeyRef)",message="set either value or secretKeyRef, not both"
type SiteEnvVar struct {
	// name of the variable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_]*$`
	Name string `json:"name"`

	// value of the variable.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Value *string `json:"value,omitempty"`

	// secretKeyRef takes the value from a key of a Secret in the site
	// namespace.
	// +optional
	SecretKeyRef *SecretKeyRef `json:"secretKeyRef,omitempty"`
}

// SecretKeyRef names a key of a Secret in the site namespace.
type SecretKeyRef struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// key in the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// DeletionPolicy says what termination does to the site volume.
// +kubebuilder:validation:Enum=Delete;Retain
type DeletionPolicy string

// Deletion policies.
const (
	// DeletionPolicyDelete deletes the site volume on termination.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyRetain keeps the volume, unowned and labelled, on termination.
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// SubscriptionSpec is one site on one plan, as billing describes it.
type SubscriptionSpec struct {
	// plan is the name of the Plan.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Plan string `json:"plan"`

	// addOns are extras bought on top of the plan.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	AddOns []AddOnRef `json:"addOns,omitempty"`

	// site chooses the site template.
	// +required
	Site SiteSpec `json:"site"`

	// paidThrough is the end of the paid period, set by billing. It may not
	// move backwards unless the update carries the annotation
	// hosting.landlord.dev/paid-through-correction: "true".
	// +optional
	PaidThrough *metav1.Time `json:"paidThrough,omitempty"`

	// trialEnd is the end of the trial; before it the subscription is Trialing.
	// +optional
	TrialEnd *metav1.Time `json:"trialEnd,omitempty"`

	// autoRenew tells billing to try a renewal before paidThrough.
	// +optional
	AutoRenew bool `json:"autoRenew,omitempty"`

	// cancelAtPeriodEnd cancels the subscription at paidThrough, with no grace.
	// +optional
	CancelAtPeriodEnd bool `json:"cancelAtPeriodEnd,omitempty"`

	// suspension, when set, suspends this subscription. NonPayment is lifted by
	// a paidThrough in the future; other reasons only by clearing this field.
	// +optional
	Suspension *Suspension `json:"suspension,omitempty"`

	// gracePeriod overrides the plan's grace period.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$')",message="gracePeriod must be a duration such as 336h or 90m"
	GracePeriod *metav1.Duration `json:"gracePeriod,omitempty"`

	// retentionPeriod overrides the plan's retention period.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$')",message="retentionPeriod must be a duration such as 720h"
	RetentionPeriod *metav1.Duration `json:"retentionPeriod,omitempty"`

	// deletionPolicy is what termination does to the site volume: Delete
	// (default, as hosting panels terminate) or Retain.
	// +optional
	// +kubebuilder:default=Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// deletionProtection, while true (the default), makes the API server refuse
	// to delete the subscription (deleting it removes the site at once, and its
	// data under deletionPolicy Delete). Set it to false to confirm a deletion.
	// A subscription deleted with its account namespace is not held back: the
	// account's own deletionProtection was the confirmation.
	// +optional
	// +kubebuilder:default=true
	DeletionProtection *bool `json:"deletionProtection,omitempty"`

	// costCenter is the billing centre of this site: a label on the site
	// namespace, for chargeback tools that group by namespace label. Empty:
	// the account's costCenter.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`
	CostCenter string `json:"costCenter,omitempty"`
}

// SubscriptionPhase is computed from the spec, the plan, the account and the clock.
// +kubebuilder:validation:Enum=Pending;Trialing;Active;PastDue;Suspended;Cancelled;Terminated
type SubscriptionPhase string

// Subscription phases (DESIGN.md, the phase table).
const (
	PhasePending    SubscriptionPhase = "Pending"
	PhaseTrialing   SubscriptionPhase = "Trialing"
	PhaseActive     SubscriptionPhase = "Active"
	PhasePastDue    SubscriptionPhase = "PastDue"
	PhaseSuspended  SubscriptionPhase = "Suspended"
	PhaseCancelled  SubscriptionPhase = "Cancelled"
	PhaseTerminated SubscriptionPhase = "Terminated"
)

// SiteStatus is the observed state of the site.
type SiteStatus struct {
	// namespace is the site namespace: everything of the site lives there
	// (workload, volume, Service, routes and CustomDomains).
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// url is the site's default address.
	// +optional
	URL string `json:"url,omitempty"`

	// template is the template the site runs.
	// +optional
	Template string `json:"template,omitempty"`

	// ready is true when the site's Deployment is available.
	// +optional
	Ready bool `json:"ready,omitempty"`

	// stoppedWorkloads counts the tenant's own workloads in the site
	// namespace that Landlord stopped while the site is Suspended or
	// Cancelled and restores when it is resumed (absent: none). Jobs that had
	// not finished and bare pods are deleted and cannot be restored; an Event
	// (WorkloadsStopped) names them.
	// +optional
	StoppedWorkloads *StoppedWorkloads `json:"stoppedWorkloads,omitempty"`
}

// StoppedWorkloads counts the tenant's workloads a suspension stopped, each
// carrying its former state in an annotation until it is restored.
type StoppedWorkloads struct {
	// deployments scaled to 0 (annotation
	// hosting.landlord.dev/replicas-before-suspension: their replica count).
	// +optional
	// +kubebuilder:validation:Minimum=0
	Deployments int32 `json:"deployments,omitempty"`

	// statefulSets scaled to 0 (the same annotation).
	// +optional
	// +kubebuilder:validation:Minimum=0
	StatefulSets int32 `json:"statefulSets,omitempty"`

	// cronJobs suspended (annotation
	// hosting.landlord.dev/suspend-before-suspension: "false").
	// +optional
	// +kubebuilder:validation:Minimum=0
	CronJobs int32 `json:"cronJobs,omitempty"`
}

// Usage is what the subscription currently uses.
type Usage struct {
	// customDomains is the number of custom domains mapped to the site.
	// +optional
	CustomDomains int32 `json:"customDomains,omitempty"`

	// seats is how many distinct people have access to the site through the
	// account's Teams (the seat objects held), for billing.
	// +optional
	Seats int32 `json:"seats,omitempty"`
}

// SubscriptionStatus is what Landlord computed and observed.
type SubscriptionStatus struct {
	// phase is the lifecycle phase.
	// +optional
	Phase SubscriptionPhase `json:"phase,omitempty"`

	// phaseSince is when the subscription entered its phase.
	// +optional
	PhaseSince *metav1.Time `json:"phaseSince,omitempty"`

	// renewalDueAt is when RenewalDue is raised (paidThrough - renewalNotice).
	// +optional
	RenewalDueAt *metav1.Time `json:"renewalDueAt,omitempty"`

	// suspendAt is when the site will be suspended if nothing changes.
	// +optional
	SuspendAt *metav1.Time `json:"suspendAt,omitempty"`

	// terminateAt is when the site and its data will be removed if nothing changes.
	// +optional
	TerminateAt *metav1.Time `json:"terminateAt,omitempty"`

	// effectiveLimits are the plan's limits plus add-ons.
	// +optional
	EffectiveLimits Limits `json:"effectiveLimits,omitempty"`

	// site is the observed state of the site.
	// +optional
	Site SiteStatus `json:"site,omitempty"`

	// usage is what the site uses.
	// +optional
	Usage Usage `json:"usage,omitempty"`

	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, SiteReady, LimitsApplied, RenewalDue, OverQuota, Suspended.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Subscription is one site on one plan, in its account's namespace.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sub,categories=landlord
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 26 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="subscription name must be a DNS label of at most 26 characters (it names the site namespace <prefix><account>--<subscription>)"
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.site.namespace`,priority=1
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.spec.plan`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Paid Through",type=string,JSONPath=`.spec.paidThrough`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.site.url`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Subscription struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is written by the provider or billing.
	// +required
	Spec SubscriptionSpec `json:"spec"`

	// status is written by Landlord.
	// +optional
	Status SubscriptionStatus `json:"status,omitempty"`
}

// SubscriptionList is a list of Subscriptions.
// +kubebuilder:object:root=true
type SubscriptionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Subscription `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Subscription{}, &SubscriptionList{})
}
