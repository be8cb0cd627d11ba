package node

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// The plan's memory limit is the kernel's: the site container's memory
// cgroup has exactly the plan's 64Mi, and a process in the container that
// goes past it is OOM-killed by the node (SIGKILL: exit code 137).
func TestMemoryLimitIsEnforcedByTheNode(t *testing.T) {
	s := newSite(t, "initech")
	pod := readyPod(t, s.ns, s.sub)
	exec := func(script string) (string, error) {
		return kubectl("--as", s.developer, "-n", s.ns, "exec", pod.Name, "-c", "site", "--", "sh", "-c", script)
	}
	out, err := exec("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")
	if err != nil || strings.TrimSpace(out) != "67108864" {
		t.Fatalf("the site container's memory limit = %q (%v), want 67108864 (the plan's 64Mi)", out, err)
	}
	// 150 MB held in a shell variable.
	out, err = exec(`x=$(head -c 150000000 /dev/zero | tr '\0' a); echo ${#x}`)
	if err == nil || !strings.Contains(out, "exit code 137") {
		t.Fatalf("a process past the memory limit was not OOM-killed: %v: %s", err, out)
	}
	// The site itself is still there.
	readyPod(t, s.ns, s.sub)
}

// The site container's ephemeral-storage limit (the site namespace's
// LimitRange default) is the kubelet's: a container that writes past it in
// its own filesystem gets its pod evicted, and the site comes back in a new
// pod.
func TestEphemeralStorageLimitEvictsThePod(t *testing.T) {
	s := newSite(t, "umbrella")
	pod := readyPod(t, s.ns, s.sub)
	limit := pod.Spec.Containers[0].Resources.Limits[corev1.ResourceEphemeralStorage]
	if limit.Cmp(resource.MustParse("512Mi")) != 0 {
		t.Fatalf("the site container's ephemeral-storage limit = %s, want the LimitRange's 512Mi", limit.String())
	}
	// 600 MB into the container's own filesystem; the exec may end with the pod.
	_, _ = kubectl("--as", s.developer, "-n", s.ns, "exec", pod.Name, "-c", "site", "--",
		"sh", "-c", "head -c 600000000 /dev/zero > /tmp/fill; sleep 60")
	// The kubelet says so in an Event on the pod (reason Evicted). It also
	// marks the pod Failed with that reason, but the container's own exit on
	// the eviction's SIGTERM can race it into another terminal phase, so the
	// Event is what is checked.
	eventually(t, wait, func() error {
		var events corev1.EventList
		if err := env.Client.List(ctx, &events, client.InNamespace(s.ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.InvolvedObject.UID != pod.UID || e.Reason != "Evicted" {
				continue
			}
			// "Pod ephemeral local storage usage exceeds ..." or "Container site
			// exceeded its local ephemeral storage limit ...", as the kubelet
			// finds the pod's or the container's limit passed first.
			if !strings.Contains(e.Message, "ephemeral local storage") && !strings.Contains(e.Message, "local ephemeral storage") {
				t.Errorf("pod %s evicted for %q, want its ephemeral local storage", pod.Name, e.Message)
			}
			return nil
		}
		var p corev1.Pod
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: pod.Name}, &p); err == nil {
			return errorf("pod %s: phase %s reason %q, no Evicted event yet", p.Name, p.Status.Phase, p.Status.Reason)
		}
		return errorf("pod %s: no Evicted event yet", pod.Name)
	})
	// The Deployment brings the site back in a new pod (the evicted one may
	// still read ready for a moment after the event).
	eventually(t, wait, func() error {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(s.ns), client.MatchingLabels{v1.SubscriptionLabel: s.sub}); err != nil {
			return err
		}
		for i := range pods.Items {
			if p := &pods.Items[i]; p.UID != pod.UID && podReady(p) {
				return nil
			}
		}
		return errorf("no ready pod of the site but the evicted %s yet", pod.Name)
	})
}
