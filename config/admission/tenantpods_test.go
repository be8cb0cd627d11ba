package admission_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenantpods"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// podWorld is newWorld plus a site namespace (labelled with the account and
// a subscription, as Landlord labels one) where the same tenant may write,
// once the tenant pod policies are enforced.
type podWorld struct {
	world
	siteNS string
}

func newPodWorld(t *testing.T) podWorld {
	t.Helper()
	w := podWorld{world: newWorld(t), siteNS: testenv.Name("site")}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.siteNS, Labels: map[string]string{
			v1.AccountLabel: w.tenantNS, v1.SubscriptionLabel: "www"}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: w.siteNS, Name: "tester"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: w.role},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: w.user}}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: w.siteNS, Name: "default"}, &corev1.ServiceAccount{}); err != nil {
			return err
		}
		bad := pod(w.siteNS, func(p *corev1.Pod) { p.Spec.NodeName = "node-1" })
		if err := w.tenant.Create(ctx, bad, client.DryRunAll); err == nil {
			return fmt.Errorf("the tenant pod policy is not enforced yet")
		}
		labelled := pod(w.siteNS, func(p *corev1.Pod) { p.Labels[v1.SubscriptionLabel] = "www" })
		if err := w.tenant.Create(ctx, labelled, client.DryRunAll); err == nil {
			return fmt.Errorf("the tenant pod label policy is not enforced yet")
		}
		token := saToken(w.siteNS)
		if err := w.tenant.Create(ctx, token, client.DryRunAll); err == nil {
			return fmt.Errorf("the service-account token policy is not enforced yet")
		}
		return nil
	})
	return w
}

// pod is a plain pod named web that every policy admits, changed by mod.
func pod(ns string, mod ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}},
			Containers:     []corev1.Container{{Name: "web", Image: "nginx"}},
		},
	}
	for _, m := range mod {
		m(p)
	}
	return p
}

func saToken(ns string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "forever",
		Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
		Type: corev1.SecretTypeServiceAccountToken}
}

func resources(cpu, memory string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)},
	}
}

// Compute is always counted: a container or init container asking for 0
// cpu or memory (request or limit) is refused, in a site namespace and in
// an account namespace, on a pod and on a workload's pod template; the same
// pod asking for nothing (the LimitRange's defaults) or for a real amount
// is admitted. The provider is not held.
func TestTenantPodsAskForComputeResources(t *testing.T) {
	w := newPodWorld(t)
	for _, ns := range []string{w.siteNS, w.tenantNS} {
		for _, tc := range []struct {
			name      string
			mod       func(*corev1.Pod)
			container string // "" = admitted
		}{
			{"cpu and memory 0", func(p *corev1.Pod) { p.Spec.Containers[0].Resources = resources("0", "0") }, "web"},
			{"cpu request 0", func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0")}
			}, "web"},
			{"memory limit 0Mi", func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("0Mi")}
			}, "web"},
			{"init container at 0", func(p *corev1.Pod) { p.Spec.InitContainers[0].Resources = resources("0m", "0") }, "init"},
			{"real amounts", func(p *corev1.Pod) { p.Spec.Containers[0].Resources = resources("10m", "16Mi") }, ""},
			{"nothing asked", func(*corev1.Pod) {}, ""},
		} {
			t.Run(ns+"/"+tc.name, func(t *testing.T) {
				err := w.tenant.Create(ctx, pod(ns, tc.mod), client.DryRunAll)
				if tc.container == "" {
					accepted(t, "tenant creates the pod", err)
					return
				}
				refused(t, "tenant creates the pod", err,
					"Pod web: container "+tc.container+" sets a cpu or memory request or limit to 0; in tenant namespaces every container asks for at least 10m cpu and 16Mi memory")
				accepted(t, "provider creates the pod", env.Client.Create(ctx, pod(ns, tc.mod), client.DryRunAll))
			})
		}
	}
	zero := pod(w.siteNS, func(p *corev1.Pod) { p.Spec.Containers[0].Resources = resources("0", "0") })
	for _, o := range workloads(w.siteNS, zero.Spec) {
		kind := strings.TrimPrefix(fmt.Sprintf("%T", o), "*v1.")
		if kind == "Pod" {
			continue
		}
		refused(t, "tenant creates a "+kind, w.tenant.Create(ctx, o, client.DryRunAll),
			kind+" web: container web sets a cpu or memory request or limit to 0")
	}
	tmpl := &corev1.PodTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: w.siteNS, Name: "web"},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: zero.Spec}}
	refused(t, "tenant creates a PodTemplate", w.tenant.Create(ctx, tmpl, client.DryRunAll),
		"PodTemplate web: container web sets a cpu or memory request or limit to 0")
}

