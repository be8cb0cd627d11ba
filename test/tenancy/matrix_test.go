package tenancy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Messages of the admission policies (config/admission).
const (
	landlords        = "is Landlord's (app.kubernetes.io/managed-by: landlord)"
	labelsLandlord   = "only Landlord labels objects app.kubernetes.io/managed-by: landlord"
	wideEgress       = "an egress rule of a tenant policy may allow only pods of this namespace"
	landlordsFinal   = "only Landlord and the provider may remove the finalizer hosting.landlord.dev/finalizer"
	othersFinal      = "finalizers on Landlord's kinds are Landlord's and the provider's"
	grantsNothing    = "where a Membership grants nothing; create it in the account namespace"
	teamNothing      = "where a Team grants nothing; create it in the account namespace"
	routesNothing    = "where a CustomDomain routes nothing; create it in the namespace of the site it is for"
	ownExpiry        = "you may not change or remove its expiresAt"
	ownTeamMember    = "you may not add yourself to a Team nor change or remove your own expiresAt"
	hold             = "example.com/hold"
	laterThanAnyDate = "2099-01-01T00:00:00Z"
	// landlordsPolicy: a tenant's change of Landlord's NetworkPolicy. Under
	// --tenant-egress=internet (the default) that policy carries ipBlock
	// egress rules, so both landlord-objects and
	// landlord-tenant-network-policies refuse the change, and the API server
	// reports whichever it evaluated first (alternatives split at "|").
	landlordsPolicy = landlords + "|" + wideEgress
)

// forbidden is a change no tenant role may make. rbacAllows says for which
// roles RBAC lets the request through, so that an admission policy must
// refuse it with msg; the other roles are refused by RBAC.
type forbidden struct {
	benchmark, name string
	do              func(c client.Client, tn tenant) error
	rbacAllows      func(v1.MembershipRole) bool
	msg             string
}

// ownForbidden is a forbidden change that a member makes to what names it
// (its own Membership, a Team entry of its own): do is made as the member
// of role r.
type ownForbidden struct {
	benchmark, name string
	do              func(c client.Client, tn tenant, r v1.MembershipRole) error
	rbacAllows      func(v1.MembershipRole) bool
	msg             string
}

func writers(r v1.MembershipRole) bool  { return writer(r) }
func editors(r v1.MembershipRole) bool  { return writer(r) || r == v1.RoleEditor }
func managers(r v1.MembershipRole) bool { return r == v1.RoleOwner || r == v1.RoleAdmin }
func nobody(v1.MembershipRole) bool     { return false }

// membershipOf is the key of the Membership of role r (newTenantOn names
// them after their roles).
func membershipOf(r v1.MembershipRole) func(tenant) client.ObjectKey {
	return func(tn tenant) client.ObjectKey {
		return client.ObjectKey{Namespace: tn.accountNS, Name: strings.ToLower(string(r))}
	}
}

var dry = client.DryRunAll

func siteKey(tn tenant, name string) client.ObjectKey {
	return client.ObjectKey{Namespace: tn.siteNS, Name: name}
}

// deleteOf deletes (dry run) the object of Landlord's named key, read as admin.
func deleteOf(obj client.Object, key func(tenant) client.ObjectKey) func(client.Client, tenant) error {
	return func(c client.Client, tn tenant) error {
		o := obj.DeepCopyObject().(client.Object)
		if err := env.Client.Get(ctx, key(tn), o); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		return c.Delete(ctx, o, dry)
	}
}

// patchOf merge-patches (dry run) the object of Landlord's named key.
func patchOf(obj client.Object, key func(tenant) client.ObjectKey, patch string) func(client.Client, tenant) error {
	return func(c client.Client, tn tenant) error {
		o := obj.DeepCopyObject().(client.Object)
		if err := env.Client.Get(ctx, key(tn), o); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		return c.Patch(ctx, o, client.RawPatch(types.MergePatchType, []byte(patch)), dry)
	}
}

