package tenancy_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

type authorizationSAR struct{ user, ns, group, resource, verb string }

func (s *authorizationSAR) allowed(t *testing.T) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: s.user, Groups: []string{"system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: s.ns, Group: s.group, Resource: s.resource, Verb: s.verb},
	}}
	must(t, env.Client.Create(ctx, sar))
	return sar.Status.Allowed
}

// tenantPod is a pod Pod Security "restricted" admits; resources as given
// (none: the LimitRange's defaults).
func tenantPod(ns string, res corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("worker")},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{
				Name: "worker", Image: "busybox:1",
				Resources:       corev1.ResourceRequirements{Limits: res, Requests: res},
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			}},
		},
	}
}

// MTB-PL1-CC-FNS-1 "Configure namespace resource quotas" and
// MTB-PL1-CC-FNS-2 "Configure namespace object limits": the site quota has
// requests and limits of cpu, memory and ephemeral storage, storage and the
// object counts, readable by the tenant (kubectl describe quota); a
// namespace refuses the object past each count and a pod past the
// ephemeral-storage quota; within the quota, a Developer's pod without any
// resources is admitted (the LimitRange's defaults). The site of this test
// is paused and scaled to zero by the provider first, since the site's own
// pod takes all of its plan's compute.
func TestQuotaCountsAndEphemeralStorage(t *testing.T) {
	world(t)
	must(t, env.Client.Create(ctx, &v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "counted"}, Spec: v1.PlanSpec{
		Limits: v1.Limits{Storage: q("2Gi"), CPU: q("500m"), Memory: q("512Mi"), EphemeralStorage: q("1Gi"),
			Objects: &v1.ObjectLimits{Pods: ptr.To[int32](2), Services: ptr.To[int32](1), Secrets: ptr.To[int32](1),
				ConfigMaps: ptr.To[int32](1), PersistentVolumeClaims: ptr.To[int32](0)}}}}))
	tn := newTenantOn(t, "initech", "counted")
	owner := tn.as(v1.RoleOwner)

	rq := &corev1.ResourceQuota{}
	must(t, owner.Get(ctx, quota(tn), rq)) // the tenant reads it
	for _, res := range []corev1.ResourceName{"requests.cpu", "limits.cpu", "requests.memory", "limits.memory",
		"requests.ephemeral-storage", "limits.ephemeral-storage", "requests.storage", "pods", "services", "secrets",
		"configmaps", "persistentvolumeclaims", "replicationcontrollers", "resourcequotas", "services.nodeports", "services.loadbalancers"} {
		if _, ok := rq.Spec.Hard[res]; !ok {
			t.Errorf("the quota has no %s: %v", res, rq.Spec.Hard)
		}
	}

	// Make room: the provider pauses the site and scales it to zero.
	sub := &v1.Subscription{}
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: tn.accountNS, Name: tn.sub}, sub))
	must(t, env.Client.Patch(ctx, sub, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"hosting.landlord.dev/paused":"true"}}}`))))
	dep := &appsv1.Deployment{}
	must(t, env.Client.Get(ctx, site(tn), dep))
	must(t, env.Client.Patch(ctx, dep, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":0}}`))))
	testenv.Eventually(t, wait, func() error {
		cur := &corev1.ResourceQuota{}
		if err := env.Client.Get(ctx, quota(tn), cur); err != nil {
			return err
		}
		if used := cur.Status.Used[corev1.ResourcePods]; !used.IsZero() {
			return fmt.Errorf("pods used: %s", used.String())
		}
		return nil
	})

	// Within the quota: a Developer's pod asking for nothing is admitted.
	must(t, tn.as(v1.RoleDeveloper).Create(ctx, tenantPod(tn.siteNS, nil), dry))
	// Past the ephemeral-storage quota (1Gi): refused, and said so.
	err := owner.Create(ctx, tenantPod(tn.siteNS, corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("2Gi"),
		corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}), dry)
	if err == nil || !strings.Contains(err.Error(), "exceeded quota") || !strings.Contains(err.Error(), "ephemeral-storage") {
		t.Fatalf("a pod past the ephemeral-storage quota: %v", err)
	}

	// Each count: fill what is left, then one more is refused naming it
	// (with what else it exceeds).
	small := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"),
		corev1.ResourceEphemeralStorage: resource.MustParse("10Mi")}
	for _, c := range []struct {
		res corev1.ResourceName
		obj func() client.Object
	}{
		{corev1.ResourcePods, func() client.Object { return tenantPod(tn.siteNS, small) }},
		{corev1.ResourceConfigMaps, func() client.Object {
			return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: testenv.Name("cm")}}
		}},
		{corev1.ResourceSecrets, func() client.Object {
			return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: testenv.Name("secret")}}
		}},
		{corev1.ResourceServices, func() client.Object { return service(tn.siteNS, corev1.ServiceTypeClusterIP) }},
		{corev1.ResourcePersistentVolumeClaims, func() client.Object {
			return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: tn.siteNS, Name: testenv.Name("claim")},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("100Mi")}}}}
		}},
	} {
		t.Run(string(c.res), func(t *testing.T) {
			created := 0
			for ; created < 20; created++ {
				err := owner.Create(ctx, c.obj())
				if err == nil {
					continue
				}
				want := "exceeded quota: " + platform.QuotaName
				if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), string(c.res)+"=") {
					t.Fatalf("after %d: want %q naming %s, got %v", created, want, c.res, err)
				}
				break
			}
			// The plan allows no claim besides the site's (whose volume
			// takes all of the storage quota anyway): the first is refused.
			if want := c.res != corev1.ResourcePersistentVolumeClaims; created == 20 || (created > 0) != want {
				t.Fatalf("%d created before the refusal", created)
			}
		})
	}
	// NodePorts and LoadBalancers are 0 even for the provider, whom the
	// guard-rail policy would let create them.
	for _, typ := range []corev1.ServiceType{corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer} {
		err := env.Client.Create(ctx, service(tn.siteNS, typ), dry)
		if err == nil || !strings.Contains(err.Error(), "exceeded quota") {
			t.Errorf("a %s Service by the provider: %v", typ, err)
		}
	}
}

