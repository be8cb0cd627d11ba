package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ContactPurpose is what a contact receives mail about.
// +kubebuilder:validation:Enum=billing;technical;security;general
type ContactPurpose string

// Contact purposes.
const (
	ContactBilling   ContactPurpose = "billing"
	ContactTechnical ContactPurpose = "technical"
	ContactSecurity  ContactPurpose = "security"
	ContactGeneral   ContactPurpose = "general"
)

// Contact is a person who receives mail about the account; contacts have no access.
type Contact struct {
	// name of the contact.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name"`

	// email address of the contact.
	// +required
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^@[:space:]]+@[^@[:space:]]+\\\\.[^@[:space:]]+$')",message="email must be an address like name@example.com"
	Email string `json:"email"`

	// purposes the contact is mailed about; empty means general.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4
	Purposes []ContactPurpose `json:"purposes,omitempty"`
}

// AccountSpec is the billable organisation as the provider or portal describes it.
type AccountSpec struct {
	// displayName is the organisation's name as customers see it.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName,omitempty"`

	// owner is the account's owner; it is given the Owner role.
	// +required
	Owner Subject `json:"owner"`

	// contacts receive mail about the account and have no access.
	// +optional
	// +listType=map
	// +listMapKey=email
	// +kubebuilder:validation:MaxItems=32
	Contacts []Contact `json:"contacts,omitempty"`

	// costCenter is copied as a label to the account namespace and to the site
	// namespaces of subscriptions without their own, for chargeback tools.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`
	CostCenter string `json:"costCenter,omitempty"`

	// suspension, when set, suspends the whole account: members become
	// read-only and every subscription is suspended. Absent = not suspended.
	// +optional
	Suspension *Suspension `json:"suspension,omitempty"`

	// deletionProtection, while true (the default), makes the API server refuse
	// to delete the account. Set it to false to confirm a deletion.
	// +optional
	// +kubebuilder:default=true
	DeletionProtection *bool `json:"deletionProtection,omitempty"`
}

// AccountPhase summarises an account.
// +kubebuilder:validation:Enum=Pending;Active;Suspended;Terminating
type AccountPhase string

// Account phases.
const (
	AccountPending     AccountPhase = "Pending"
	AccountActive      AccountPhase = "Active"
	AccountSuspended   AccountPhase = "Suspended"
	AccountTerminating AccountPhase = "Terminating"
)

// SubscriptionCounts counts an account's subscriptions by phase.
type SubscriptionCounts struct {
	// +optional
	Pending int32 `json:"pending,omitempty"`
	// +optional
	Trialing int32 `json:"trialing,omitempty"`
	// +optional
	Active int32 `json:"active,omitempty"`
	// +optional
	PastDue int32 `json:"pastDue,omitempty"`
	// +optional
	Suspended int32 `json:"suspended,omitempty"`
	// +optional
	Cancelled int32 `json:"cancelled,omitempty"`
	// +optional
	Terminated int32 `json:"terminated,omitempty"`
}

// AccountStatus is what Landlord observed and did for the account.
type AccountStatus struct {
	// namespace is the account's namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// phase is Pending, Active, Suspended or Terminating.
	// +optional
	Phase AccountPhase `json:"phase,omitempty"`

	// subscriptions counts the account's subscriptions by the phase they
	// report; a new subscription is counted once its first phase is reported.
	// +optional
	Subscriptions SubscriptionCounts `json:"subscriptions,omitempty"`

	// members is the number of active memberships.
	// +optional
	Members int32 `json:"members,omitempty"`

	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, NamespaceReady, Suspended.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Account is a billable organisation: one owner, members, contacts, and a
// namespace holding its subscriptions.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=acct,categories=landlord
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 30 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && !self.metadata.name.contains('--')",message="account name must be a DNS label of at most 30 characters without '--' (it becomes part of its namespace names: <prefix><account> and <prefix><account>--<subscription>)"
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.spec.owner.name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.members`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Account struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is written by the provider or the portal.
	// +required
	Spec AccountSpec `json:"spec"`

	// status is written by Landlord.
	// +optional
	Status AccountStatus `json:"status,omitempty"`
}

// AccountList is a list of Accounts.
// +kubebuilder:object:root=true
type AccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Account `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Account{}, &AccountList{})
}
