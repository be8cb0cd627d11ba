package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DomainClaimSpec records which CustomDomain holds a hostname. Its object name
// is the canonical hostname, so the API server's name uniqueness makes the
// first claim win.
type DomainClaimSpec struct {
	// hostname is the canonical hostname (equal to metadata.name).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Hostname string `json:"hostname"`

	// account is the Account holding the claim.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Account string `json:"account"`

	// accountUID is the UID of that Account, so a re-created account of the same
	// name does not inherit the claim.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	AccountUID string `json:"accountUID"`

	// namespace of the CustomDomain.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`

	// customDomain is the name of the CustomDomain holding the claim.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	CustomDomain string `json:"customDomain"`
}

// Annotations on DomainClaims.
const (
	// ClaimedAtAnnotation is when Landlord created the claim (RFC 3339, by
	// Landlord's clock); an unverified claim expires a TTL after it.
	ClaimedAtAnnotation = "hosting.landlord.dev/claimed-at"
	// ClaimTakenFromAnnotation is the UID of the CustomDomain whose expired,
	// unverified claim this claim replaced, so that domain can say why it lost it.
	ClaimTakenFromAnnotation = "hosting.landlord.dev/claim-taken-from"
)

// DomainClaim is Landlord's cluster-wide lock on a hostname. Only Landlord writes it.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=dc,categories=landlord
// +kubebuilder:validation:XValidation:rule="self.metadata.name == self.spec.hostname",message="a DomainClaim's name must equal spec.hostname"
// +kubebuilder:validation:XValidation:rule="self.spec == oldSelf.spec",message="a DomainClaim is immutable; delete it to release the hostname"
// +kubebuilder:printcolumn:name="Account",type=string,JSONPath=`.spec.account`
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.spec.namespace`
// +kubebuilder:printcolumn:name="Custom Domain",type=string,JSONPath=`.spec.customDomain`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DomainClaim struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the holder of the hostname.
	// +required
	Spec DomainClaimSpec `json:"spec"`
}

// DomainClaimList is a list of DomainClaims.
// +kubebuilder:object:root=true
type DomainClaimList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DomainClaim `json:"items"`
}

func init() {
	SchemeBuilder.Register(&DomainClaim{}, &DomainClaimList{})
}
