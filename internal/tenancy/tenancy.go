// Package tenancy builds the objects that make an account namespace a tenant:
// the namespace itself, its guard rails (NetworkPolicy, LimitRange) and the
// RoleBindings of the owner and the members. The functions are pure: they
// return the full desired object as a server-side apply configuration, and
// the controllers only apply it.
package tenancy

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// ClusterRolePrefix starts the name of every tenant ClusterRole (config/rbac/tenant).
const ClusterRolePrefix = "landlord-tenant-"

// SuspendedClusterRole is the read-only role every member and the owner are
// bound to while their account is suspended.
const SuspendedClusterRole = ClusterRolePrefix + "suspended"

// ClusterRoleName is the tenant ClusterRole of a Membership role.
func ClusterRoleName(role hostingv1alpha1.MembershipRole) string {
	return ClusterRolePrefix + strings.ToLower(string(role))
}

// BoundClusterRole is the ClusterRole a member with role is bound to: the
// role's own, or the read-only one while the account is suspended.
func BoundClusterRole(role hostingv1alpha1.MembershipRole, suspended bool) string {
	if suspended {
		return SuspendedClusterRole
	}
	return ClusterRoleName(role)
}

// AllClusterRoles are the names of every tenant ClusterRole Landlord binds.
func AllClusterRoles() []string {
	roles := []hostingv1alpha1.MembershipRole{
		hostingv1alpha1.RoleOwner, hostingv1alpha1.RoleAdmin, hostingv1alpha1.RoleDeveloper,
		hostingv1alpha1.RoleEditor, hostingv1alpha1.RoleBilling, hostingv1alpha1.RoleViewer, hostingv1alpha1.RoleSupport,
	}
	out := make([]string, 0, len(roles)+1)
	for _, r := range roles {
		out = append(out, ClusterRoleName(r))
	}
	return append(out, SuspendedClusterRole)
}

// Pod Security labels: every account namespace enforces "restricted".
const (
	PodSecurityEnforce = "pod-security.kubernetes.io/enforce"
	PodSecurityAudit   = "pod-security.kubernetes.io/audit"
	PodSecurityWarn    = "pod-security.kubernetes.io/warn"
	PodSecurityLevel   = "restricted"
)

// Container defaults of the account LimitRange: what a container gets when it
// asks for nothing, so that the namespace quota can admit it.
var (
	DefaultCPURequest    = resource.MustParse("100m")
	DefaultMemoryRequest = resource.MustParse("128Mi")
	DefaultCPULimit      = resource.MustParse("500m")
	DefaultMemoryLimit   = resource.MustParse("512Mi")
	// The ephemeral-storage defaults: the quota counts ephemeral storage,
	// so a container asking for none must get some to be admitted.
	DefaultEphemeralStorageRequest = resource.MustParse("64Mi")
	DefaultEphemeralStorageLimit   = resource.MustParse("512Mi")
	// The least cpu and memory a container may ask for (and be limited
	// to): every container counts against the plan's quota. A container
	// asking for 0 counts nothing and is bounded by nothing; the LimitRange
	// cannot default an explicit 0, its min refuses it (and so does the
	// landlord-tenant-pods admission policy, with a clearer message, for
	// pod templates too). Small enough for any sidecar; the defaults above
	// are well above it.
	MinCPU    = resource.MustParse("10m")
	MinMemory = resource.MustParse("16Mi")
)

