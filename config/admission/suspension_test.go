package admission_test

import (
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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/suspension"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// In a site namespace labelled suspended, a Developer starts nothing: no
// pod, no Deployment or StatefulSet with replicas or scaled up, no CronJob
// or Job that is not suspended; what starts nothing passes, and the
// provider is not held. In any site namespace, the records a suspension
// leaves on workloads are Landlord's.
func TestNothingStartsInASuspendedSite(t *testing.T) {
	site := func(suspended bool) string {
		ns := testenv.Name("site")
		l := map[string]string{v1.AccountLabel: "acme", v1.SubscriptionLabel: "www"}
		if suspended {
			l[suspension.NamespaceLabel] = "true"
		}
		must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: l}}))
		return ns
	}
	stopped, running := site(true), site(false)
	dev := "dev@" + stopped + ".example"
	for _, ns := range []string{stopped, running} {
		must(t, env.Client.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dev"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "landlord-tenant-developer"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: dev}}}))
	}
	tenant := env.As(dev)

	podSpec := corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}
	serving := corev1.PodSpec{Containers: podSpec.Containers} // restartPolicy Always
	pod := func(ns string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("pod")}, Spec: podSpec}
	}
	deployment := func(ns string, replicas int32) *appsv1.Deployment {
		l := map[string]string{"app": "x"}
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("web")}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}, Spec: serving}}}
	}
	statefulSet := func(ns string, replicas int32) *appsv1.StatefulSet {
		l := map[string]string{"app": "x"}
		return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("db")}, Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To(replicas), ServiceName: "db", Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}, Spec: serving}}}
	}
	cronJob := func(ns string, suspend bool) *batchv1.CronJob {
		return &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("cron")}, Spec: batchv1.CronJobSpec{
			Schedule: "0 3 * * *", Suspend: ptr.To(suspend),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: podSpec}}}}}
	}
	job := func(ns string, suspend bool) *batchv1.Job {
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("job")}, Spec: batchv1.JobSpec{
			Suspend: ptr.To(suspend), Template: corev1.PodTemplateSpec{Spec: podSpec}}}
	}
	merge := func(s string) client.Patch { return client.RawPatch(types.MergePatchType, []byte(s)) }

	const why = "is suspended: nothing may start in it until it is resumed"
	refused := func(what, want string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want Forbidden saying %q, got %v", what, want, err)
		}
	}
	allowed := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: want it allowed, got %v", what, err)
		}
	}
	// The policy may take a moment to be enforced (and the binding to be authorised).
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := tenant.Create(ctx, pod(stopped), client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), why) {
			return fmt.Errorf("a pod is not refused yet: %v", err)
		}
		return nil
	})

	refused("a pod", "the site www (namespace "+stopped+") "+why, tenant.Create(ctx, pod(stopped)))
	refused("a Deployment with a replica", "create it with replicas: 0", tenant.Create(ctx, deployment(stopped, 1)))
	refused("a StatefulSet with a replica", "create it with replicas: 0", tenant.Create(ctx, statefulSet(stopped, 1)))
	refused("a running CronJob", "create it with suspend: true", tenant.Create(ctx, cronJob(stopped, false)))
	refused("a running Job", "create it with suspend: true", tenant.Create(ctx, job(stopped, false)))

	web := deployment(stopped, 0)
	allowed("a Deployment at 0", tenant.Create(ctx, web))
	refused("scaling it up", "replicas may not go up (0 to 2)", tenant.Patch(ctx, web.DeepCopy(), merge(`{"spec":{"replicas":2}}`)))
	refused("scaling it up through /scale", why, tenant.SubResource("scale").Update(ctx, web.DeepCopy(),
		client.WithSubResourceBody(&autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Namespace: stopped, Name: web.Name}, Spec: autoscalingv1.ScaleSpec{Replicas: 1}})))
	allowed("another edit", tenant.Patch(ctx, web.DeepCopy(), merge(`{"metadata":{"labels":{"tier":"front"}}}`)))
	big := deployment(stopped, 3)
	allowed("the provider's Deployment with replicas", env.Client.Create(ctx, big))
	allowed("scaling it down", tenant.Patch(ctx, big.DeepCopy(), merge(`{"spec":{"replicas":1}}`)))
	allowed("a StatefulSet at 0", tenant.Create(ctx, statefulSet(stopped, 0)))
	cj := cronJob(stopped, true)
	allowed("a suspended CronJob", tenant.Create(ctx, cj))
	refused("resuming it", "it may not be resumed", tenant.Patch(ctx, cj.DeepCopy(), merge(`{"spec":{"suspend":false}}`)))
	allowed("a suspended Job", tenant.Create(ctx, job(stopped, true)))
	allowed("the provider's pod", env.Client.Create(ctx, pod(stopped), client.DryRunAll))

	// In service: all of it passes.
	allowed("a pod in service", tenant.Create(ctx, pod(running), client.DryRunAll))
	allowed("a Deployment in service", tenant.Create(ctx, deployment(running, 2), client.DryRunAll))
	allowed("a running CronJob in service", tenant.Create(ctx, cronJob(running, false), client.DryRunAll))

	// The records are Landlord's (the provider's), in any site namespace.
	recorded := deployment(running, 0)
	recorded.Annotations = map[string]string{suspension.ReplicasAnnotation: "3"}
	const records = "only Landlord may set, change or remove the annotation "
	refused("a Deployment created with a record", records+suspension.ReplicasAnnotation, tenant.Create(ctx, recorded.DeepCopy()))
	allowed("the provider records", env.Client.Create(ctx, recorded))
	refused("changing the record", records+suspension.ReplicasAnnotation, tenant.Patch(ctx, recorded.DeepCopy(),
		merge(fmt.Sprintf(`{"metadata":{"annotations":{%q:"9"}}}`, suspension.ReplicasAnnotation))))
	refused("removing the record", records+suspension.ReplicasAnnotation, tenant.Patch(ctx, recorded.DeepCopy(),
		merge(fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, suspension.ReplicasAnnotation))))
	refused("a CronJob's record", records+suspension.SuspendAnnotation, tenant.Patch(ctx, cj.DeepCopy(),
		merge(fmt.Sprintf(`{"metadata":{"annotations":{%q:"false"}}}`, suspension.SuspendAnnotation))))
	allowed("other annotations", tenant.Patch(ctx, recorded.DeepCopy(), merge(`{"metadata":{"annotations":{"team":"web"}}}`)))
}
