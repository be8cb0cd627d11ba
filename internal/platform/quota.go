package platform

import corev1 "k8s.io/api/core/v1"

// Object-count resources of the tenant namespaces' ResourceQuotas beyond
// the ones the core API names (corev1.ResourcePods and friends): with them
// every kind a tenant can create in its namespaces is counted.
const (
	CountDeployments     corev1.ResourceName = "count/deployments.apps"
	CountStatefulSets    corev1.ResourceName = "count/statefulsets.apps"
	CountJobs            corev1.ResourceName = "count/jobs.batch"
	CountCronJobs        corev1.ResourceName = "count/cronjobs.batch"
	CountNetworkPolicies corev1.ResourceName = "count/networkpolicies.networking.k8s.io"
	CountCustomDomains   corev1.ResourceName = "count/customdomains.hosting.landlord.dev"
	CountMemberships     corev1.ResourceName = "count/memberships.hosting.landlord.dev"
	CountTeams           corev1.ResourceName = "count/teams.hosting.landlord.dev"
)