// accountOwner is a controller owner reference to the account.
func accountOwner(acct *hostingv1alpha1.Account) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(hostingv1alpha1.GroupVersion.String()).
		WithKind("Account").
		WithName(acct.Name).
		WithUID(acct.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// Target is a tenant namespace Landlord guards: an account namespace or a
// site namespace, with the labels and owner of the guard rails in it.
type Target struct {
	Namespace string
	Labels    map[string]string
	// Owner is the Account for the account namespace's objects; nil in a
	// site namespace, whose objects go with the namespace.
	Owner *metav1ac.OwnerReferenceApplyConfiguration
}

// AccountTarget is the account namespace.
func AccountTarget(acct *hostingv1alpha1.Account, cfg platform.Config) Target {
	return Target{Namespace: cfg.AccountNamespace(acct.Name), Labels: platform.AccountLabels(acct.Name), Owner: accountOwner(acct)}
}

// SiteTarget is the site namespace of a subscription of account.
func SiteTarget(account, subscription string, cfg platform.Config) Target {
	return Target{Namespace: cfg.SiteNamespace(account, subscription), Labels: platform.SiteLabels(account, subscription)}
}

// podSecurity adds the Pod Security labels (restricted) to l.
func podSecurity(l map[string]string) map[string]string {
	l[PodSecurityEnforce] = PodSecurityLevel
	l[PodSecurityAudit] = PodSecurityLevel
	l[PodSecurityWarn] = PodSecurityLevel
	return l
}

// NamespaceLabels are the labels of an account namespace.
func NamespaceLabels(acct *hostingv1alpha1.Account) map[string]string {
	l := podSecurity(platform.AccountLabels(acct.Name))
	if acct.Spec.CostCenter != "" {
		l[hostingv1alpha1.CostCenterLabel] = acct.Spec.CostCenter
	}
	return l
}

// BuildNamespace is the account namespace.
func BuildNamespace(acct *hostingv1alpha1.Account, cfg platform.Config) *corev1ac.NamespaceApplyConfiguration {
	return corev1ac.Namespace(cfg.AccountNamespace(acct.Name)).
		WithLabels(NamespaceLabels(acct)).
		WithOwnerReferences(accountOwner(acct))
}

// SiteNamespaceLabels are the labels of a site namespace: the account and
// subscription, Pod Security restricted, and the billing centre (the
// subscription's, else the account's).
func SiteNamespaceLabels(acct *hostingv1alpha1.Account, sub *hostingv1alpha1.Subscription) map[string]string {
	l := podSecurity(platform.SiteLabels(acct.Name, sub.Name))
	if cc := cmp.Or(sub.Spec.CostCenter, acct.Spec.CostCenter); cc != "" {
		l[hostingv1alpha1.CostCenterLabel] = cc
	}
	return l
}

// BuildSiteNamespace is a subscription's site namespace. The Account owns it
// (not as controller: the account namespace is the Account's one), so that
// it goes with the Account; the Subscription's finalizer removes it first.
func BuildSiteNamespace(acct *hostingv1alpha1.Account, sub *hostingv1alpha1.Subscription, cfg platform.Config) *corev1ac.NamespaceApplyConfiguration {
	return corev1ac.Namespace(cfg.SiteNamespace(acct.Name, sub.Name)).
		WithLabels(SiteNamespaceLabels(acct, sub)).
		WithOwnerReferences(metav1ac.OwnerReference().
			WithAPIVersion(hostingv1alpha1.GroupVersion.String()).
			WithKind("Account").
			WithName(acct.Name).
			WithUID(acct.UID))
}

// BuildNetworkPolicy is the account namespace's NetworkPolicy.
func BuildNetworkPolicy(acct *hostingv1alpha1.Account, cfg platform.Config) *networkingv1ac.NetworkPolicyApplyConfiguration {
	return BuildNetworkPolicyIn(AccountTarget(acct, cfg), cfg)
}

// BuildNetworkPolicyIn denies all ingress to the namespace's pods except
// from the ingress/gateway namespace and from pods of the same namespace:
// sites (each in its own namespace) do not reach each other. Egress follows
// cfg.TenantEgress: open (sites fetch updates and call APIs), or internet
// (see EgressRules).
func BuildNetworkPolicyIn(t Target, cfg platform.Config) *networkingv1ac.NetworkPolicyApplyConfiguration {
	spec := networkingv1ac.NetworkPolicySpec().
		WithPodSelector(metav1ac.LabelSelector()).
		WithPolicyTypes(networkingv1.PolicyTypeIngress).
		WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithFrom(
			networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
				metav1ac.LabelSelector().WithMatchLabels(map[string]string{corev1.LabelMetadataName: cfg.IngressNamespace})),
			networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()),
		))
	if rules := EgressRules(cfg); rules != nil {
		spec.WithPolicyTypes(networkingv1.PolicyTypeEgress).WithEgress(rules...)
	}
	np := networkingv1ac.NetworkPolicy(platform.NetworkPolicyName, t.Namespace).WithLabels(t.Labels).WithSpec(spec)
	if t.Owner != nil {
		np.WithOwnerReferences(t.Owner)
	}
	return np
}

