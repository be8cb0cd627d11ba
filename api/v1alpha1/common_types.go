package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
)

// Labels, annotations and finalizers Landlord reads and writes.
const (
	// AccountLabel names the Account an object belongs to. It is on every object
	// Landlord creates, and on a namespace it may adopt.
	AccountLabel = "hosting.landlord.dev/account"
	// SubscriptionLabel names the Subscription a site object belongs to.
	SubscriptionLabel = "hosting.landlord.dev/subscription"
	// MembershipLabel names the Membership a RoleBinding belongs to (its
	// name, hashed when longer than 63 characters), on the Membership's
	// bindings in the account namespace and in every site namespace.
	MembershipLabel = "hosting.landlord.dev/membership"
	// CostCenterLabel carries the billing centre onto the account namespace
	// (Account.spec.costCenter) and onto site namespaces (Subscription.spec.costCenter,
	// else the account's).
	CostCenterLabel = "hosting.landlord.dev/cost-center"
	// ManagedByLabel marks objects created by Landlord (value "landlord").
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of ManagedByLabel on Landlord's objects.
	ManagedByValue = "landlord"

	// PaidThroughCorrectionAnnotation, set to "true" on a Subscription update,
	// allows spec.paidThrough to move backwards (a billing correction).
	PaidThroughCorrectionAnnotation = "hosting.landlord.dev/paid-through-correction"

	// Finalizer is put on Accounts, Subscriptions, CustomDomains and
	// Memberships so that their clean-up (namespace, site data, domain claims,
	// a member's bindings in the site namespaces) runs before they disappear.
	Finalizer = "hosting.landlord.dev/finalizer"

	// AppliedAnnotation, on every object Landlord applies, holds a hash of
	// what Landlord last applied: a child whose hash differs from the desired
	// one is applied again, which removes the fields Landlord stopped setting.
	AppliedAnnotation = "hosting.landlord.dev/applied"
	// PausedAnnotation set to "true" on an Account, Membership, Subscription
	// or CustomDomain stops every write of Landlord's to it and its children
	// (but the Paused condition) until it is removed: for maintenance.
	PausedAnnotation = "hosting.landlord.dev/paused"
	// RestartRequestedAtAnnotation on a Subscription, an RFC 3339 time, asks
	// for the site to be restarted (as kubectl rollout restart does):
	// Landlord copies it onto the site Deployment's pod template, so that
	// every change of it rolls the site's pods once. The site's objects are
	// Landlord's, so this is how a portal or the provider restarts a site.
	RestartRequestedAtAnnotation = "hosting.landlord.dev/restart-requested-at"
)

// SubjectKind is the kind of identity a member or owner is.
// +kubebuilder:validation:Enum=User;Group;ServiceAccount
type SubjectKind string

// Subject kinds.
const (
	SubjectUser           SubjectKind = "User"
	SubjectGroup          SubjectKind = "Group"
	SubjectServiceAccount SubjectKind = "ServiceAccount"
)

// Subject is a person, group or service account that gets access to an account.
// +kubebuilder:validation:XValidation:rule="self.kind == 'ServiceAccount' ? has(self.__namespace__) : !has(self.__namespace__)",message="namespace is required for kind ServiceAccount and not allowed for User or Group"
type Subject struct {
	// kind is User, Group or ServiceAccount.
	// +required
	Kind SubjectKind `json:"kind"`

	// name is the user name, group name or service account name as the API
	// server authenticates it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="!self.matches('[[:space:]]')",message="name must not contain whitespace"
	Name string `json:"name"`

	// namespace of a ServiceAccount subject; not used for User and Group.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace,omitempty"`
}

// SuspensionReason says why an account or subscription is suspended.
// +kubebuilder:validation:Enum=NonPayment;Manual;Fraud;Abuse
type SuspensionReason string

// Suspension reasons. Only NonPayment is lifted automatically (by a payment);
// the others are lifted only when the provider clears spec.suspension.
const (
	SuspensionNonPayment SuspensionReason = "NonPayment"
	SuspensionManual     SuspensionReason = "Manual"
	SuspensionFraud      SuspensionReason = "Fraud"
	SuspensionAbuse      SuspensionReason = "Abuse"
)