func site(tn tenant) client.ObjectKey         { return siteKey(tn, platform.SiteName(tn.sub)) }
func volume(tn tenant) client.ObjectKey       { return siteKey(tn, platform.SiteVolumeName(tn.sub)) }
func policy(tn tenant) client.ObjectKey       { return siteKey(tn, platform.NetworkPolicyName) }
func quota(tn tenant) client.ObjectKey        { return siteKey(tn, platform.QuotaName) }
func limits(tn tenant) client.ObjectKey       { return siteKey(tn, platform.LimitRangeName) }
func ownerBinding(tn tenant) client.ObjectKey { return siteKey(tn, platform.OwnerBindingName) }
func accountPolicy(tn tenant) client.ObjectKey {
	return client.ObjectKey{Namespace: tn.accountNS, Name: platform.NetworkPolicyName}
}
func accountQuota(tn tenant) client.ObjectKey {
	return client.ObjectKey{Namespace: tn.accountNS, Name: platform.QuotaName}
}

// sitePod is the name of one of the site's pods.
func sitePod(tn tenant) client.ObjectKey {
	var pods corev1.PodList
	if err := env.Client.List(ctx, &pods, client.InNamespace(tn.siteNS), client.MatchingLabels{v1.SubscriptionLabel: tn.sub}); err != nil || len(pods.Items) == 0 {
		return siteKey(tn, "no-site-pod")
	}
	return client.ObjectKeyFromObject(&pods.Items[0])
}

func service(ns string, typ corev1.ServiceType) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("svc")}, Spec: corev1.ServiceSpec{Type: typ}}
	if typ == corev1.ServiceTypeExternalName {
		s.Spec.ExternalName = "example.com"
	} else {
		s.Spec.Ports = []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}
	}
	return s
}

// ownPolicy is a tenant's NetworkPolicy: ingress from anywhere in the
// cluster to its pods, egress as given.
func ownPolicy(ns string, egress ...networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("mine")},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}}},
			Egress:      egress,
		}}
}

var ownPods = networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}}}

func create(obj func(tenant) client.Object) func(client.Client, tenant) error {
	return func(c client.Client, tn tenant) error { return c.Create(ctx, obj(tn), dry) }
}