// A memory-backed emptyDir needs a sizeLimit (not 0); a disk-backed one and
// a bounded one are admitted.
func TestTenantPodsBoundMemoryVolumes(t *testing.T) {
	w := newPodWorld(t)
	withVolume := func(medium corev1.StorageMedium, size *resource.Quantity) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{
				EmptyDir: &corev1.EmptyDirVolumeSource{Medium: medium, SizeLimit: size}}}}
		}
	}
	want := "Pod web: emptyDir volume scratch is memory-backed (medium: Memory) without a sizeLimit; set emptyDir.sizeLimit"
	refused(t, "memory emptyDir without sizeLimit", w.tenant.Create(ctx, pod(w.siteNS, withVolume(corev1.StorageMediumMemory, nil)), client.DryRunAll), want)
	refused(t, "memory emptyDir of size 0", w.tenant.Create(ctx, pod(w.siteNS, withVolume(corev1.StorageMediumMemory, ptr.To(resource.MustParse("0")))), client.DryRunAll), want)
	accepted(t, "memory emptyDir of 64Mi", w.tenant.Create(ctx, pod(w.siteNS, withVolume(corev1.StorageMediumMemory, ptr.To(resource.MustParse("64Mi")))), client.DryRunAll))
	accepted(t, "disk emptyDir without sizeLimit", w.tenant.Create(ctx, pod(w.siteNS, withVolume(corev1.StorageMediumDefault, nil)), client.DryRunAll))
	d := workloads(w.siteNS, pod(w.siteNS, withVolume(corev1.StorageMediumMemory, nil)).Spec)[1]
	refused(t, "Deployment with a memory emptyDir without sizeLimit", w.tenant.Create(ctx, d, client.DryRunAll),
		"Deployment web: emptyDir volume scratch is memory-backed")
}

// A grace period above the bound (60 s by default) is refused, on pods and
// templates; at the bound, or left out (30 s), it is admitted.
func TestTenantPodsGracePeriodIsBounded(t *testing.T) {
	w := newPodWorld(t)
	grace := func(s int64) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr.To(s) }
	}
	year := int64(365 * 24 * 3600)
	refused(t, "a pod with a grace period of a year", w.tenant.Create(ctx, pod(w.siteNS, grace(year)), client.DryRunAll),
		"Pod web: terminationGracePeriodSeconds 31536000 is more than the 60 seconds this platform allows in tenant namespaces")
	refused(t, "a pod with a grace period of 61 s", w.tenant.Create(ctx, pod(w.siteNS, grace(61)), client.DryRunAll),
		"terminationGracePeriodSeconds 61 is more than the 60 seconds")
	accepted(t, "a pod with a grace period of 60 s", w.tenant.Create(ctx, pod(w.siteNS, grace(60)), client.DryRunAll))
	accepted(t, "the provider's pod with a grace period of a year", env.Client.Create(ctx, pod(w.siteNS, grace(year)), client.DryRunAll))
	cj := workloads(w.siteNS, pod(w.siteNS, grace(year)).Spec)[6]
	refused(t, "a CronJob with a grace period of a year", w.tenant.Create(ctx, cj, client.DryRunAll),
		"CronJob web: terminationGracePeriodSeconds 31536000 is more than the 60 seconds")
	// Deleting a pod with a grace period of a year would keep it running as
	// long. (The API server deletes an unscheduled pod at once, whatever the
	// grace period asked: this one is bound to a node, by the provider, as
	// the scheduler would.)
	running := pod(w.siteNS, func(p *corev1.Pod) { p.Name = testenv.Name("running"); p.Spec.NodeName = "node-1" })
	accepted(t, "a pod on a node", env.Client.Create(ctx, running))
	refused(t, "deleting it with a grace period of a year", w.tenant.Delete(ctx, running, client.GracePeriodSeconds(year), client.DryRunAll),
		"Pod "+running.Name+": a grace period of 31536000 seconds is more than the 60 seconds this platform allows in tenant namespaces")
	accepted(t, "deleting it with a grace period of 60 s", w.tenant.Delete(ctx, running, client.GracePeriodSeconds(60), client.DryRunAll))
	accepted(t, "deleting it", w.tenant.Delete(ctx, running))
}

