package suspension

import (
	"encoding/json"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// patch renders a change as the merge patch sent ("" for none).
func patch(t *testing.T, c *Change) string {
	t.Helper()
	if c == nil {
		return ""
	}
	b, err := c.MergePatch("7")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStopReplicas(t *testing.T) {
	for _, c := range []struct {
		name     string
		ann      map[string]string
		replicas *int32
		want     string
	}{
		{"running: scaled to 0, count recorded", nil, ptr.To[int32](3), `{"metadata":{"annotations":{"hosting.landlord.dev/replicas-before-suspension":"3"},"resourceVersion":"7"},"spec":{"replicas":0}}`},
		{"replicas unset means 1", nil, nil, `{"metadata":{"annotations":{"hosting.landlord.dev/replicas-before-suspension":"1"},"resourceVersion":"7"},"spec":{"replicas":0}}`},
		{"at 0 by the tenant: left alone, no record", nil, ptr.To[int32](0), ""},
		{"stopped and recorded: nothing", map[string]string{ReplicasAnnotation: "3"}, ptr.To[int32](0), ""},
		{"recorded but running again: to 0, record kept", map[string]string{ReplicasAnnotation: "3"}, ptr.To[int32](5), `{"metadata":{"resourceVersion":"7"},"spec":{"replicas":0}}`},
	} {
		if got := patch(t, StopReplicas(c.ann, c.replicas)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestRestoreReplicas(t *testing.T) {
	for _, c := range []struct {
		name string
		ann  map[string]string
		want string
	}{
		{"recorded: count back, record removed", map[string]string{ReplicasAnnotation: "3"}, `{"metadata":{"annotations":{"hosting.landlord.dev/replicas-before-suspension":null},"resourceVersion":"7"},"spec":{"replicas":3}}`},
		{"not recorded: left alone", map[string]string{"other": "x"}, ""},
		{"a record that is no count: removed, replicas kept", map[string]string{ReplicasAnnotation: "many"}, `{"metadata":{"annotations":{"hosting.landlord.dev/replicas-before-suspension":null},"resourceVersion":"7"}}`},
		{"a negative record: removed, replicas kept", map[string]string{ReplicasAnnotation: "-1"}, `{"metadata":{"annotations":{"hosting.landlord.dev/replicas-before-suspension":null},"resourceVersion":"7"}}`},
	} {
		if got := patch(t, RestoreReplicas(c.ann, ptr.To[int32](0))); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestStopAndRestoreCronJob(t *testing.T) {
	for _, c := range []struct {
		name          string
		ann           map[string]string
		suspend       *bool
		stop, restore string
	}{
		{"running: suspended, flag recorded", nil, ptr.To(false),
			`{"metadata":{"annotations":{"hosting.landlord.dev/suspend-before-suspension":"false"},"resourceVersion":"7"},"spec":{"suspend":true}}`, ""},
		{"flag unset: suspended, recorded false", nil, nil,
			`{"metadata":{"annotations":{"hosting.landlord.dev/suspend-before-suspension":"false"},"resourceVersion":"7"},"spec":{"suspend":true}}`, ""},
		{"suspended by the tenant: left alone both ways", nil, ptr.To(true), "", ""},
		{"suspended and recorded: restored to false", map[string]string{SuspendAnnotation: "false"}, ptr.To(true), "",
			`{"metadata":{"annotations":{"hosting.landlord.dev/suspend-before-suspension":null},"resourceVersion":"7"},"spec":{"suspend":false}}`},
		{"recorded but running again: suspended, record kept", map[string]string{SuspendAnnotation: "false"}, ptr.To(false),
			`{"metadata":{"resourceVersion":"7"},"spec":{"suspend":true}}`,
			`{"metadata":{"annotations":{"hosting.landlord.dev/suspend-before-suspension":null},"resourceVersion":"7"},"spec":{"suspend":false}}`},
		{"a record that is no flag: removed, flag kept", map[string]string{SuspendAnnotation: "maybe"}, ptr.To(true), "",
			`{"metadata":{"annotations":{"hosting.landlord.dev/suspend-before-suspension":null},"resourceVersion":"7"}}`},
	} {
		if got := patch(t, StopCronJob(c.ann, c.suspend)); got != c.stop {
			t.Errorf("%s, stop:\n got %s\nwant %s", c.name, got, c.stop)
		}
		if got := patch(t, RestoreCronJob(c.ann, c.suspend)); got != c.restore {
			t.Errorf("%s, restore:\n got %s\nwant %s", c.name, got, c.restore)
		}
	}
}

// A stop followed by a restore gives back exactly the object's fields.
func TestStopThenRestoreRoundTrips(t *testing.T) {
	apply := func(ann map[string]string, replicas *int32, c *Change) (map[string]string, *int32) {
		out := map[string]string{}
		for k, v := range ann {
			out[k] = v
		}
		if c == nil {
			return out, replicas
		}
		for k, v := range c.Annotations {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = *v
			}
		}
		if c.Replicas != nil {
			replicas = c.Replicas
		}
		return out, replicas
	}
	for _, n := range []*int32{nil, ptr.To[int32](0), ptr.To[int32](1), ptr.To[int32](7)} {
		ann := map[string]string{"tenant": "x"}
		stopped, r := apply(ann, n, StopReplicas(ann, n))
		if ptr.Deref(r, 1) != 0 {
			t.Errorf("%v: stopped at %d replicas", n, ptr.Deref(r, 1))
		}
		again, r2 := apply(stopped, r, StopReplicas(stopped, r)) // a second reconcile
		restored, r3 := apply(again, r2, RestoreReplicas(again, r2))
		if ptr.Deref(r3, 1) != ptr.Deref(n, 1) || len(restored) != 1 || restored["tenant"] != "x" {
			t.Errorf("%v: restored to %d replicas, annotations %v", n, ptr.Deref(r3, 1), restored)
		}
	}
}

func TestStopsJobAndPod(t *testing.T) {
	done := func(typ batchv1.JobConditionType) batchv1.JobStatus {
		return batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: typ, Status: corev1.ConditionTrue}}}
	}
	landlords := metav1.ObjectMeta{Labels: map[string]string{v1.ManagedByLabel: v1.ManagedByValue}}
	for _, c := range []struct {
		name string
		job  batchv1.Job
		want bool
	}{
		{"running", batchv1.Job{}, true},
		{"complete", batchv1.Job{Status: done(batchv1.JobComplete)}, false},
		{"failed", batchv1.Job{Status: done(batchv1.JobFailed)}, false},
		{"being deleted", batchv1.Job{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: ptr.To(metav1.Now())}}, false},
		{"labelled as Landlord's (it makes no Jobs)", batchv1.Job{ObjectMeta: landlords}, true},
	} {
		if got := StopsJob(&c.job); got != c.want {
			t.Errorf("job %s: %v, want %v", c.name, got, c.want)
		}
	}
	ownedBy := func(apiVersion, kind string) metav1.ObjectMeta {
		return metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: "x", Controller: ptr.To(true)}}}
	}
	running := corev1.PodStatus{Phase: corev1.PodRunning}
	for _, c := range []struct {
		name string
		pod  corev1.Pod
		want bool
	}{
		{"bare, running", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, true},
		{"bare, pending", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending}}, true},
		{"bare, succeeded", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, false},
		{"bare, failed", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}, false},
		{"a ReplicaSet's", corev1.Pod{ObjectMeta: ownedBy("apps/v1", "ReplicaSet"), Status: running}, false},
		{"a StatefulSet's", corev1.Pod{ObjectMeta: ownedBy("apps/v1", "StatefulSet"), Status: running}, false},
		{"a Job's", corev1.Pod{ObjectMeta: ownedBy("batch/v1", "Job"), Status: running}, false},
		{"controlled by a ConfigMap (named so by the tenant)", corev1.Pod{ObjectMeta: ownedBy("v1", "ConfigMap"), Status: running}, true},
		{"controlled by another group's ReplicaSet", corev1.Pod{ObjectMeta: ownedBy("example.com/v1", "ReplicaSet"), Status: running}, true},
		{"Landlord's", corev1.Pod{ObjectMeta: landlords}, false},
	} {
		if got := StopsPod(&c.pod); got != c.want {
			t.Errorf("pod %s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestMergePatchIsJSON(t *testing.T) {
	b, err := (&Change{}).MergePatch("1")
	if err != nil || !json.Valid(b) || string(b) != `{"metadata":{"resourceVersion":"1"}}` {
		t.Errorf("%s %v", b, err)
	}
}