// forbiddenThings: each benchmark check that refuses something, as a change
// a tenant would try in its own site namespace (or account namespace).
var forbiddenThings = []forbidden{
	// MTB-PL1-BC-CPI-2 "Block Multitenant Resources": Landlord's objects.
	{"MTB-PL1-BC-CPI-2", "delete the site Deployment", deleteOf(&appsv1.Deployment{}, site), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "patch the site Deployment", patchOf(&appsv1.Deployment{}, site, `{"spec":{"template":{"spec":{"containers":[{"name":"site","image":"evil"}]}}}}`), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "scale the site Deployment", func(c client.Client, tn tenant) error {
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: site(tn).Name}}
		return c.SubResource("scale").Patch(ctx, dep, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":0}}`)),
			client.WithSubResourceBody(&autoscalingv1.Scale{}), dry)
	}, writers, landlords},
	{"MTB-PL1-BC-CPI-2", "remove the managed-by label from the site Deployment", patchOf(&appsv1.Deployment{}, site, `{"metadata":{"labels":{"app.kubernetes.io/managed-by":null}}}`), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "delete the site volume claim", deleteOf(&corev1.PersistentVolumeClaim{}, volume), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "patch the site Service's selector", patchOf(&corev1.Service{}, site, `{"spec":{"selector":{"app":"mine"}}}`), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "delete the site Service", deleteOf(&corev1.Service{}, site), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "delete a site pod", deleteOf(&corev1.Pod{}, sitePod), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "annotate a site pod", patchOf(&corev1.Pod{}, sitePod, `{"metadata":{"annotations":{"key1":"value1"}}}`), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "delete Landlord's NetworkPolicy", deleteOf(&networkingv1.NetworkPolicy{}, policy), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "widen Landlord's NetworkPolicy", patchOf(&networkingv1.NetworkPolicy{}, policy, `{"spec":{"ingress":[{}]}}`), writers, landlordsPolicy},
	{"MTB-PL1-BC-CPI-2", "delete Landlord's NetworkPolicy in the account namespace", deleteOf(&networkingv1.NetworkPolicy{}, accountPolicy), writers, landlords},
	{"MTB-PL1-BC-CPI-2", "delete the owner's RoleBinding", deleteOf(&rbacv1.RoleBinding{}, ownerBinding), nobody, ""},
	{"MTB-PL1-BC-CPI-2", "change Landlord's LimitRange", patchOf(&corev1.LimitRange{}, limits, `{"metadata":{"annotations":{"key1":"value1"}}}`), nobody, ""},
	{"MTB-PL1-BC-CPI-2", "label an own ConfigMap as Landlord's", create(func(tn tenant) client.Object {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: testenv.Name("forged"),
			Labels: map[string]string{v1.ManagedByLabel: v1.ManagedByValue}}}
	}), editors, labelsLandlord},
	{"MTB-PL1-BC-CPI-2", "label an own Database as Landlord's (a template's, which tenants cannot delete)", create(func(tn tenant) client.Object {
		return &v1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: testenv.Name("forged"),
			Labels: map[string]string{v1.ManagedByLabel: v1.ManagedByValue}}}
	}), writers, labelsLandlord},
	// MTB-PL1-CC-TI-1 "Block modification of resource quotas".
	{"MTB-PL1-CC-TI-1", "patch the site quota", patchOf(&corev1.ResourceQuota{}, quota, `{"spec":{"hard":{"limits.cpu":"100"}}}`), nobody, ""},
	{"MTB-PL1-CC-TI-1", "delete the site quota", deleteOf(&corev1.ResourceQuota{}, quota), nobody, ""},
	{"MTB-PL1-CC-TI-1", "delete the account quota", deleteOf(&corev1.ResourceQuota{}, accountQuota), nobody, ""},
	{"MTB-PL1-CC-TI-1", "create a ResourceQuota", create(func(tn tenant) client.Object {
		return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: "more"}}
	}), nobody, ""},
	// MTB-PL1-BC-HI-1 "Block use of NodePort services", and the Services
	// that would leave the platform's routes.
	{"MTB-PL1-BC-HI-1", "a NodePort Service", create(func(tn tenant) client.Object { return service(tn.siteNS, corev1.ServiceTypeNodePort) }),
		writers, "type NodePort is not allowed in tenant namespaces"},
	{"MTB-PL1-BC-HI-1", "a LoadBalancer Service", create(func(tn tenant) client.Object { return service(tn.siteNS, corev1.ServiceTypeLoadBalancer) }),
		writers, "type LoadBalancer is not allowed in tenant namespaces"},
	{"MTB-PL1-BC-HI-1", "an ExternalName Service", create(func(tn tenant) client.Object { return service(tn.siteNS, corev1.ServiceTypeExternalName) }),
		writers, "type ExternalName is not allowed in tenant namespaces"},
	// MTB-PL2-BC-OPS-4 "Create Network Policies": allowed, but not one that
	// widens the platform's egress.
	{"MTB-PL2-BC-OPS-4", "a NetworkPolicy allowing egress to 0.0.0.0/0", create(func(tn tenant) client.Object {
		return ownPolicy(tn.siteNS, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}})
	}), writers, wideEgress},
	{"MTB-PL2-BC-OPS-4", "a NetworkPolicy allowing egress to every namespace", create(func(tn tenant) client.Object {
		return ownPolicy(tn.siteNS, ownPods, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}})
	}), writers, wideEgress},
	{"MTB-PL2-BC-OPS-4", "a NetworkPolicy allowing egress anywhere on port 443", create(func(tn tenant) client.Object {
		return ownPolicy(tn.siteNS, networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{{Port: ptrIntstr(443)}}})
	}), writers, wideEgress},
	// Landlord's finalizers are Landlord's: no tenant removes one, swaps it
	// or adds its own (issue 29, item 7).
	{"Landlord's finalizers", "remove Landlord's finalizer from a Membership in the account namespace",
		patchOf(&v1.Membership{}, membershipOf(v1.RoleViewer), `{"metadata":{"finalizers":null}}`), managers, landlordsFinal},
	{"Landlord's finalizers", "swap Landlord's finalizer on a Membership in the account namespace",
		patchOf(&v1.Membership{}, membershipOf(v1.RoleViewer), `{"metadata":{"finalizers":["`+hold+`"]}}`), managers, landlordsFinal},
	{"Landlord's finalizers", "add a finalizer to a Membership in the account namespace",
		patchOf(&v1.Membership{}, membershipOf(v1.RoleViewer), `{"metadata":{"finalizers":["`+v1.Finalizer+`","`+hold+`"]}}`), managers, othersFinal},
	{"Landlord's finalizers", "create a CustomDomain with a finalizer", create(func(tn tenant) client.Object {
		return &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: testenv.Name("held"), Finalizers: []string{hold}},
			Spec: v1.CustomDomainSpec{Hostname: "held." + tn.account + ".example"}}
	}), writers, othersFinal},
	// Objects only where they mean something (item 8).
	{"Placement", "create a Membership in the site namespace", create(func(tn tenant) client.Object {
		return &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: "viewer"},
			Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: "richard@example.com"}, Role: v1.RoleViewer}}
	}), managers, grantsNothing},
	{"Placement", "create a Team in the site namespace", create(func(tn tenant) client.Object {
		return &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: "www-freelancers"},
			Spec: v1.TeamSpec{Role: v1.TeamRoleViewer, Members: []v1.TeamMember{{Subject: v1.Subject{Kind: v1.SubjectUser, Name: "f@example.com"}}}}}
	}), managers, teamNothing},
	{"Placement", "create a CustomDomain in the account namespace", create(func(tn tenant) client.Object {
		return &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: tn.accountNS, Name: "shop"},
			Spec: v1.CustomDomainSpec{Hostname: "shop." + tn.account + ".example"}}
	}), writers, routesNothing},
	// MTB-PL2-BC-OPS-3 "Create Role Bindings": refused by design (access is
	// given through Memberships and Teams only).
	{"MTB-PL2-BC-OPS-3 (refused by design)", "create a RoleBinding", create(func(tn tenant) client.Object {
		return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: "friend"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-tenant-viewer"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "friend@example.com"}}}
	}), nobody, ""},
	// Beyond the benchmarks: what runs stays within the plan and the
	// provider's placement (config/admission/tenant-pods.yaml, the LimitRange).
	// In a site namespace the LimitRange's min refuses a pod first; a pod
	// template (which no LimitRange sees) meets the admission policy.
	{"compute is counted", "a pod asking for 0 cpu and memory", create(func(tn tenant) client.Object {
		return podOf(tn.siteNS, func(p *corev1.Pod) { p.Spec.Containers[0].Resources = zeroCompute() })
	}), writers, "minimum cpu usage per Container is 10m, but request is 0"},
	{"compute is counted", "a Deployment asking for 0 cpu and memory", create(func(tn tenant) client.Object {
		return deploymentOf(tn.siteNS, map[string]string{"app": "mine"}, func(p *corev1.Pod) { p.Spec.Containers[0].Resources = zeroCompute() })
	}), writers, "container worker sets a cpu or memory request or limit to 0"},
	{"compute is counted", "a pod asking for 0 cpu and memory in the account namespace", create(func(tn tenant) client.Object {
		return podOf(tn.accountNS, func(p *corev1.Pod) { p.Spec.Containers[0].Resources = zeroCompute() })
	}), writers, "sets a cpu or memory request or limit to 0"},
	{"compute is counted", "a pod asking for less than the LimitRange's min", create(func(tn tenant) client.Object {
		return podOf(tn.siteNS, func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("5m")}
		})
	}), writers, "minimum cpu usage per Container is 10m"},
	{"compute is counted", "a memory emptyDir without sizeLimit", create(func(tn tenant) client.Object {
		return podOf(tn.siteNS, func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}}}
		})
	}), writers, "emptyDir volume tmp is memory-backed (medium: Memory) without a sizeLimit"},
	{"placement", "a grace period of a year", create(func(tn tenant) client.Object {
		return podOf(tn.siteNS, func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr.To(int64(365 * 24 * 3600)) })
	}), writers, "terminationGracePeriodSeconds 31536000 is more than the 60 seconds"},
	{"placement", "a pod naming its node", create(func(tn tenant) client.Object {
		return podOf(tn.siteNS, func(p *corev1.Pod) { p.Spec.NodeName = "kwok-node-0" })
	}), writers, "spec.nodeName is not allowed in tenant namespaces"},
	{"placement", "a pod tolerating every taint", create(func(tn tenant) client.Object {
		return podOf(tn.siteNS, func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}} })
	}), writers, "toleration (every key) is not allowed in tenant namespaces"},
	{"placement", "a pod of priority class system-node-critical", create(func(tn tenant) client.Object {
		return podOf(tn.siteNS, func(p *corev1.Pod) { p.Spec.PriorityClassName = "system-node-critical" })
	}), writers, "priorityClassName system-node-critical is not allowed in tenant namespaces"},
	// The site is the site: its Service selects hosting.landlord.dev/subscription.
	{"the site is the site", "a pod labelled as the site's", create(func(tn tenant) client.Object {
		return podOf(tn.siteNS, func(p *corev1.Pod) { p.Labels = map[string]string{v1.SubscriptionLabel: tn.sub} })
	}), writers, "the label hosting.landlord.dev/subscription is Landlord's"},
	{"the site is the site", "a Deployment whose pods are labelled as Landlord's", create(func(tn tenant) client.Object {
		return deploymentOf(tn.siteNS, map[string]string{"app": "mine", v1.ManagedByLabel: v1.ManagedByValue})
	}), writers, "the label app.kubernetes.io/managed-by in its pod template is Landlord's"},
	{"the site is the site", "a pod owned by the site's ReplicaSet", func(c client.Client, tn tenant) error {
		var sets appsv1.ReplicaSetList
		if err := env.Client.List(ctx, &sets, client.InNamespace(tn.siteNS), client.MatchingLabels{v1.SubscriptionLabel: tn.sub}); err != nil || len(sets.Items) == 0 {
			return fmt.Errorf("setup: the site has no ReplicaSet (%v)", err)
		}
		rs := sets.Items[0]
		return c.Create(ctx, podOf(tn.siteNS, func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID}}
		}), dry)
	}, writers, "owner references are not allowed on pods in tenant namespaces"},
	{"no long-lived tokens", "a service-account token Secret", create(func(tn tenant) client.Object {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: testenv.Name("token"),
			Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}}, Type: corev1.SecretTypeServiceAccountToken}
	}), writers, "type kubernetes.io/service-account-token is not allowed in tenant namespaces"},
}