// PrivateCIDRs are never reachable from tenants under --tenant-egress=internet,
// whatever --cluster-cidrs says: RFC 1918 (nodes, most pod and Service
// ranges, other tenants), link-local (the cloud's metadata service at
// 169.254.169.254), carrier-grade NAT 100.64.0.0/10 (RFC 6598: some clouds'
// metadata services, e.g. 100.100.100.200, and many clusters' pod ranges),
// their IPv6 counterparts (unique local, link-local), and NAT64's
// 64:ff9b::/96 (RFC 6052: through a NAT64 gateway it reaches every IPv4
// address, the private ones included).
var PrivateCIDRs = []string{
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10",
	"fc00::/7", "fe80::/10", "64:ff9b::/96",
}

// DNSNamespace is where tenant pods may send DNS queries under
// --tenant-egress=internet.
const DNSNamespace = "kube-system"

// EgressRules are the egress rules of the tenant NetworkPolicy, nil when
// egress is open. Under TenantEgressInternet: DNS (UDP and TCP 53) to
// kube-system, any pod of the namespace itself, every IPv4 and IPv6
// address except PrivateCIDRs and cfg.ClusterCIDRs, and the database
// server (cfg.DatabaseCIDRs, its port only) when there is one.
func EgressRules(cfg platform.Config) []*networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration {
	if cfg.TenantEgress != platform.TenantEgressInternet {
		return nil
	}
	var except4, except6 []string
	for _, c := range append(slices.Clone(PrivateCIDRs), cfg.ClusterCIDRs...) {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			continue // flags are parsed with platform.ParseCIDRs
		}
		c = p.Masked().String()
		if p.Addr().Is4() {
			except4 = appendNew(except4, c)
		} else {
			except6 = appendNew(except6, c)
		}
	}
	dns := networkingv1ac.NetworkPolicyEgressRule().
		WithTo(networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
			metav1ac.LabelSelector().WithMatchLabels(map[string]string{corev1.LabelMetadataName: DNSNamespace}))).
		WithPorts(
			networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolUDP).WithPort(intstr.FromInt32(53)),
			networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(53)))
	ownNamespace := networkingv1ac.NetworkPolicyEgressRule().
		WithTo(networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()))
	internet := networkingv1ac.NetworkPolicyEgressRule().WithTo(
		networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR("0.0.0.0/0").WithExcept(except4...)),
		networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR("::/0").WithExcept(except6...)))
	rules := []*networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration{dns, ownNamespace, internet}
	if len(cfg.DatabaseCIDRs) > 0 {
		db := networkingv1ac.NetworkPolicyEgressRule().
			WithPorts(networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(int32(cfg.DatabasePort))))
		for _, c := range cfg.DatabaseCIDRs {
			db = db.WithTo(networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR(c)))
		}
		rules = append(rules, db)
	}
	return rules
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// BuildLimitRange gives containers of a site namespace default requests and
// limits of CPU, memory and ephemeral storage, so that a container asking
// for nothing fits the quota, and a floor of CPU and memory (MinCPU,
// MinMemory) for requests and limits, so that no container asks for 0.
func BuildLimitRange(t Target) *corev1ac.LimitRangeApplyConfiguration {
	return corev1ac.LimitRange(platform.LimitRangeName, t.Namespace).
		WithLabels(t.Labels).
		WithSpec(corev1ac.LimitRangeSpec().WithLimits(corev1ac.LimitRangeItem().
			WithType(corev1.LimitTypeContainer).
			WithMin(corev1.ResourceList{corev1.ResourceCPU: MinCPU, corev1.ResourceMemory: MinMemory}).
			WithDefaultRequest(corev1.ResourceList{corev1.ResourceCPU: DefaultCPURequest, corev1.ResourceMemory: DefaultMemoryRequest,
				corev1.ResourceEphemeralStorage: DefaultEphemeralStorageRequest}).
			WithDefault(corev1.ResourceList{corev1.ResourceCPU: DefaultCPULimit, corev1.ResourceMemory: DefaultMemoryLimit,
				corev1.ResourceEphemeralStorage: DefaultEphemeralStorageLimit})))
}