// The cluster's own machinery still runs Landlord's objects: the
// controllers of kube-controller-manager (as their kube-system
// ServiceAccounts), the scheduler and the kubelets may delete and change
// the site's pods and ReplicaSets, as may the provider (group
// landlord:providers); a client with the same RBAC but none of those
// identities (a portal) may not. Then a site namespace's deletion (the
// namespace and garbage collectors) completes.
func TestClusterMachineryAndProviders(t *testing.T) {
	acme, _ := world(t)
	// RBAC as a cluster gives it: the kubelets' role (the Node authorizer's
	// in a cluster), and cluster-admin to the provider and the portal.
	for _, b := range []*rbacv1.ClusterRoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("nodes")}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:node"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:nodes"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("admins")}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "landlord:providers"},
				{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "portal@provider.test"}}},
	} {
		must(t, env.Client.Create(ctx, b))
		t.Cleanup(func() { _ = env.Client.Delete(ctx, b) })
	}
	rs := func(tn tenant) client.ObjectKey {
		var sets appsv1.ReplicaSetList
		must(t, env.Client.List(ctx, &sets, client.InNamespace(tn.siteNS)))
		return client.ObjectKeyFromObject(&sets.Items[0])
	}
	deletePod := deleteOf(&corev1.Pod{}, sitePod)
	scaleRS := patchOf(&appsv1.ReplicaSet{}, rs, `{"spec":{"replicas":1}}`)
	deleteDeployment := deleteOf(&appsv1.Deployment{}, site)
	for _, c := range []struct {
		who    string
		client client.Client
		try    map[string]func(client.Client, tenant) error
	}{
		{"replicaset controller", env.As("system:serviceaccount:kube-system:replicaset-controller"), map[string]func(client.Client, tenant) error{"delete a site pod": deletePod}},
		{"deployment controller", env.As("system:serviceaccount:kube-system:deployment-controller"), map[string]func(client.Client, tenant) error{"scale a ReplicaSet": scaleRS}},
		{"garbage collector", env.As("system:serviceaccount:kube-system:generic-garbage-collector"), map[string]func(client.Client, tenant) error{"delete the Deployment": deleteDeployment}},
		{"namespace controller", env.As("system:serviceaccount:kube-system:namespace-controller"), map[string]func(client.Client, tenant) error{"delete the volume claim": deleteOf(&corev1.PersistentVolumeClaim{}, volume)}},
		{"scheduler", env.As("system:kube-scheduler"), map[string]func(client.Client, tenant) error{"preempt a site pod": deletePod}},
		{"kubelet", env.As("system:node:"+"kwok-node", "system:nodes"), map[string]func(client.Client, tenant) error{"delete a site pod": deletePod}},
		{"provider", env.As("ops@provider.test", "landlord:providers"), map[string]func(client.Client, tenant) error{"delete a site pod": deletePod, "delete the Deployment": deleteDeployment}},
	} {
		for what, try := range c.try {
			if err := try(c.client, acme); err != nil {
				t.Errorf("%s may %s: %v", c.who, what, err)
			}
		}
	}
	portal := env.As("portal@provider.test")
	checkRefused(t, deletePod(portal, acme), true, landlords, "a cluster-admin that is neither Landlord nor the provider")
	checkRefused(t, deleteDeployment(portal, acme), true, landlords, "a cluster-admin that is neither Landlord nor the provider")

	// A site namespace's deletion completes: its Subscription goes, the
	// namespace controller and the garbage collector remove Landlord's
	// objects.
	tn := newTenantOn(t, "umbrella", "tenancy")
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: tn.accountNS, Name: tn.sub}}
	must(t, env.Client.Delete(ctx, sub))
	testenv.Eventually(t, wait, func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Name: tn.siteNS}, &corev1.Namespace{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("site namespace %s still there: %v", tn.siteNS, err)
	})
}

// Landlord as it runs in a cluster (its ServiceAccount, with the
// ClusterRole of config/rbac/manager and no group of the provider's) still
// writes its objects, and its ExternalName Service (the suspended page's, in
// Ingress mode) is allowed: the guard rails hold tenants only.
func TestLandlordInClusterIdentity(t *testing.T) {
	acme, _ := world(t)
	for _, f := range []string{"role.yaml", "role_binding.yaml"} {
		must(t, env.ApplyFile(ctx, filepath.Join(env.Root, "config", "rbac", "manager", f)))
	}
	landlord := env.As(platform.ManagerServiceAccountUser, "system:serviceaccounts", "system:serviceaccounts:landlord-system")
	testenv.Eventually(t, wait, func() error { // RBAC caches the new binding
		return patchOf(&appsv1.Deployment{}, site, `{"metadata":{"annotations":{"checked":"yes"}}}`)(landlord, acme)
	})
	must(t, landlord.Create(ctx, service(acme.siteNS, corev1.ServiceTypeExternalName), dry))
	must(t, patchOf(&corev1.Service{}, site, `{"metadata":{"annotations":{"checked":"yes"}}}`)(landlord, acme))
}
