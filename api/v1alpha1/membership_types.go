package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MembershipRole is what a member may do in the account.
// +kubebuilder:validation:Enum=Owner;Admin;Developer;Editor;Billing;Viewer;Support
type MembershipRole string

// Roles, from most to least privileged. Each is a ClusterRole
// "landlord-tenant-<lowercase role>" shipped in config/rbac.
const (
	RoleOwner     MembershipRole = "Owner"
	RoleAdmin     MembershipRole = "Admin"
	RoleDeveloper MembershipRole = "Developer"
	RoleEditor    MembershipRole = "Editor"
	RoleBilling   MembershipRole = "Billing"
	RoleViewer    MembershipRole = "Viewer"
	// RoleSupport is the provider's consented support access: read, logs and
	// exec on the account's sites, for a bounded time. Its subject must be the
	// provider's support group (the manager's --support-group) and it needs
	// expiresAt, within --support-max-duration of now.
	RoleSupport MembershipRole = "Support"
)

// MembershipSpec gives one subject one role in the account of the namespace.
// +kubebuilder:validation:XValidation:rule="self.role != 'Support' || has(self.expiresAt)",message="a Support membership needs expiresAt: support access is granted for a bounded time"
// +kubebuilder:validation:XValidation:rule="self.role != 'Support' || self.subject.kind == 'Group'",message="a Support membership's subject is the provider's support group (kind Group)"
type MembershipSpec struct {
	// subject is the member. It cannot be changed; create a new Membership instead.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="subject is immutable; delete this Membership and create a new one"
	Subject Subject `json:"subject"`

	// role is Owner, Admin, Developer, Editor, Billing, Viewer or Support.
	// +required
	Role MembershipRole `json:"role"`

	// expiresAt, when set, ends the membership at that time (outside
	// collaborators); required for Support.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
}

// MembershipPhase is Active or Expired.
// +kubebuilder:validation:Enum=Active;Expired
type MembershipPhase string

// Membership phases.
const (
	MembershipActive  MembershipPhase = "Active"
	MembershipExpired MembershipPhase = "Expired"
)

// MembershipStatus is what Landlord did for the membership.
type MembershipStatus struct {
	// phase is Active or Expired.
	// +optional
	Phase MembershipPhase `json:"phase,omitempty"`

	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Membership gives a person, group or service account a role in the account
// whose namespace it lives in.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mbr,categories=landlord
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.subject.kind`
// +kubebuilder:printcolumn:name="Subject",type=string,JSONPath=`.spec.subject.name`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.role`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.spec.expiresAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Membership struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is written by the portal or the account's owners and admins.
	// +required
	Spec MembershipSpec `json:"spec"`

	// status is written by Landlord.
	// +optional
	Status MembershipStatus `json:"status,omitempty"`
}

// MembershipList is a list of Memberships.
// +kubebuilder:object:root=true
type MembershipList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Membership `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Membership{}, &MembershipList{})
}