// AccountQuota is the hard limit of the account namespace: nothing runs
// there (sites run in their own namespaces, each with its plan's quota), so
// a workload deployed beside the account's objects cannot spend any site's
// resources, and no workload kind (Deployment, StatefulSet, Job, CronJob)
// may be created there at all. Secrets and ConfigMaps are counted (a few
// for a portal's or the tenant's own configuration; the ConfigMaps include
// the cluster's kube-root-ca.crt), NetworkPolicies are Landlord's one, no
// ResourceQuota but Landlord's, no CustomDomain (they live in site
// namespaces), and Memberships and Teams are bounded by
// --account-max-memberships and --account-max-teams: an account has no
// plan, so these are the platform's bounds against a tenant filling etcd,
// not something a plan sells. A new map every call: the apply decodes the
// server's answer into what it was given.
func AccountQuota(cfg platform.Config) corev1.ResourceList {
	zero := func() resource.Quantity { return *resource.NewQuantity(0, resource.DecimalSI) }
	n := func(v int64) resource.Quantity { return *resource.NewQuantity(v, resource.DecimalSI) }
	return corev1.ResourceList{
		corev1.ResourcePods:                     zero(),
		corev1.ResourceServices:                 zero(),
		corev1.ResourceServicesNodePorts:        zero(),
		corev1.ResourceServicesLoadBalancers:    zero(),
		corev1.ResourceReplicationControllers:   zero(),
		corev1.ResourceQuotas:                   n(1),
		corev1.ResourceSecrets:                  n(20),
		corev1.ResourceConfigMaps:               n(20),
		corev1.ResourceRequestsEphemeralStorage: zero(),
		corev1.ResourceLimitsEphemeralStorage:   zero(),
		corev1.ResourcePersistentVolumeClaims:   zero(),
		corev1.ResourceRequestsStorage:          zero(),
		corev1.ResourceRequestsCPU:              zero(),
		corev1.ResourceRequestsMemory:           zero(),
		corev1.ResourceLimitsCPU:                zero(),
		corev1.ResourceLimitsMemory:             zero(),
		platform.CountDeployments:               zero(),
		platform.CountStatefulSets:              zero(),
		platform.CountJobs:                      zero(),
		platform.CountCronJobs:                  zero(),
		platform.CountNetworkPolicies:           n(1),
		platform.CountCustomDomains:             zero(),
		platform.CountMemberships:               n(int64(cfg.AccountMaxMemberships)),
		platform.CountTeams:                     n(int64(cfg.AccountMaxTeams)),
	}
}

// BuildAccountQuota is the account namespace's ResourceQuota (AccountQuota).
func BuildAccountQuota(acct *hostingv1alpha1.Account, cfg platform.Config) *corev1ac.ResourceQuotaApplyConfiguration {
	return corev1ac.ResourceQuota(platform.QuotaName, cfg.AccountNamespace(acct.Name)).
		WithLabels(platform.AccountLabels(acct.Name)).
		WithOwnerReferences(accountOwner(acct)).
		WithSpec(corev1ac.ResourceQuotaSpec().WithHard(AccountQuota(cfg)))
}

// RBACSubject is the RoleBinding subject of a Landlord subject.
func RBACSubject(s hostingv1alpha1.Subject) *rbacv1ac.SubjectApplyConfiguration {
	sub := rbacv1ac.Subject().WithKind(string(s.Kind)).WithName(s.Name)
	if s.Kind == hostingv1alpha1.SubjectServiceAccount {
		return sub.WithAPIGroup("").WithNamespace(s.Namespace)
	}
	return sub.WithAPIGroup(rbacv1.GroupName)
}