// podOf is a tenant's pod that Pod Security "restricted" admits, changed by mod.
func podOf(ns string, mod ...func(*corev1.Pod)) *corev1.Pod {
	p := tenantPod(ns, nil)
	p.Labels = map[string]string{"app": "mine"}
	for _, m := range mod {
		m(p)
	}
	return p
}

// deploymentOf is a tenant's Deployment of podOf's pods labelled labels
// (selected by app: mine).
func deploymentOf(ns string, labels map[string]string, mod ...func(*corev1.Pod)) *appsv1.Deployment {
	p := podOf(ns, mod...)
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("mine")},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "mine"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: p.Spec}}}
}

func zeroCompute() corev1.ResourceRequirements {
	zero := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0"), corev1.ResourceMemory: resource.MustParse("0")}
	return corev1.ResourceRequirements{Requests: zero, Limits: zero}
}

// ownForbiddenThings: changes a member may not make to what names it.
var ownForbiddenThings = []ownForbidden{
	// Expiry is set from above (issue 29, item 10).
	{"Expiry from above", "extend one's own Membership in the account namespace",
		func(c client.Client, tn tenant, r v1.MembershipRole) error {
			return patchOf(&v1.Membership{}, membershipOf(r), `{"spec":{"expiresAt":"`+laterThanAnyDate+`"}}`)(c, tn)
		}, managers, ownExpiry},
	{"Expiry from above", "add oneself to a Team in the account namespace",
		func(c client.Client, tn tenant, r v1.MembershipRole) error {
			return c.Create(ctx, &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: tn.accountNS, Name: testenv.Name("self")},
				Spec: v1.TeamSpec{Role: v1.TeamRoleViewer, Sites: []string{tn.sub},
					Members: []v1.TeamMember{{Subject: v1.Subject{Kind: v1.SubjectUser, Name: tn.users[r]}}}}}, dry)
		}, managers, ownTeamMember},
}

