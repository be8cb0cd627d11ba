package subscription_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
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
	"github.com/landlord-dev/landlord/internal/suspension"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// tenantPodSpec is a pod spec the site namespace's Pod Security level
// (restricted) admits, asking for a little CPU and memory.
func tenantPodSpec() corev1.PodSpec {
	small := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"), corev1.ResourceEphemeralStorage: resource.MustParse("16Mi")}
	return corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "app", Image: "busybox",
			Resources: corev1.ResourceRequirements{Requests: small, Limits: small},
			SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
	}
}

func tenantDeployment(ns, name string, replicas int32) *appsv1.Deployment {
	l := map[string]string{"app": name}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: l},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}, Spec: tenantPodSpec()}}}
}

func tenantCronJob(ns, name string, suspend bool) *batchv1.CronJob {
	tmpl := tenantPodSpec()
	tmpl.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: batchv1.CronJobSpec{
		Schedule: "0 3 * * *", Suspend: ptr.To(suspend),
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: tmpl}}}}}
}

// A suspended site runs nothing of the tenant's: its Deployments and
// StatefulSets go to 0 replicas, its CronJobs are suspended, its running
// Job and bare pod are deleted, and no tenant pod is left; while it is
// suspended a tenant cannot start anything again. A renewal brings back
// exactly what ran: the counts, the CronJob's flag; what the tenant had
// stopped itself (a Deployment at 0, a suspended CronJob) stays stopped.
func TestSuspensionStopsTenantWorkloadsAndRenewalRestoresThem(t *testing.T) {
	clk, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	sub := newSubscription(t, ns, newPlan(t, nil), newTemplate(t, "nginx:1.27"), nil)
	site := siteNS(cfg, sub)
	testenv.Eventually(t, wait, func() error { return condition(get(t, sub), v1.ConditionReady, metav1.ConditionFalse, "") })
	testenv.Eventually(t, wait, func() error {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: platform.QuotaName}, &corev1.ResourceQuota{})
	})

	// A developer of the site.
	dev := "dev@" + ns + ".example"
	must(t, env.Client.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "dev"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-tenant-developer"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: dev}}}))
	tenant := env.As(dev)

	// The site's pod holds the whole plan's compute: for the tenant's pods to
	// run while the site is active (issue 29: a pod admitted then kept
	// running after the suspension), the provider pauses Landlord and lends
	// the namespace more quota, then lets Landlord put its quota back (a
	// quota never removes what runs).
	pause := func(value string) {
		t.Helper()
		must(t, env.Client.Patch(ctx, &v1.Subscription{ObjectMeta: sub.ObjectMeta}, client.RawPatch(types.MergePatchType,
			[]byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, v1.PausedAnnotation, value)))))
	}
	pause(`"true"`)
	testenv.Eventually(t, wait, func() error { return condition(get(t, sub), v1.ConditionPaused, metav1.ConditionTrue, "") })
	must(t, env.Client.Patch(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: platform.QuotaName}},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"hard":{"requests.cpu":"10","limits.cpu":"10","requests.memory":"10Gi","limits.memory":"10Gi"}}}`))))
	testenv.Eventually(t, wait, func() error {
		q := &corev1.ResourceQuota{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: platform.QuotaName}, q); err != nil {
			return err
		}
		if h := q.Status.Hard[corev1.ResourceLimitsCPU]; h.Cmp(resource.MustParse("10")) != 0 {
			return fmt.Errorf("the quota enforces limits.cpu %s", h.String())
		}
		return nil
	})

	web := tenantDeployment(site, "web", 2)
	idle := tenantDeployment(site, "idle", 0)
	dbLabels := map[string]string{"app": "db"}
	db := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "db"}, Spec: appsv1.StatefulSetSpec{
		Replicas: ptr.To[int32](1), ServiceName: "db", Selector: &metav1.LabelSelector{MatchLabels: dbLabels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: dbLabels}, Spec: tenantPodSpec()}}}
	nightly := tenantCronJob(site, "nightly", false)
	paused := tenantCronJob(site, "paused", true)
	jobPod := tenantPodSpec()
	jobPod.RestartPolicy = corev1.RestartPolicyNever
	migrate := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "migrate"}, Spec: batchv1.JobSpec{
		Template: corev1.PodTemplateSpec{Spec: jobPod}}}
	debug := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "debug"}, Spec: tenantPodSpec()}
	for _, o := range []client.Object{web, idle, db, nightly, paused, migrate, debug} {
		must(t, tenant.Create(ctx, o))
	}
	// A pod that names one of the tenant's ConfigMaps as its controller, so
	// that it looks owned.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "owner"}}
	must(t, tenant.Create(ctx, cm))
	hidden := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "hidden", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: "v1", Kind: "ConfigMap", Name: cm.Name, UID: cm.UID, Controller: ptr.To(true)}}}, Spec: tenantPodSpec()}
	// Tenants may not put owner references on pods any more
	// (landlord-tenant-pod-labels); such a pod made before that policy, or by
	// the provider, is still the tenant's to be stopped.
	must(t, env.Client.Create(ctx, hidden))
	tenantPods := func() ([]string, error) {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(site)); err != nil {
			return nil, err
		}
		var running []string
		for _, p := range pods.Items {
			if p.Labels[v1.ManagedByLabel] != v1.ManagedByValue && p.DeletionTimestamp.IsZero() && p.Status.Phase == corev1.PodRunning {
				running = append(running, p.Name)
			}
		}
		return running, nil
	}
	// The bare pod and web's two run.
	testenv.Eventually(t, wait, func() error {
		running, err := tenantPods()
		if err == nil && len(running) != 4 {
			err = fmt.Errorf("running tenant pods %v, want web's two, debug and hidden", running)
		}
		return err
	})
	pause("null")
	testenv.Eventually(t, wait, func() error { return condition(get(t, sub), v1.ConditionPaused, metav1.ConditionFalse, "") })

	// Past paidThrough and the grace period: suspended for non-payment.
	clk.Set(sub.Spec.PaidThrough.Add(24*time.Hour + time.Second))
	replicas := func(obj client.Object, want int32, record string) func() error {
		return func() error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
			var got *int32
			switch o := obj.(type) {
			case *appsv1.Deployment:
				got = o.Spec.Replicas
			case *appsv1.StatefulSet:
				got = o.Spec.Replicas
			}
			rec, ok := obj.GetAnnotations()[suspension.ReplicasAnnotation]
			if *got != want || rec != record || (record == "") == ok {
				return fmt.Errorf("%T %s: %d replicas, record %q (%v); want %d, record %q", obj, obj.GetName(), *got, rec, ok, want, record)
			}
			return nil
		}
	}
	suspended := func(cj *batchv1.CronJob, want bool, record string) func() error {
		return func() error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(cj), cj); err != nil {
				return err
			}
			rec, ok := cj.Annotations[suspension.SuspendAnnotation]
			if *cj.Spec.Suspend != want || rec != record || (record == "") == ok {
				return fmt.Errorf("CronJob %s: suspend %v, record %q (%v); want %v, record %q", cj.Name, *cj.Spec.Suspend, rec, ok, want, record)
			}
			return nil
		}
	}
	testenv.Eventually(t, wait, all(
		func() error {
			return condition(get(t, sub), v1.ConditionSuspended, metav1.ConditionTrue, string(v1.SuspensionNonPayment))
		},
		replicas(web, 0, "2"), replicas(idle, 0, ""), replicas(db, 0, "1"),
		suspended(nightly, true, "false"), suspended(paused, true, ""),
		func() error { return deleted(migrate) }, func() error { return deleted(debug) }, func() error { return deleted(hidden) },
		func() error {
			if got := get(t, sub).Status.Site.StoppedWorkloads; got == nil || *got != (v1.StoppedWorkloads{Deployments: 1, StatefulSets: 1, CronJobs: 1}) {
				return fmt.Errorf("status.site.stoppedWorkloads %+v", got)
			}
			return nil
		},
		func() error { return hasEvent(sub, "WorkloadsStopped") },
	))
	// Nothing of the tenant's runs any more.
	testenv.Eventually(t, wait, func() error {
		running, err := tenantPods()
		if err == nil && len(running) > 0 {
			err = fmt.Errorf("tenant pods still running on a suspended site: %v", running)
		}
		return err
	})

	// Nor can the tenant start anything again.
	refused := func(what, want string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want Forbidden saying %q, got %v", what, want, err)
		}
	}
	const why = "is suspended: nothing may start in it until it is resumed"
	testenv.Eventually(t, 30*time.Second, func() error { // the binding and namespace label are seen
		if err := tenant.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "probe"}, Spec: tenantPodSpec()}, client.DryRunAll); !apierrors.IsForbidden(err) {
			return fmt.Errorf("a pod is not refused yet: %v", err)
		}
		return nil
	})
	refused("a bare pod", why, tenant.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "again"}, Spec: tenantPodSpec()}))
	refused("scaling web up", "replicas may not go up (0 to 3)", tenant.Patch(ctx, &appsv1.Deployment{ObjectMeta: web.ObjectMeta},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":3}}`))))
	scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "idle"}, Spec: autoscalingv1.ScaleSpec{Replicas: 1}}
	refused("scaling idle up through its scale", why, tenant.SubResource("scale").Update(ctx, &appsv1.Deployment{ObjectMeta: idle.ObjectMeta}, client.WithSubResourceBody(scale)))
	refused("a new Deployment that runs", "create it with replicas: 0", tenant.Create(ctx, tenantDeployment(site, "new", 1)))
	refused("resuming the CronJob", "it may not be resumed", tenant.Patch(ctx, &batchv1.CronJob{ObjectMeta: nightly.ObjectMeta},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"suspend":false}}`))))
	refused("a Job", "create it with suspend: true", tenant.Create(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "again"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: jobPod}}}))
	refused("dropping web's record", "only Landlord may set, change or remove the annotation "+suspension.ReplicasAnnotation,
		tenant.Patch(ctx, &appsv1.Deployment{ObjectMeta: web.ObjectMeta}, client.RawPatch(types.MergePatchType,
			[]byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, suspension.ReplicasAnnotation)))))
	// What starts nothing stays allowed.
	must(t, tenant.Create(ctx, tenantDeployment(site, "later", 0)))
	must(t, tenant.Patch(ctx, &appsv1.Deployment{ObjectMeta: web.ObjectMeta}, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"tier":"front"}}}`))))

	// The customer pays: renewed from the old paidThrough.
	update(t, sub, func(s *v1.Subscription) {
		s.Spec.PaidThrough = &metav1.Time{Time: s.Spec.PaidThrough.Add(60 * 24 * time.Hour)}
	})
	testenv.Eventually(t, wait, all(
		func() error { return condition(get(t, sub), v1.ConditionSuspended, metav1.ConditionFalse, "") },
		replicas(web, 2, ""), replicas(idle, 0, ""), replicas(db, 1, ""), replicas(tenantDeployment(site, "later", 0), 0, ""),
		suspended(nightly, false, ""), suspended(paused, true, ""),
		func() error {
			cur := get(t, sub)
			if cur.Status.Site.StoppedWorkloads != nil {
				return fmt.Errorf("status.site.stoppedWorkloads %+v after the renewal", cur.Status.Site.StoppedWorkloads)
			}
			if _, ok := cur.Annotations[suspension.StoppedAnnotation]; ok {
				return errors.New("the subscription still says workloads are stopped")
			}
			return nil
		},
		func() error { return hasEvent(sub, "WorkloadsRestored") },
	))
	// The tenant runs things again.
	must(t, tenant.Patch(ctx, &appsv1.Deployment{ObjectMeta: idle.ObjectMeta}, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":1}}`))))
}

// all returns the first error of checks.
func all(checks ...func() error) func() error {
	return func() error {
		for _, c := range checks {
			if err := c(); err != nil {
				return err
			}
		}
		return nil
	}
}
