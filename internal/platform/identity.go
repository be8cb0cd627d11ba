package platform

// Landlord's own identity, as the admission policies in config/admission
// recognise it: only Landlord may record the lifecycle facts of a
// Subscription (config/admission/subscription-lifecycle-facts.yaml).
const (
	// ManagerServiceAccountUser is the user name of the ServiceAccount the
	// manager runs as in a cluster (config/rbac/manager).
	ManagerServiceAccountUser = "system:serviceaccount:landlord-system:landlord-manager"
	// ManagerGroup is the group of Landlord's identity when it runs outside
	// the cluster (make run-local, tests, the benchmark): a client
	// certificate or token that carries it, never a tenant's or a portal's.
	ManagerGroup = "landlord:managers"
)
