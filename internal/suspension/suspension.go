// Package suspension decides how a suspension stops the tenant's own
// workloads in a site namespace, and how a resume restores them: one change
// per object, built by pure functions, which the Subscription controller
// sends as one merge patch each.
//
// A change both stops an object and records, in an annotation on that same
// object, what it was (the replica count of a Deployment or StatefulSet, the
// suspend flag of a CronJob); a resume sets the recorded value back and
// removes the annotation in one patch. Each object's write is atomic, so a
// crash between two writes loses nothing: the next reconcile sees which
// objects carry a record and which still run. An object that was already
// stopped (a Deployment the tenant scaled to 0, a CronJob the tenant
// suspended) gets no record and is left as it is, so it stays stopped after
// the resume. Jobs that have not finished and bare pods (no controller, or
// one that stops nothing) are deleted: they cannot be restored.
package suspension

import (
	"encoding/json"
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

const (
	// ReplicasAnnotation, on a tenant's Deployment or StatefulSet that
	// Landlord scaled to 0 for a suspension, is its spec.replicas before.
	ReplicasAnnotation = "hosting.landlord.dev/replicas-before-suspension"
	// SuspendAnnotation, on a tenant's CronJob that Landlord suspended, is
	// its spec.suspend before ("false").
	SuspendAnnotation = "hosting.landlord.dev/suspend-before-suspension"
	// StoppedAnnotation "true" on a Subscription says that objects in its
	// site namespace may carry a record to restore: Landlord writes it before
	// it stops the first object and removes it after it restored the last,
	// so that a site in service with nothing recorded costs no list at all.
	StoppedAnnotation = "hosting.landlord.dev/workloads-stopped"
	// NamespaceLabel "true" on a site namespace while its site is Suspended
	// or Cancelled: config/admission/suspension.yaml refuses, for tenants,
	// whatever would start something there.
	NamespaceLabel = "hosting.landlord.dev/suspended"
)

// Change is what one object needs: nil from a builder means nothing.
type Change struct {
	// Replicas is the spec.replicas to set (nil: unchanged).
	Replicas *int32
	// Suspend is the spec.suspend to set (nil: unchanged).
	Suspend *bool
	// Annotations to set; a nil value removes the annotation.
	Annotations map[string]*string
}

// MergePatch is c as a JSON merge patch that holds only for the object at
// resourceVersion: the API server refuses it with a conflict if the object
// moved since it was read, so a record is never taken from a stale count.
func (c *Change) MergePatch(resourceVersion string) ([]byte, error) {
	md := map[string]any{"resourceVersion": resourceVersion}
	if len(c.Annotations) > 0 {
		md["annotations"] = c.Annotations
	}
	spec := map[string]any{}
	if c.Replicas != nil {
		spec["replicas"] = *c.Replicas
	}
	if c.Suspend != nil {
		spec["suspend"] = *c.Suspend
	}
	p := map[string]any{"metadata": md}
	if len(spec) > 0 {
		p["spec"] = spec
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding a workload patch: %w", err)
	}
	return b, nil
}

// Tenants reports whether obj is the tenant's (not one of Landlord's own
// objects, such as the site's Deployment, which the site objects handle;
// config/admission/landlord-objects.yaml keeps tenants from labelling
// Deployments, StatefulSets and pods as Landlord's).
func Tenants(obj metav1.Object) bool {
	return obj.GetLabels()[v1.ManagedByLabel] != v1.ManagedByValue
}

// StopReplicas scales a Deployment or StatefulSet (its annotations and
// spec.replicas; nil means the default, 1) to 0, recording the count. One
// at 0 is left alone; one recorded already that runs again is scaled to 0,
// its record kept.
func StopReplicas(annotations map[string]string, replicas *int32) *Change {
	n := ptr.Deref(replicas, 1)
	if n == 0 {
		return nil
	}
	c := &Change{Replicas: ptr.To[int32](0)}
	if _, recorded := annotations[ReplicasAnnotation]; !recorded {
		c.Annotations = map[string]*string{ReplicasAnnotation: ptr.To(strconv.Itoa(int(n)))}
	}
	return c
}

// RestoreReplicas sets a recorded Deployment or StatefulSet back to its
// recorded count and removes the record. A record that is not a count
// (written by hand) is removed and the replicas left as they are.
func RestoreReplicas(annotations map[string]string, replicas *int32) *Change {
	rec, recorded := annotations[ReplicasAnnotation]
	if !recorded {
		return nil
	}
	c := &Change{Annotations: map[string]*string{ReplicasAnnotation: nil}}
	if n, err := strconv.ParseInt(rec, 10, 32); err == nil && n >= 0 {
		c.Replicas = ptr.To(int32(n))
	}
	return c
}

// StopCronJob suspends a CronJob that is not suspended, recording its flag.
// One suspended already is left alone (it stays suspended after the resume).
func StopCronJob(annotations map[string]string, suspend *bool) *Change {
	if ptr.Deref(suspend, false) {
		return nil
	}
	c := &Change{Suspend: ptr.To(true)}
	if _, recorded := annotations[SuspendAnnotation]; !recorded {
		c.Annotations = map[string]*string{SuspendAnnotation: ptr.To(strconv.FormatBool(ptr.Deref(suspend, false)))}
	}
	return c
}

// RestoreCronJob sets a recorded CronJob's suspend flag back and removes the
// record; a record that is not a boolean is removed, the flag left as it is.
func RestoreCronJob(annotations map[string]string, _ *bool) *Change {
	rec, recorded := annotations[SuspendAnnotation]
	if !recorded {
		return nil
	}
	c := &Change{Annotations: map[string]*string{SuspendAnnotation: nil}}
	if b, err := strconv.ParseBool(rec); err == nil {
		c.Suspend = ptr.To(b)
	}
	return c
}

// StopsJob reports whether a suspension deletes job: a Job that has not
// finished (a finished one runs nothing and keeps its history). Landlord
// makes no Jobs or CronJobs in a site namespace, so none is exempt (the
// managed-by label is not protected on these kinds).
func StopsJob(job *batchv1.Job) bool {
	if !job.DeletionTimestamp.IsZero() {
		return false
	}
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return false
		}
	}
	return true
}

// StopsPod reports whether a suspension deletes pod: a tenant's pod that
// has not finished and that nothing else stops. The pods of a ReplicaSet
// (a Deployment's: tenants may not create ReplicaSets), a StatefulSet or a
// Job go when those are scaled to 0 or deleted; any other pod is deleted,
// a bare one and one whose controller is of another kind alike (a tenant
// may name any object of its own as a pod's controller).
func StopsPod(pod *corev1.Pod) bool {
	if !Tenants(pod) || !pod.DeletionTimestamp.IsZero() {
		return false
	}
	if c := metav1.GetControllerOf(pod); c != nil && stoppedThrough(c) {
		return false
	}
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

// stoppedThrough: the controllers whose pods a suspension stops through them.
func stoppedThrough(c *metav1.OwnerReference) bool {
	switch c.APIVersion + "/" + c.Kind {
	case "apps/v1/ReplicaSet", "apps/v1/StatefulSet", "batch/v1/Job":
		return true
	}
	return false
}