// spec.nodeName is refused: it skips the scheduler.
func TestTenantPodsAreScheduled(t *testing.T) {
	w := newPodWorld(t)
	onNode := func(p *corev1.Pod) { p.Spec.NodeName = "node-1" }
	refused(t, "a pod with nodeName", w.tenant.Create(ctx, pod(w.siteNS, onNode), client.DryRunAll),
		"Pod web: spec.nodeName is not allowed in tenant namespaces")
	refused(t, "a StatefulSet with nodeName", w.tenant.Create(ctx, workloads(w.siteNS, pod(w.siteNS, onNode).Spec)[2], client.DryRunAll),
		"StatefulSet web: spec.nodeName is not allowed in tenant namespaces")
	accepted(t, "the provider's pod with nodeName", env.Client.Create(ctx, pod(w.siteNS, onNode), client.DryRunAll))
}

// Tolerations and priority classes: none by default (but the two
// Kubernetes adds to every pod); with the manager's flags listing some,
// exactly those are admitted, once the manager has started.
func TestTenantPodsTolerationsAndPriorityClasses(t *testing.T) {
	w := newPodWorld(t)
	class := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("tenant-high")}, Value: 1000}
	if err := env.Client.Create(ctx, class); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, class) })
	tolerate := func(tol ...corev1.Toleration) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Tolerations = tol }
	}
	dedicated := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "tenants", Effect: corev1.TaintEffectNoSchedule}
	other := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "globex", Effect: corev1.TaintEffectNoSchedule}
	everything := corev1.Toleration{Operator: corev1.TolerationOpExists}
	prio := func(p *corev1.Pod) { p.Spec.PriorityClassName = class.Name }

	// The defaults: none.
	refused(t, "a pod tolerating dedicated=tenants", w.tenant.Create(ctx, pod(w.siteNS, tolerate(dedicated)), client.DryRunAll),
		"Pod web: toleration dedicated=tenants:NoSchedule is not allowed in tenant namespaces (it would place the pod on nodes the provider keeps for others); remove it: this platform allows no tolerations")
	refused(t, "a pod tolerating every taint", w.tenant.Create(ctx, pod(w.siteNS, tolerate(everything)), client.DryRunAll),
		"Pod web: toleration (every key) is not allowed in tenant namespaces")
	refused(t, "a pod naming a priority class", w.tenant.Create(ctx, pod(w.siteNS, prio), client.DryRunAll),
		"Pod web: priorityClassName "+class.Name+" is not allowed in tenant namespaces (it would preempt other tenants' pods); remove it: this platform allows no priority class")
	refused(t, "a Deployment naming a priority class", w.tenant.Create(ctx, workloads(w.siteNS, pod(w.siteNS, prio).Spec)[1], client.DryRunAll),
		"Deployment web: priorityClassName "+class.Name+" is not allowed")
	// What Kubernetes adds to every pod (DefaultTolerationSeconds) passes:
	// a real create of a plain pod gets them.
	plain := pod(w.siteNS, func(p *corev1.Pod) { p.Name = testenv.Name("plain") })
	accepted(t, "a plain pod", w.tenant.Create(ctx, plain))
	if len(plain.Spec.Tolerations) == 0 {
		t.Errorf("the API server added no toleration to the pod: the test does not show they pass")
	}

	// The manager lists the toleration and the class.
	cfg := platform.Default()
	cfg.TenantTolerations = []string{"dedicated=tenants:NoSchedule"}
	cfg.TenantPriorityClasses = []string{class.Name}
	env.StartManagerT(t, cfg, testenv.ManagerEpoch, manager.AccountController)
	t.Cleanup(func() {
		// Back to the defaults for the other tests (the manager is stopped by then).
		if err := tenantpods.Apply(ctx, env.Client, env.Client, platform.Default()); err != nil {
			t.Error(err)
		}
		testenv.Eventually(t, 30*time.Second, func() error {
			if err := w.tenant.Create(ctx, pod(w.siteNS, prio), client.DryRunAll); err == nil {
				return fmt.Errorf("the priority class is still admitted")
			}
			return nil
		})
	})
	testenv.Eventually(t, 30*time.Second, func() error {
		return w.tenant.Create(ctx, pod(w.siteNS, tolerate(dedicated), prio), client.DryRunAll)
	})
	accepted(t, "a Deployment tolerating dedicated=tenants with the listed class",
		w.tenant.Create(ctx, workloads(w.siteNS, pod(w.siteNS, tolerate(dedicated), prio).Spec)[1], client.DryRunAll))
	refused(t, "a pod tolerating dedicated=globex", w.tenant.Create(ctx, pod(w.siteNS, tolerate(other)), client.DryRunAll),
		"Pod web: toleration dedicated=globex:NoSchedule is not allowed in tenant namespaces (it would place the pod on nodes the provider keeps for others); remove it, or use one this platform allows: dedicated=tenants:NoSchedule")
	refused(t, "a pod tolerating every taint", w.tenant.Create(ctx, pod(w.siteNS, tolerate(everything)), client.DryRunAll),
		"toleration (every key) is not allowed")
	refused(t, "a pod tolerating dedicated=tenants for any effect",
		w.tenant.Create(ctx, pod(w.siteNS, tolerate(corev1.Toleration{Key: "dedicated", Value: "tenants"})), client.DryRunAll),
		"toleration dedicated=tenants is not allowed")
	// Adding a toleration to a running pod (allowed by the API) is checked too.
	refused(t, "a toleration added to a running pod", w.tenant.Patch(ctx, plain,
		client.RawPatch(types.JSONPatchType, []byte(`[{"op":"add","path":"/spec/tolerations/-","value":{"key":"dedicated","operator":"Equal","value":"globex","effect":"NoSchedule"}}]`)),
		client.DryRunAll), "toleration dedicated=globex:NoSchedule is not allowed")
}

