package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/node"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/suspension"
)

// A suspended site runs nothing of the tenant's on the node, not only the
// site. The site's own pod takes the plan's whole CPU and memory, so the
// provider lends compute as in controllers/subscription/workloads_test.go:
// it pauses the Subscription and raises the site's quota. The Developer
// then runs a Deployment of one replica and a bare pod; their containers
// really run (containerd has a running task for each, and the Developer
// execs into them). Unpaused and suspended (past paidThrough and the
// grace), the Deployment is at 0 replicas with its count recorded, both
// pods are gone from the API — the kubelet confirms a pod's deletion only
// once its containers have stopped — and containerd has no running task
// for either. Renewed, the Deployment is back at 1 and the record gone.
//
// What the restored replica does next is the quota's: the resume puts the
// plan's quota back and the site's pod, created first, takes all of it, so
// the ReplicaSet's pod is refused (exceeded quota), which the test asserts.
// (Lending compute again by pausing the Subscription a second time, after
// the restore, was not observed by Landlord within two minutes here — the
// Paused condition stayed False with the annotation set — so the test does
// not go on to run the restored replica.)
func TestSuspensionStopsTheTenantsWorkloadForReal(t *testing.T) {
	start := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	s := policySite(t, "wernham-hogg")
	step("site ready")
	key := client.ObjectKey{Namespace: s.accountNS, Name: s.sub}
	// Unpaused before the account goes (cleanups run last first), should the
	// test stop while the Subscription is paused.
	t.Cleanup(func() {
		_ = env.Client.Patch(ctx, &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}},
			client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, v1.PausedAnnotation))))
	})

	lend(t, s)
	step("quota lent")
	tenant := env.As(s.developer)
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: tenantSpec()}}}
	debug := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "debug"}, Spec: tenantSpec()}
	must(t, tenant.Create(ctx, web))
	must(t, tenant.Create(ctx, debug))
	webPod := runningPod(t, s.ns, isWeb)
	debugPod := runningPod(t, s.ns, func(p *corev1.Pod) bool { return p.Name == "debug" })
	ids := map[string]string{}
	for _, p := range []*corev1.Pod{webPod, debugPod} {
		ids[p.Name] = strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
		out, err := kubectl("--as", s.developer, "-n", s.ns, "exec", p.Name, "--", node.BusyboxPath, "echo", "alive")
		if err != nil || strings.TrimSpace(out) != "alive" {
			t.Fatalf("the Developer's exec into %s/%s: %v: %s", s.ns, p.Name, err, out)
		}
	}
	tasks, err := env.Node.RunningTasks(ctx)
	must(t, err)
	for name, id := range ids {
		if !tasks[id] {
			t.Fatalf("containerd has no running task %s for %s/%s: %v", id, s.ns, name, tasks)
		}
	}
	step("the tenant's containers run on the node")

	pause(t, key, "null")
	// Past paidThrough and the grace period: suspended.
	clk.Step(2*time.Hour + time.Second)
	s.waitPhase(t, v1.PhaseSuspended)
	step("suspended")
	eventually(t, wait, replicasAre(web, 0, "1"))
	eventually(t, wait, func() error {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(s.ns)); err != nil {
			return err
		}
		for _, p := range pods.Items {
			if _, ours := ids[p.Name]; ours {
				return fmt.Errorf("pod %s/%s of the tenant still in the API (%s, deleting: %v)", s.ns, p.Name, p.Status.Phase, p.DeletionTimestamp != nil)
			}
		}
		return nil
	})
	step("the tenant's pods gone from the API")
	tasks, err = env.Node.RunningTasks(ctx)
	must(t, err)
	for name, id := range ids {
		if tasks[id] {
			t.Fatalf("containerd still runs task %s of the deleted pod %s/%s", id, s.ns, name)
		}
	}
	step("no tenant container runs on the node")

	// Renewed: paid for another month.
	var sub v1.Subscription
	must(t, env.Client.Get(ctx, key, &sub))
	sub.Spec.PaidThrough = &metav1.Time{Time: clk.Now().Add(30 * 24 * time.Hour)}
	must(t, env.Client.Update(ctx, &sub))
	s.waitPhase(t, v1.PhaseActive)
	readyPod(t, s.ns, s.sub)
	step("renewed, the site's pod ready")
	eventually(t, wait, replicasAre(web, 1, ""))
	step("web back at 1 replica")
	// The plan's quota is back and the site's pod holds all of it: the
	// restored replica is refused by the quota, not by the suspension.
	eventually(t, wait, func() error {
		var rs appsv1.ReplicaSetList
		if err := env.Client.List(ctx, &rs, client.InNamespace(s.ns), client.MatchingLabels{"app": "web"}); err != nil {
			return err
		}
		for _, r := range rs.Items {
			for _, c := range r.Status.Conditions {
				if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue && c.Reason == "FailedCreate" &&
					strings.Contains(c.Message, "exceeded quota: "+platform.QuotaName) && r.Generation == r.Status.ObservedGeneration && ptr.Deref(r.Spec.Replicas, 0) == 1 {
					return nil
				}
			}
		}
		return fmt.Errorf("no ReplicaSet of web at 1 replica refused by the plan's quota: %v", rs.Items)
	})
	step("web's pod refused by the plan's quota beside the site")
}

