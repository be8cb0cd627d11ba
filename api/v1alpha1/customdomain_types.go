package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TLSMode says whether Landlord obtains a certificate for the domain.
// +kubebuilder:validation:Enum=Auto;Disabled
type TLSMode string

// TLS modes.
const (
	TLSAuto     TLSMode = "Auto"
	TLSDisabled TLSMode = "Disabled"
)

// DomainTLS configures TLS for a custom domain.
type DomainTLS struct {
	// mode is Auto (a cert-manager Certificate, when that API is installed) or Disabled.
	// +optional
	// +kubebuilder:default=Auto
	Mode TLSMode `json:"mode,omitempty"`
}

// CustomDomainSpec maps a hostname the tenant owns to the site of its namespace.
type CustomDomainSpec struct {
	// hostname as people type it ("Shop.Example.com." or "café.fr"); the
	// canonical form is in status.hostname. It cannot be changed.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="hostname is immutable; create a new CustomDomain instead"
	// +kubebuilder:validation:XValidation:rule="!self.contains('*')",message="wildcard hostnames are not supported; add each hostname separately"
	// +kubebuilder:validation:XValidation:rule="!self.matches('[[:space:]]')",message="hostname must not contain spaces"
	// +kubebuilder:validation:XValidation:rule="!self.matches('[/:@?#]')",message="hostname must be a bare hostname, not a URL (no scheme, port, path or '@')"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('.') && !self.contains('..')",message="hostname must not contain empty labels (a leading dot or '..')"
	// +kubebuilder:validation:XValidation:rule="self.split('.').all(l, l.size() <= 63)",message="each label of the hostname must be at most 63 characters"
	// +kubebuilder:validation:XValidation:rule="self.split('.').all(l, !l.startsWith('-') && !l.endsWith('-'))",message="hostname labels must not start or end with '-'"
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^.]+[.][^.]+')",message="hostname must be fully qualified, like shop.example.com"
	// +kubebuilder:validation:XValidation:rule="self.matches('^[\\\\p{L}\\\\p{M}\\\\p{N}.-]+$')",message="hostname may contain only letters, digits, '-' and '.'"
	Hostname string `json:"hostname"`

	// primary marks the site's main hostname; the site's other hostnames redirect to it.
	// +optional
	Primary bool `json:"primary,omitempty"`

	// tls configures the certificate.
	// +optional
	TLS *DomainTLS `json:"tls,omitempty"`
}

// DomainPhase is where a custom domain is in its flow.
// +kubebuilder:validation:Enum=PendingVerification;Verified;Active;Conflict;Lapsed;Failed
type DomainPhase string

// Custom domain phases.
const (
	DomainPendingVerification DomainPhase = "PendingVerification"
	DomainVerified            DomainPhase = "Verified"
	DomainActive              DomainPhase = "Active"
	DomainConflict            DomainPhase = "Conflict"
	DomainLapsed              DomainPhase = "Lapsed"
	DomainFailed              DomainPhase = "Failed"
)

// Verification is the DNS record that proves control of the hostname.
type Verification struct {
	// recordName is the DNS name of the TXT record: _landlord-challenge.<hostname>.
	// +optional
	RecordName string `json:"recordName,omitempty"`

	// recordType is TXT.
	// +optional
	RecordType string `json:"recordType,omitempty"`

	// value is the token the TXT record must hold; derived from the account
	// UID and hostname, so it cannot be reused by another account.
	// +optional
	Value string `json:"value,omitempty"`

	// verifiedAt is when the record was last found.
	// +optional
	VerifiedAt *metav1.Time `json:"verifiedAt,omitempty"`

	// lastCheckedAt is when the record was last looked up.
	// +optional
	LastCheckedAt *metav1.Time `json:"lastCheckedAt,omitempty"`
}

// CustomDomainStatus is what Landlord observed for the domain.
type CustomDomainStatus struct {
	// hostname is the canonical form of spec.hostname: lowercase, no trailing
	// dot, internationalised names in punycode.
	// +optional
	Hostname string `json:"hostname,omitempty"`

	// phase is PendingVerification, Verified, Active, Conflict, Lapsed or Failed.
	// +optional
	Phase DomainPhase `json:"phase,omitempty"`

	// verification is the TXT record to add and when it was checked.
	// +optional
	Verification Verification `json:"verification,omitempty"`

	// instructions are the exact DNS records to add, as text a portal can show.
	// +optional
	Instructions string `json:"instructions,omitempty"`

	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, Claimed, Verified, Routed, CertificateReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// CustomDomain maps a hostname the tenant proves it controls to a site: the
// site of the namespace it is created in (the Subscription's status.site.namespace).
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cd,categories=landlord
// +kubebuilder:printcolumn:name="Hostname",type=string,JSONPath=`.status.hostname`
// +kubebuilder:printcolumn:name="Primary",type=boolean,JSONPath=`.spec.primary`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CustomDomain struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is written by the portal or the account's owners, admins and developers.
	// +required
	Spec CustomDomainSpec `json:"spec"`

	// status is written by Landlord.
	// +optional
	Status CustomDomainStatus `json:"status,omitempty"`
}

// CustomDomainList is a list of CustomDomains.
// +kubebuilder:object:root=true
type CustomDomainList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CustomDomain `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CustomDomain{}, &CustomDomainList{})
}