// The site is the site: a tenant may not put Landlord's labels on a pod
// (when creating it or later) nor on a pod template, nor give a pod owner
// references. The provider may.
func TestTenantPodsCarryNoneOfLandlordsLabels(t *testing.T) {
	w := newPodWorld(t)
	siteLabel := func(p *corev1.Pod) { p.Labels[v1.SubscriptionLabel] = "www" }
	refused(t, "a pod labelled hosting.landlord.dev/subscription", w.tenant.Create(ctx, pod(w.siteNS, siteLabel), client.DryRunAll),
		"Pod web: the label hosting.landlord.dev/subscription is Landlord's")
	refused(t, "a pod labelled hosting.landlord.dev/account", w.tenant.Create(ctx, pod(w.tenantNS, func(p *corev1.Pod) {
		p.Labels[v1.AccountLabel] = w.tenantNS
	}), client.DryRunAll), "Pod web: the label hosting.landlord.dev/account is Landlord's")
	accepted(t, "the provider's pod labelled hosting.landlord.dev/subscription", env.Client.Create(ctx, pod(w.siteNS, siteLabel), client.DryRunAll))

	// Relabelling a running pod.
	running := pod(w.siteNS, func(p *corev1.Pod) { p.Name = testenv.Name("running") })
	accepted(t, "a plain pod", w.tenant.Create(ctx, running))
	refused(t, "relabelling it hosting.landlord.dev/subscription", w.tenant.Patch(ctx, running,
		client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"hosting.landlord.dev/subscription":"www"}}}`))),
		"Pod "+running.Name+": the label hosting.landlord.dev/subscription is Landlord's")
	accepted(t, "relabelling it tier: web", w.tenant.Patch(ctx, running,
		client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"tier":"web"}}}`))))

	// Pod templates.
	for i := 1; i < 7; i++ { // every kind but Pod
		for key, value := range map[string]string{v1.ManagedByLabel: v1.ManagedByValue, v1.SubscriptionLabel: "www"} {
			o := workloads(w.siteNS, pod(w.siteNS).Spec)[i]
			kind := strings.TrimPrefix(fmt.Sprintf("%T", o), "*v1.")
			templateOf(o).Labels = map[string]string{"app": "web", key: value}
			refused(t, "a "+kind+" whose template is labelled "+key, w.tenant.Create(ctx, o, client.DryRunAll),
				kind+" web: the label "+key+" in its pod template is Landlord's")
		}
	}
	d := workloads(w.siteNS, pod(w.siteNS).Spec)[1].(*appsv1.Deployment)
	accepted(t, "a plain Deployment", w.tenant.Create(ctx, d))
	d.Spec.Template.Labels = map[string]string{"app": "web", v1.ManagedByLabel: v1.ManagedByValue}
	refused(t, "labelling its template managed-by landlord", w.tenant.Update(ctx, d, client.DryRunAll),
		"Deployment web: the label app.kubernetes.io/managed-by in its pod template is Landlord's")
	tmpl := &corev1.PodTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: w.siteNS, Name: "web"},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1.SubscriptionLabel: "www"}},
			Spec: pod(w.siteNS).Spec}}
	refused(t, "a PodTemplate labelled hosting.landlord.dev/subscription", w.tenant.Create(ctx, tmpl, client.DryRunAll),
		"PodTemplate web: the label hosting.landlord.dev/subscription in its pod template is Landlord's")

	// Owner references.
	owned := func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "www-5d4f8c7b9",
			UID: "6b2f1c1e-0000-4000-8000-000000000001", Controller: ptr.To(true)}}
	}
	refused(t, "a pod owned by a ReplicaSet", w.tenant.Create(ctx, pod(w.siteNS, owned), client.DryRunAll),
		"Pod web: owner references are not allowed on pods in tenant namespaces (this one names ReplicaSet www-5d4f8c7b9)")
	refused(t, "an owner reference added to a running pod", w.tenant.Patch(ctx, running,
		client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"www-5d4f8c7b9","uid":"6b2f1c1e-0000-4000-8000-000000000001"}]}}`)),
		client.DryRunAll), "owner references are not allowed on pods in tenant namespaces (this one names ReplicaSet www-5d4f8c7b9)")
	accepted(t, "the provider's pod owned by a ReplicaSet", env.Client.Create(ctx, pod(w.siteNS, owned), client.DryRunAll))
}

// templateOf is the pod template of a workload of workloads().
func templateOf(o client.Object) *corev1.PodTemplateSpec {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template
	case *appsv1.StatefulSet:
		return &o.Spec.Template
	case *appsv1.DaemonSet:
		return &o.Spec.Template
	case *appsv1.ReplicaSet:
		return &o.Spec.Template
	case *batchv1.Job:
		return &o.Spec.Template
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template
	}
	panic(fmt.Sprintf("%T has no pod template", o))
}

// No long-lived tokens: a tenant's Secret of type
// kubernetes.io/service-account-token is refused; an Opaque one is not, and
// the provider may create one.
func TestTenantsCreateNoServiceAccountTokens(t *testing.T) {
	w := newPodWorld(t)
	for _, ns := range []string{w.siteNS, w.tenantNS} {
		refused(t, "a service-account token Secret in "+ns, w.tenant.Create(ctx, saToken(ns), client.DryRunAll),
			"Secret forever: type kubernetes.io/service-account-token is not allowed in tenant namespaces (its token never expires)")
	}
	accepted(t, "an Opaque Secret", w.tenant.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.siteNS, Name: "config"},
		StringData: map[string]string{"k": "v"}}, client.DryRunAll))
	accepted(t, "the provider's service-account token Secret", env.Client.Create(ctx, saToken(w.siteNS), client.DryRunAll))
	accepted(t, "a service-account token Secret outside tenant namespaces", w.tenant.Create(ctx, saToken(w.otherNS), client.DryRunAll))
}

// The manager's generated ClusterRole (config/rbac/manager, from the
// +kubebuilder:rbac marker in internal/tenantpods) lets Landlord's
// ServiceAccount write the flags' values into landlord-tenant-pods, and the
// API server then holds tenants to them; it may not change any other
// admission policy.
func TestManagerRoleWritesTheTenantPodValues(t *testing.T) {
	w := newPodWorld(t)
	if err := env.ApplyFile(ctx, filepath.Join(env.Root, "config", "rbac", "manager", "role.yaml")); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("manager")},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-manager"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: platform.ManagerServiceAccountUser}}}
	if err := env.Client.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, crb) })
	landlord := env.As(platform.ManagerServiceAccountUser, "system:serviceaccounts", "system:serviceaccounts:landlord-system")

	grace := func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr.To(int64(90)) }
	refused(t, "a grace period of 90 s", w.tenant.Create(ctx, pod(w.siteNS, grace), client.DryRunAll),
		"terminationGracePeriodSeconds 90 is more than the 60 seconds")
	cfg := platform.Default()
	cfg.TenantMaxTerminationGracePeriodSeconds = 120
	var err error
	testenv.Eventually(t, 30*time.Second, func() error { // RBAC takes a moment to see the binding
		err = tenantpods.Apply(ctx, landlord, landlord, cfg)
		return err
	})
	t.Cleanup(func() {
		if err := tenantpods.Apply(ctx, env.Client, env.Client, platform.Default()); err != nil {
			t.Error(err)
		}
		testenv.Eventually(t, 30*time.Second, func() error {
			if err := w.tenant.Create(ctx, pod(w.siteNS, grace), client.DryRunAll); err == nil {
				return fmt.Errorf("a grace period of 90 s is still admitted")
			}
			return nil
		})
	})
	testenv.Eventually(t, 30*time.Second, func() error {
		return w.tenant.Create(ctx, pod(w.siteNS, grace), client.DryRunAll)
	})
	refused(t, "a grace period of 121 s", w.tenant.Create(ctx, pod(w.siteNS, func(p *corev1.Pod) {
		p.Spec.TerminationGracePeriodSeconds = ptr.To(int64(121))
	}), client.DryRunAll), "terminationGracePeriodSeconds 121 is more than the 120 seconds")

	other := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "landlord-tenant-services"}}
	if err := landlord.Patch(ctx, other, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"failurePolicy":"Ignore"}}`)), client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("the manager patches another admission policy: want Forbidden, got %v", err)
	}
}