func isWeb(p *corev1.Pod) bool { return p.Labels["app"] == "web" }

// tenantSpec is a pod a Developer may run in a site namespace (restricted,
// with small requests and limits within the LimitRange): the site image's
// static server.
func tenantSpec() corev1.PodSpec {
	small := corev1.ResourceList{corev1.ResourceCPU: *q("10m"), corev1.ResourceMemory: *q("16Mi"), corev1.ResourceEphemeralStorage: *q("16Mi")}
	return corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "app", Image: node.StaticSiteImage, ImagePullPolicy: corev1.PullIfNotPresent,
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			Resources: corev1.ResourceRequirements{Requests: small, Limits: small}}}}
}

// runningPod waits for the one pod of ns that match selects to be Running.
func runningPod(t *testing.T, ns string, match func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var found *corev1.Pod
	eventually(t, wait, func() error {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return err
		}
		var states []string
		for i, p := range pods.Items {
			if !match(&p) {
				continue
			}
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) > 0 &&
				p.Status.ContainerStatuses[0].State.Running != nil {
				found = &pods.Items[i]
				return nil
			}
			states = append(states, fmt.Sprintf("%s %s %s", p.Name, p.Status.Phase, containerState(&p)))
		}
		return fmt.Errorf("no running pod of the tenant in %s yet: %v", ns, states)
	})
	return found
}

// pause sets (value "true") or removes (null) the Subscription's paused
// annotation and waits for its Paused condition to follow.
func pause(t *testing.T, key client.ObjectKey, value string) {
	t.Helper()
	must(t, env.Client.Patch(ctx, &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}},
		client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, v1.PausedAnnotation, value)))))
	want := metav1.ConditionFalse
	if value == `"true"` {
		want = metav1.ConditionTrue
	}
	eventually(t, wait, func() error {
		var sub v1.Subscription
		if err := env.Client.Get(ctx, key, &sub); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(sub.Status.Conditions, v1.ConditionPaused); c == nil || c.Status != want {
			return fmt.Errorf("subscription %s (annotations %v, rv %s): Paused is %v, want %s", key, sub.Annotations, sub.ResourceVersion, c, want)
		}
		return nil
	})
}

// lend is the provider lending the site compute: it pauses the
// Subscription (so that Landlord does not put the plan's quota back) and
// raises the quota's CPU and memory, then waits until the quota enforces it.
func lend(t *testing.T, s site) {
	t.Helper()
	pause(t, client.ObjectKey{Namespace: s.accountNS, Name: s.sub}, `"true"`)
	must(t, env.Client.Patch(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: platform.QuotaName}},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"hard":{"requests.cpu":"1","limits.cpu":"1","requests.memory":"1Gi","limits.memory":"1Gi"}}}`))))
	eventually(t, wait, func() error {
		var rq corev1.ResourceQuota
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: platform.QuotaName}, &rq); err != nil {
			return err
		}
		if h := rq.Status.Hard[corev1.ResourceLimitsCPU]; h.Cmp(resource.MustParse("1")) != 0 {
			return fmt.Errorf("the quota of %s enforces limits.cpu %s", s.ns, h.String())
		}
		return nil
	})
}

// replicasAre checks d's replica count and its suspension record (none
// for "").
func replicasAre(d *appsv1.Deployment, want int32, record string) func() error {
	return func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return err
		}
		rec, ok := d.Annotations[suspension.ReplicasAnnotation]
		if got := ptr.Deref(d.Spec.Replicas, 1); got != want || rec != record || (record == "") == ok {
			return fmt.Errorf("deployment %s/%s: %d replicas, record %q (%v); want %d, record %q", d.Namespace, d.Name, got, rec, ok, want, record)
		}
		return nil
	}
}