func ptrIntstr(p int32) *intstr.IntOrString { v := intstr.FromInt32(p); return &v }

// Every role of a tenant is refused every forbidden change: by RBAC where
// its role lacks the verb, else by the admission policy, whose message says
// what to do instead.
func TestForbiddenMatrix(t *testing.T) {
	acme, _ := world(t)
	for _, r := range roles {
		c := acme.as(r)
		for _, f := range forbiddenThings {
			t.Run(string(r)+"/"+f.benchmark+" "+f.name, func(t *testing.T) {
				err := f.do(c, acme)
				if err != nil && strings.HasPrefix(err.Error(), "setup:") {
					t.Fatal(err)
				}
				checkRefused(t, err, f.rbacAllows(r), f.msg, f.benchmark)
			})
		}
		for _, f := range ownForbiddenThings {
			t.Run(string(r)+"/"+f.benchmark+" "+f.name, func(t *testing.T) {
				err := f.do(c, acme, r)
				if err != nil && strings.HasPrefix(err.Error(), "setup:") {
					t.Fatal(err)
				}
				checkRefused(t, err, f.rbacAllows(r), f.msg, f.benchmark)
			})
		}
	}
}

func checkRefused(t *testing.T, err error, byAdmission bool, msg, benchmark string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("%s: allowed", benchmark)
	case !apierrors.IsForbidden(err):
		t.Fatalf("%s: refused, but not as forbidden: %v", benchmark, err)
	case byAdmission && !slices.ContainsFunc(strings.Split(msg, "|"), func(m string) bool { return strings.Contains(err.Error(), m) }):
		t.Fatalf("%s: want the admission policy's %q, got: %v", benchmark, msg, err)
	case !byAdmission && !strings.Contains(err.Error(), "cannot "):
		t.Fatalf("%s: want RBAC's refusal, got: %v", benchmark, err)
	}
}