// The cluster's controllers make the site's pods (Landlord's labels, an
// owner reference to its ReplicaSet, the tolerations and priority class the
// cluster adds) and every workload's pods: they are exempt from those rules
// by identity (a kube-system ServiceAccount), and held to the others when
// they create a tenant workload's pod. Tenants cannot act as them.
func TestClusterControllersMakePods(t *testing.T) {
	w := newPodWorld(t)
	const controller = "system:serviceaccount:kube-system:replicaset-controller"
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: w.siteNS, Name: "replicaset-controller"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: w.role},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: controller}}}
	if err := env.Client.Create(ctx, rb); err != nil {
		t.Fatal(err)
	}
	kcm := env.As(controller, "system:serviceaccounts", "system:serviceaccounts:kube-system")
	sitePod := func(p *corev1.Pod) {
		p.Labels = map[string]string{v1.SubscriptionLabel: "www", v1.ManagedByLabel: v1.ManagedByValue}
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "www-5d4f8c7b9",
			UID: "6b2f1c1e-0000-4000-8000-000000000001", Controller: ptr.To(true)}}
		p.Spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/memory-pressure", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	}
	testenv.Eventually(t, 30*time.Second, func() error { // RBAC takes a moment to see the binding
		return kcm.Create(ctx, pod(w.siteNS, sitePod), client.DryRunAll)
	})
	// A pod of a tenant's workload: owned and tolerating, but held to the rest.
	workloadPod := func(p *corev1.Pod) {
		sitePod(p)
		p.Labels = map[string]string{"app": "web"}
	}
	accepted(t, "the controller creates a workload's pod", kcm.Create(ctx, pod(w.siteNS, workloadPod), client.DryRunAll))
	refused(t, "the controller creates a pod with nodeName", kcm.Create(ctx, pod(w.siteNS, workloadPod, func(p *corev1.Pod) { p.Spec.NodeName = "node-1" }), client.DryRunAll),
		"Pod web: spec.nodeName is not allowed in tenant namespaces")
	refused(t, "the controller creates a pod asking for 0 cpu", kcm.Create(ctx, pod(w.siteNS, workloadPod, func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources = resources("0", "16Mi")
	}), client.DryRunAll), "Pod web: container web sets a cpu or memory request or limit to 0")
	// (One refusal is reported, landlord-objects' for the managed-by label: each part alone.)
	refused(t, "a tenant creates a pod with the site's label", w.tenant.Create(ctx, pod(w.siteNS, func(p *corev1.Pod) {
		p.Labels = map[string]string{v1.SubscriptionLabel: "www"}
	}), client.DryRunAll), "the label hosting.landlord.dev/subscription is Landlord's")
	refused(t, "a tenant creates a pod owned by the site's ReplicaSet", w.tenant.Create(ctx, pod(w.siteNS, func(p *corev1.Pod) {
		sitePod(p)
		p.Labels, p.Spec.Tolerations = map[string]string{"app": "web"}, nil
	}), client.DryRunAll), "owner references are not allowed on pods in tenant namespaces")
	refused(t, "a tenant creates a pod with the controller's toleration", w.tenant.Create(ctx, pod(w.siteNS, func(p *corev1.Pod) {
		sitePod(p)
		p.Labels, p.OwnerReferences = map[string]string{"app": "web"}, nil
	}), client.DryRunAll), "toleration node.kubernetes.io/memory-pressure:NoSchedule is not allowed")
}