// BuildOwnerBinding gives spec.owner the Owner role in the account
// namespace (the read-only role while the account is suspended).
func BuildOwnerBinding(acct *hostingv1alpha1.Account, cfg platform.Config) *rbacv1ac.RoleBindingApplyConfiguration {
	return BuildOwnerBindingIn(acct, AccountTarget(acct, cfg))
}

// BuildOwnerBindingIn gives spec.owner the Owner role (read-only while the
// account is suspended) in t.
func BuildOwnerBindingIn(acct *hostingv1alpha1.Account, t Target) *rbacv1ac.RoleBindingApplyConfiguration {
	rb := rbacv1ac.RoleBinding(platform.OwnerBindingName, t.Namespace).
		WithLabels(t.Labels).
		WithRoleRef(clusterRoleRef(BoundClusterRole(hostingv1alpha1.RoleOwner, acct.Spec.Suspension != nil))).
		WithSubjects(RBACSubject(acct.Spec.Owner))
	if t.Owner != nil {
		rb.WithOwnerReferences(t.Owner)
	}
	return rb
}

// MembershipLabelValue is the value of the membership label on a
// Membership's RoleBindings: its name, or, for names longer than a label
// value may be (63 characters), the name shortened with a hash, so that
// distinct memberships never share a value.
func MembershipLabelValue(membership string) string {
	if len(membership) <= 63 {
		return membership
	}
	sum := sha256.Sum256([]byte(membership))
	// Label values must end with an alphanumeric character: the hex digest does.
	return membership[:63-17] + "-" + hex.EncodeToString(sum[:8])
}

// MemberBindingLabels are the labels of a Membership's RoleBinding in t: t's
// (the account's, and the subscription's in a site namespace), and the
// membership's (with the account, they identify the bindings of one
// Membership across namespaces).
func MemberBindingLabels(t Target, membership string) map[string]string {
	l := maps.Clone(t.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[hostingv1alpha1.MembershipLabel] = MembershipLabelValue(membership)
	return l
}

// BuildMemberBinding is the RoleBinding of a Membership of account in the
// account namespace, owned by the Membership so that deleting it removes
// exactly this binding.
func BuildMemberBinding(m *hostingv1alpha1.Membership, account string, suspended bool) *rbacv1ac.RoleBindingApplyConfiguration {
	t := Target{Namespace: m.Namespace, Labels: platform.AccountLabels(account)}
	return memberBinding(m, t, suspended).
		WithOwnerReferences(metav1ac.OwnerReference().
			WithAPIVersion(hostingv1alpha1.GroupVersion.String()).
			WithKind("Membership").
			WithName(m.Name).
			WithUID(m.UID).
			WithController(true).
			WithBlockOwnerDeletion(true))
}

// BuildSiteMemberBinding is the RoleBinding of a Membership in a site
// namespace (SiteTarget). It has no owner reference (the Membership lives in
// another namespace, and the garbage collector deletes the dependents of a
// cross-namespace owner): the membership label identifies it, and the
// Membership's finalizer removes it.
func BuildSiteMemberBinding(m *hostingv1alpha1.Membership, t Target, suspended bool) *rbacv1ac.RoleBindingApplyConfiguration {
	return memberBinding(m, t, suspended)
}

func memberBinding(m *hostingv1alpha1.Membership, t Target, suspended bool) *rbacv1ac.RoleBindingApplyConfiguration {
	return rbacv1ac.RoleBinding(platform.MembershipBindingName(m.Name), t.Namespace).
		WithLabels(MemberBindingLabels(t, m.Name)).
		WithRoleRef(clusterRoleRef(BoundClusterRole(m.Spec.Role, suspended))).
		WithSubjects(RBACSubject(m.Spec.Subject))
}

func clusterRoleRef(name string) *rbacv1ac.RoleRefApplyConfiguration {
	return rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(name)
}

// RoleRefOf returns the ClusterRole name an apply configuration binds.
func RoleRefOf(rb *rbacv1ac.RoleBindingApplyConfiguration) string {
	if rb.RoleRef == nil || rb.RoleRef.Name == nil {
		return ""
	}
	return *rb.RoleRef.Name
}