// MTB-PL1-BC-CPI-2's message tells the tenant what to do: the Subscription
// (in the account namespace) the object follows.
func TestLandlordsObjectMessage(t *testing.T) {
	acme, _ := world(t)
	err := deleteOf(&corev1.PersistentVolumeClaim{}, volume)(acme.as(v1.RoleOwner), acme)
	want := "it follows the Subscription " + acme.sub + " in namespace " + acme.accountNS
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want %q, got %v", want, err)
	}
	err = deleteOf(&networkingv1.NetworkPolicy{}, accountPolicy)(acme.as(v1.RoleOwner), acme)
	if want := "it follows the Account " + acme.account; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want %q, got %v", want, err)
	}
}

// MTB-PL2-BC-OPS-4 "Create Network Policies" and the self-service the
// roles have: Owner, Admin and Developer write their own NetworkPolicies
// (every verb, deletecollection included), Editors and above their
// ConfigMaps; Billing and Viewer write nothing.
func TestSelfService(t *testing.T) {
	acme, _ := world(t)
	for _, r := range roles {
		t.Run(string(r), func(t *testing.T) {
			c := acme.as(r)
			for _, ns := range []string{acme.siteNS, acme.accountNS} {
				for _, verb := range []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"} {
					allowed := can(t, acme.users[r], ns, "networking.k8s.io", "networkpolicies", verb)
					if want := writer(r) || (verb == "get" || verb == "list" || verb == "watch") && r != v1.RoleEditor && r != v1.RoleBilling && r != v1.RoleViewer; allowed != want {
						t.Errorf("can %s networkpolicies in %s: %v, want %v", verb, ns, allowed, want)
					}
				}
			}
			np := ownPolicy(acme.siteNS, ownPods)
			err := c.Create(ctx, np)
			if !writer(r) {
				checkRefused(t, err, false, "", "MTB-PL2-BC-OPS-4")
			} else {
				must(t, err)
				np.Spec.Egress = nil // narrow: no egress at all
				must(t, c.Update(ctx, np))
				must(t, c.Patch(ctx, np, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"tier":"web"}}}`))))
				must(t, c.Delete(ctx, np))
				// deletecollection: of the tenant's own, by label; one that
				// takes Landlord's policy along is refused.
				labelled := ownPolicy(acme.siteNS)
				labelled.Labels = map[string]string{"owner": "tenant"}
				must(t, c.Create(ctx, labelled))
				must(t, c.DeleteAllOf(ctx, &networkingv1.NetworkPolicy{}, client.InNamespace(acme.siteNS), client.MatchingLabels{"owner": "tenant"}))
				checkRefused(t, c.DeleteAllOf(ctx, &networkingv1.NetworkPolicy{}, client.InNamespace(acme.siteNS), dry), true,
					"networkpolicies "+platform.NetworkPolicyName+" "+landlords, "deletecollection of every NetworkPolicy")
			}
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: acme.siteNS, Name: testenv.Name("settings")}, Data: map[string]string{"a": "b"}}
			err = c.Create(ctx, cm)
			if r == v1.RoleBilling || r == v1.RoleViewer {
				checkRefused(t, err, false, "", "ConfigMap")
				return
			}
			must(t, err)
			must(t, c.Delete(ctx, cm))
		})
	}
	// Landlord's own policy is still there after every deletecollection.
	testenv.Eventually(t, wait, func() error {
		var list networkingv1.NetworkPolicyList
		if err := env.Client.List(ctx, &list, client.InNamespace(acme.siteNS)); err != nil || len(list.Items) != 1 {
			return fmt.Errorf("policies left: %d (%v)", len(list.Items), err)
		}
		return nil
	})
	must(t, env.Client.Get(ctx, policy(acme), &networkingv1.NetworkPolicy{}))
}

// can asks the API server whether user may verb resource in ns.
func can(t *testing.T, user, ns, group, resource, verb string) bool {
	t.Helper()
	sar := &authorizationSAR{user: user, ns: ns, group: group, resource: resource, verb: verb}
	return sar.allowed(t)
}

// MTB-PL1-CC-TI-2 "Block access to other tenant resources": a member of
// one account, whatever its role, reaches nothing of another account's
// namespaces.
func TestOtherTenantOutOfReach(t *testing.T) {
	acme, globex := world(t)
	for _, r := range roles {
		c := acme.as(r)
		for _, ns := range []string{globex.siteNS, globex.accountNS} {
			t.Run(string(r)+"/"+ns, func(t *testing.T) {
				for _, try := range []func() error{
					func() error { return c.List(ctx, &corev1.PodList{}, client.InNamespace(ns)) },
					func() error { return c.List(ctx, &v1.SubscriptionList{}, client.InNamespace(ns)) },
					func() error {
						return c.Get(ctx, client.ObjectKey{Namespace: ns, Name: platform.QuotaName}, &corev1.ResourceQuota{})
					},
					func() error { return c.List(ctx, &networkingv1.NetworkPolicyList{}, client.InNamespace(ns)) },
					func() error {
						return c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "x"}}, dry)
					},
					func() error { return c.Create(ctx, ownPolicy(ns), dry) },
					func() error {
						return c.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns), dry)
					},
				} {
					checkRefused(t, try(), false, "", "MTB-PL1-CC-TI-2")
				}
			})
		}
	}
}

// MTB-PL1-CC-CPI-1 "Block access to cluster resources": no tenant role
// reaches a cluster-scoped resource (its roles are bound per namespace).
func TestClusterResourcesOutOfReach(t *testing.T) {
	acme, _ := world(t)
	for _, r := range roles {
		for _, res := range [][2]string{{"", "nodes"}, {"", "namespaces"}, {"", "persistentvolumes"},
			{"rbac.authorization.k8s.io", "clusterroles"}, {"rbac.authorization.k8s.io", "clusterrolebindings"},
			{"storage.k8s.io", "storageclasses"}, {"admissionregistration.k8s.io", "validatingadmissionpolicies"},
			{"hosting.landlord.dev", "accounts"}, {"hosting.landlord.dev", "plans"}, {"hosting.landlord.dev", "domainclaims"}} {
			for _, verb := range []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"} {
				if can(t, acme.users[r], "", res[0], res[1], verb) {
					t.Errorf("%s may %s %s", r, verb, res[1])
				}
			}
		}
	}
}