// Suspension is a suspension put in place by the provider.
type Suspension struct {
	// reason is NonPayment, Manual, Fraud or Abuse.
	// +required
	Reason SuspensionReason `json:"reason"`

	// message is shown to the tenant, for example on the portal.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// Limits are the resources a site may use. Plans set them, add-ons add to them.
type Limits struct {
	// storage is the size of the site volume.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!string(self).startsWith('-')",message="storage must not be negative"
	Storage *resource.Quantity `json:"storage,omitempty"`

	// cpu is the CPU limit of the site container.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!string(self).startsWith('-')",message="cpu must not be negative"
	CPU *resource.Quantity `json:"cpu,omitempty"`

	// memory is the memory limit of the site container.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!string(self).startsWith('-')",message="memory must not be negative"
	Memory *resource.Quantity `json:"memory,omitempty"`

	// customDomains is how many custom domains the site may map (0 = none).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	CustomDomains *int32 `json:"customDomains,omitempty"`

	// ephemeralStorage is the scratch disk the pods of the site namespace
	// may request and use together (writable container layers, emptyDir
	// volumes, logs): the quota's requests and limits of ephemeral-storage.
	// Default 2Gi. A container that asks for none gets the LimitRange's
	// default (64Mi requested, 512Mi limit), so keep it at least 512Mi.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!string(self).startsWith('-')",message="ephemeralStorage must not be negative"
	EphemeralStorage *resource.Quantity `json:"ephemeralStorage,omitempty"`

	// objects caps how many objects of each kind the tenant may keep in the
	// site namespace, besides the site's own (its pod, Service and volume
	// claim, which Landlord adds to the quota). Kinds left out get the
	// defaults; add-ons add to them.
	// +optional
	Objects *ObjectLimits `json:"objects,omitempty"`

	// seats is how many distinct people the account's Teams may give access
	// to the site (account-wide Memberships do not count). Default 5.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Seats *int32 `json:"seats,omitempty"`

	// databases is how many MySQL/MariaDB Databases the site may have on
	// the provider's database server (0 = none; default 0).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Databases *int32 `json:"databases,omitempty"`

	// databaseStorage is how large each of the site's databases may grow
	// (data and indexes, as the server reports them; default 1Gi). A larger
	// database's user may read and delete, not write, until it is back under.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!string(self).startsWith('-')",message="databaseStorage must not be negative"
	DatabaseStorage *resource.Quantity `json:"databaseStorage,omitempty"`

	// databaseConnections is how many connections each database user of
	// the site may hold at once (MAX_USER_CONNECTIONS; default 10).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	DatabaseConnections *int32 `json:"databaseConnections,omitempty"`
}

// ObjectLimits are counts of objects a site namespace may hold (the
// ResourceQuota's object counts): every kind a tenant can create there is
// counted. NodePort and LoadBalancer Services, ReplicationControllers and
// further ResourceQuotas are always 0.
type ObjectLimits struct {
	// pods the tenant may run besides the site's (default 10).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Pods *int32 `json:"pods,omitempty"`

	// services the tenant may create besides the site's (default 5).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Services *int32 `json:"services,omitempty"`

	// secrets the namespace may hold (default 20).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Secrets *int32 `json:"secrets,omitempty"`

	// configMaps the tenant may create, besides the cluster's
	// kube-root-ca.crt (default 20).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	ConfigMaps *int32 `json:"configMaps,omitempty"`

	// persistentVolumeClaims the tenant may create besides the site volume
	// (default 2). Their storage counts against storage, which the site
	// volume is sized to: room for them needs more storage than the volume
	// uses.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	PersistentVolumeClaims *int32 `json:"persistentVolumeClaims,omitempty"`

	// deployments the tenant may create besides the site's (default 5). A
	// Deployment at zero replicas costs no compute but is still counted.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Deployments *int32 `json:"deployments,omitempty"`

	// statefulSets the tenant may create (default 2).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	StatefulSets *int32 `json:"statefulSets,omitempty"`

	// jobs the namespace may hold, those a CronJob creates and keeps as
	// history included (default 20).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Jobs *int32 `json:"jobs,omitempty"`

	// cronJobs the tenant may create (default 5).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	CronJobs *int32 `json:"cronJobs,omitempty"`

	// networkPolicies the tenant may create besides Landlord's
	// landlord-default-deny (default 10).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	NetworkPolicies *int32 `json:"networkPolicies,omitempty"`

	// customDomains is how many CustomDomains the site namespace may hold
	// beyond limits.customDomains (default 10): domains waiting for their
	// DNS record or for a free slot of the plan gate. The quota counts
	// limits.customDomains plus this.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	CustomDomains *int32 `json:"customDomains,omitempty"`
}
