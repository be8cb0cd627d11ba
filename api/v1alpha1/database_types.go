package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MySQL names. A Database's database and user on the provider's server are
// both named <account prefix><name>: the prefix is DatabasePrefixLength
// characters derived from the account's UID (internal/mysqladmin.Prefix),
// the name is spec.name or, without it, metadata.name with '-' as '_'.
const (
	// DatabasePrefixLength is the length of an account's prefix, its '_'
	// separator included ("k3x9qa_").
	DatabasePrefixLength = 7
	// MaxDatabaseNameLength is the longest name: MySQL 8 takes user names of
	// up to 32 characters (MariaDB 10.11 takes 128; database names are at
	// most 64 on both), and the user is named as the database, so the
	// common bound is 32 with the prefix.
	MaxDatabaseNameLength = 32 - DatabasePrefixLength
)

// DatabaseSpec asks for a MySQL/MariaDB database and its user on the
// provider's database server.
// +kubebuilder:validation:XValidation:rule="has(self.name) == has(oldSelf.name)",message="spec.name cannot be added or removed; create a new Database instead"
type DatabaseSpec struct {
	// name is the database's name after the account's prefix: at most 25
	// lowercase letters, digits or '_'. Without it, metadata.name with '-'
	// written '_'. The database and its user on the server are both named
	// <prefix><name> (status.database, status.user). It cannot be changed.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=25
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.name is immutable; create a new Database instead"
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9_]+$')",message="spec.name may contain only lowercase letters, digits and '_' (MySQL names are used unquoted by most applications)"
	Name string `json:"name,omitempty"`
}

// DatabasePhase is where a Database is in its life.
// +kubebuilder:validation:Enum=Pending;Ready;ReadOnly;Locked;Conflict;Failed
type DatabasePhase string

// Database phases.
const (
	// DatabasePending: not created yet (no site, no database server, or the
	// plan's databases limit is reached: the Admitted condition says which).
	DatabasePending DatabasePhase = "Pending"
	// DatabaseReady: the database and its user exist; the Secret holds the
	// credentials.
	DatabaseReady DatabasePhase = "Ready"
	// DatabaseReadOnly: the database is larger than the plan's
	// databaseStorage; its user may read and delete, not write, until it is
	// back under.
	DatabaseReadOnly DatabasePhase = "ReadOnly"
	// DatabaseLocked: the site is suspended or cancelled; its user cannot log
	// in and its connections were closed. Resume unlocks it.
	DatabaseLocked DatabasePhase = "Locked"
	// DatabaseConflict: another Database (of this account, in another site)
	// holds the same name on the server.
	DatabaseConflict DatabasePhase = "Conflict"
	// DatabaseFailed: the server refused or could not be reached; retried.
	DatabaseFailed DatabasePhase = "Failed"
)

// DatabaseStatus is what Landlord observed for the database. It never holds
// the password: that is in the Secret status.secretName.
type DatabaseStatus struct {
	// phase is Pending, Ready, ReadOnly, Locked, Conflict or Failed.
	// +optional
	Phase DatabasePhase `json:"phase,omitempty"`

	// host is the database server's host name as the site connects to it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Host string `json:"host,omitempty"`

	// port is the database server's port.
	// +optional
	Port int32 `json:"port,omitempty"`

	// database is the database's name on the server (<prefix><name>).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Database string `json:"database,omitempty"`

	// user is the database user's name (<prefix><name>); it has every
	// privilege on that database and none on any other.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	User string `json:"user,omitempty"`

	// secretName is the Secret in this namespace holding the credentials
	// (<metadata.name>-mysql): keys host, port, address (host:port),
	// database, username, password. It is Landlord's:
	// tenants read it, they cannot change or delete it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	SecretName string `json:"secretName,omitempty"`

	// size is the database's size on the server (data and indexes, as the
	// server's statistics say). It is measured on every reconcile (at least
	// every --database-size-interval) and written when it moved by more
	// than 1% or 1Mi, so a database that barely changes costs no writes.
	// +optional
	Size *resource.Quantity `json:"size,omitempty"`

	// observedGeneration is the generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, Admitted, Locked, WritesAllowed.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Database is a MySQL/MariaDB database of the site of its namespace, with
// its own user, on the provider's database server. Landlord creates the
// database and the user, named with the account's prefix, puts the
// credentials in a Secret of the namespace, counts the Database against the
// plan's limits.databases, locks the user while the site is suspended, and
// drops both when the Database is deleted (or, on termination, as the
// Subscription's deletionPolicy says).
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=db,categories=landlord
// +kubebuilder:validation:XValidation:rule="has(self.spec.name) || (self.metadata.name.size() <= 25 && self.metadata.name.matches('^[a-z0-9-]+$'))",message="without spec.name the Database's metadata.name is its name on the server: it must be at most 25 lowercase letters, digits or '-'; set spec.name (at most 25 lowercase letters, digits or '_') instead"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 200",message="a Database's name must be at most 200 characters (its Secret is <name>-mysql)"
// +kubebuilder:printcolumn:name="Database",type=string,JSONPath=`.status.database`
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.status.user`
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.status.secretName`
// +kubebuilder:printcolumn:name="Size",type=string,JSONPath=`.status.size`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Database struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is written by the portal or the account's owners, admins and developers.
	// +optional
	Spec DatabaseSpec `json:"spec,omitempty"`

	// status is written by Landlord.
	// +optional
	Status DatabaseStatus `json:"status,omitempty"`
}

// DatabaseList is a list of Databases.
// +kubebuilder:object:root=true
type DatabaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Database `json:"items"`
}

// Database condition types.
const (
	// ConditionAdmitted (Database): the database holds one of its site's
	// limits.databases slots.
	ConditionAdmitted = "Admitted"
	// ConditionLocked (Database): True while the user is locked (the site
	// is suspended or cancelled).
	ConditionLocked = "Locked"
	// ConditionWritesAllowed (Database): False while the database is larger
	// than limits.databaseStorage and its user may only read and delete.
	ConditionWritesAllowed = "WritesAllowed"
)

// Database condition reasons.
const (
	// ReasonDatabaseLimitReached (Admitted=False): the site has as many
	// databases as its plan allows.
	ReasonDatabaseLimitReached = "DatabaseLimitReached"
	// ReasonNoDatabaseServer: the manager has no database server configured
	// (--database-host).
	ReasonNoDatabaseServer = "NoDatabaseServer"
	// ReasonServerError: the database server refused a statement or could
	// not be reached.
	ReasonServerError = "ServerError"
	// ReasonNameTaken: another Database of the account holds the name.
	ReasonNameTaken = "NameTaken"
	// ReasonSiteSuspended (Locked=True): the site is suspended or cancelled.
	ReasonSiteSuspended = "SiteSuspended"
	// ReasonSiteActive (Locked=False): the site is in service.
	ReasonSiteActive = "SiteActive"
	// ReasonOverStorage (WritesAllowed=False): the database is larger than
	// the plan's databaseStorage.
	ReasonOverStorage = "OverStorage"
	// ReasonWithinStorage (WritesAllowed=True).
	ReasonWithinStorage = "WithinStorage"
)

func init() {
	SchemeBuilder.Register(&Database{}, &DatabaseList{})
}
