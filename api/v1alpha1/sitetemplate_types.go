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

	// runAsUser is the user (and group) the site's container runs as, for
	// an image whose own user is root, which the site's restricted security
	// context (runAsNonRoot) refuses: e.g. 33 (www-data) for the official
	// WordPress image. The site volume is given that group too (fsGroup).
	// Unset, the image's own user runs, and must not be root.
	// +optional
	// +kubebuilder:validation:Minimum=1
	RunAsUser *int64 `json:"runAsUser,omitempty"`

	// env is set in the site container.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Env []TemplateEnvVar `json:"env,omitempty"`

	// database asks for a MySQL/MariaDB database for every site of this
	// template: Landlord creates the Database in the site namespace and
	// sets the site's environment variables from its credentials.
	// +optional
	Database *TemplateDatabase `json:"database,omitempty"`

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

// TemplateDatabase is the database a template's sites get.
type TemplateDatabase struct {
	// name is the Database's metadata.name in the site namespace (its name
	// on the server: <account prefix><name, '-' as '_'>). Default "site".
	// +optional
	// +kubebuilder:default=site
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=25
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`

	// env sets the site container's variables from the database's
	// credentials (read from its Secret), e.g. WORDPRESS_DB_HOST from
	// Address, WORDPRESS_DB_PASSWORD from Password.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Env []DatabaseEnvVar `json:"env,omitempty"`
}

// DatabaseFact is one fact of a database's credentials.
// +kubebuilder:validation:Enum=Host;Port;Address;Database;User;Password
type DatabaseFact string

// Database facts, and the keys of a Database's Secret that hold them.
const (
	DatabaseFactHost     DatabaseFact = "Host"     // key host
	DatabaseFactPort     DatabaseFact = "Port"     // key port
	DatabaseFactAddress  DatabaseFact = "Address"  // key address: host:port
	DatabaseFactDatabase DatabaseFact = "Database" // key database
	DatabaseFactUser     DatabaseFact = "User"     // key username
	DatabaseFactPassword DatabaseFact = "Password" // key password
)

// DatabaseEnvVar sets a variable from a fact of the template's database.
type DatabaseEnvVar struct {
	// name of the variable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_]*$`
	Name string `json:"name"`

	// fact is Host, Port, Address (host:port), Database, User or Password.
	// +required
	Fact DatabaseFact `json:"fact"`
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
