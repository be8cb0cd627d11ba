package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SiteTemplateSpec says how a site is run: image, port, volume path and probe.
type SiteTemplateSpec struct {
	// displayName is the name customers see, e.g. "WordPress".
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName,omitempty"`

	// image is the container image of the site.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="!self.matches('[[:space:]]')",message="image must not contain whitespace"
	Image string `json:"image"`

	// port is the container port the site listens on.
	// +optional
	// +kubebuilder:default=8080
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// dataPath is where the site volume is mounted in the container.
	// +optional
	// +kubebuilder:default="/data"
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/') && !self.contains('..')",message="dataPath must be an absolute path without '..'"
	DataPath string `json:"dataPath,omitempty"`

	// env is set in the site container.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Env []TemplateEnvVar `json:"env,omitempty"`

	// readinessPath is the HTTP path of the readiness probe.
	// +optional
	// +kubebuilder:default="/"
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="readinessPath must start with '/'"
	ReadinessPath string `json:"readinessPath,omitempty"`
}

// TemplateEnvVar is a plain environment variable of a site container.
type TemplateEnvVar struct {
	// name of the variable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_]*$`
	Name string `json:"name"`

	// value of the variable.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Value string `json:"value,omitempty"`
}

// SiteTemplate is a kind of site the provider offers (WordPress, static, ...).
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=st,categories=landlord
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.image`
// +kubebuilder:printcolumn:name="Port",type=integer,JSONPath=`.spec.port`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SiteTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the template as the provider defines it.
	// +required
	Spec SiteTemplateSpec `json:"spec"`
}

// SiteTemplateList is a list of SiteTemplates.
// +kubebuilder:object:root=true
type SiteTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SiteTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SiteTemplate{}, &SiteTemplateList{})
}
