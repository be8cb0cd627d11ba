package subscription

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/suspension"
)

// The tenant's own workloads: scaled, suspended, deleted while the site is
// suspended (Deployments are in controller.go's markers already).
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=list;patch
// +kubebuilder:rbac:groups=batch,resources=cronjobs,verbs=list;patch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=list;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=list;delete

// stopsWorkloads: the phases in which nothing of the tenant's runs.
func stopsWorkloads(p v1.SubscriptionPhase) bool {
	return p == v1.PhaseSuspended || p == v1.PhaseCancelled
}

// reconcileWorkloads stops the tenant's own workloads in the site namespace
// while the site is Suspended or Cancelled, and restores them once it is in
// service again (internal/suspension decides each object's change).
//
// Reading them: the manager caches only what Landlord labels, and the
// tenant's workloads are not labelled, so they are listed from the API
// server (APIReader), in the site namespace only, and only when there is
// something to do: on every reconcile of a suspended site (it must find
// what still runs, and a tenant may have created something since), and on a
// site in service only while its Subscription carries StoppedAnnotation,
// which this phase writes before it stops the first object and removes
// after it restored the last (a suspended site with nothing of the tenant's
// to stop gets no such write). A site in service with nothing recorded, the
// idle case of almost every site, costs no request. A cache of every
// Deployment, StatefulSet, CronJob, Job and Pod of the cluster would cost
// memory on every idle site for the few that change phase; and no watch is
// needed: while the site is suspended its namespace is labelled
// (suspension.NamespaceLabel), config/admission/suspension.yaml refuses
// whatever would start something there, and the quota's compute is 0. A
// suspended site's reconciles (rare: on its own events) list five kinds in
// its namespace each.
func (r *Reconciler) reconcileWorkloads(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !s.siteNSReady {
		return ctrl.Result{}, nil
	}
	_, recorded := s.sub.Annotations[suspension.StoppedAnnotation]
	switch {
	case stopsWorkloads(s.life.Phase):
		return ctrl.Result{}, r.stopWorkloads(ctx, s)
	case s.life.Phase == v1.PhasePending || !recorded:
		// Pending leaves the site as it is.
		return ctrl.Result{}, nil
	case s.deployment != nil && !started(s.deployment):
		// The site first: its pod asks for the plan's whole compute, so the
		// tenant's pods, restored before it, would take its place in the
		// quota. They come back once the site's pods exist (created, so
		// counted); the Deployment's status change wakes this reconcile.
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.restoreWorkloads(ctx, s)
}

// started: the site's Deployment, as read, asks for pods and has them all
// created.
func started(d *appsv1.Deployment) bool {
	want := ptr.Deref(d.Spec.Replicas, 1)
	return want > 0 && d.Status.ObservedGeneration >= d.Generation && d.Status.Replicas >= want
}

// workloads are the tenant's objects of a site namespace that a suspension
// stops.
type workloads struct {
	deployments  []appsv1.Deployment
	statefulSets []appsv1.StatefulSet
	cronJobs     []batchv1.CronJob
	jobs         []batchv1.Job
	pods         []corev1.Pod
}

// listWorkloads reads the site namespace's workloads from the API server:
// with all, also its Jobs and pods (which only a suspension deletes).
func (r *Reconciler) listWorkloads(ctx context.Context, ns string, all bool) (*workloads, error) {
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	w := &workloads{}
	lists := []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &batchv1.CronJobList{}}
	if all {
		lists = append(lists, &batchv1.JobList{}, &corev1.PodList{})
	}
	steps := make([]func(context.Context) error, len(lists))
	for i, l := range lists {
		steps[i] = func(ctx context.Context) error {
			if err := reader.List(ctx, l, client.InNamespace(ns)); err != nil {
				return fmt.Errorf("listing the tenant's workloads in %s (%T): %w", ns, l, err)
			}
			return nil
		}
	}
	if err := kernel.Concurrently(ctx, steps...); err != nil {
		return nil, err
	}
	w.deployments = lists[0].(*appsv1.DeploymentList).Items
	w.statefulSets = lists[1].(*appsv1.StatefulSetList).Items
	w.cronJobs = lists[2].(*batchv1.CronJobList).Items
	if all {
		w.jobs = lists[3].(*batchv1.JobList).Items
		w.pods = lists[4].(*corev1.PodList).Items
	}
	return w, nil
}

// change is one object's change, or its deletion.
type change struct {
	obj    client.Object
	kind   string
	change *suspension.Change // nil: delete obj
}

// changes is what a suspension (stop) or a resume does to w.
func (w *workloads) changes(stop bool) []change {
	replicas, cron := suspension.RestoreReplicas, suspension.RestoreCronJob
	if stop {
		replicas, cron = suspension.StopReplicas, suspension.StopCronJob
	}
	var out []change
	for i := range w.deployments {
		d := &w.deployments[i]
		if c := replicas(d.Annotations, d.Spec.Replicas); c != nil && suspension.Tenants(d) {
			out = append(out, change{d, "Deployment", c})
		}
	}
	for i := range w.statefulSets {
		st := &w.statefulSets[i]
		if c := replicas(st.Annotations, st.Spec.Replicas); c != nil && suspension.Tenants(st) {
			out = append(out, change{st, "StatefulSet", c})
		}
	}
	for i := range w.cronJobs {
		cj := &w.cronJobs[i]
		if c := cron(cj.Annotations, cj.Spec.Suspend); c != nil { // Landlord makes none
			out = append(out, change{cj, "CronJob", c})
		}
	}
	for i := range w.jobs {
		if suspension.StopsJob(&w.jobs[i]) {
			out = append(out, change{obj: &w.jobs[i], kind: "Job"})
		}
	}
	for i := range w.pods {
		if suspension.StopsPod(&w.pods[i]) {
			out = append(out, change{obj: &w.pods[i], kind: "Pod"})
		}
	}
	return out
}

// stopped counts the objects of w that carry a record once the stop's
// changes are made (nil: none).
func (w *workloads) stopped() *v1.StoppedWorkloads {
	n := v1.StoppedWorkloads{}
	for _, d := range w.deployments {
		if suspension.Tenants(&d) && (has(d.Annotations, suspension.ReplicasAnnotation) || suspension.StopReplicas(d.Annotations, d.Spec.Replicas) != nil) {
			n.Deployments++
		}
	}
	for _, st := range w.statefulSets {
		if suspension.Tenants(&st) && (has(st.Annotations, suspension.ReplicasAnnotation) || suspension.StopReplicas(st.Annotations, st.Spec.Replicas) != nil) {
			n.StatefulSets++
		}
	}
	for _, cj := range w.cronJobs {
		if has(cj.Annotations, suspension.SuspendAnnotation) || suspension.StopCronJob(cj.Annotations, cj.Spec.Suspend) != nil {
			n.CronJobs++
		}
	}
	if n == (v1.StoppedWorkloads{}) {
		return nil
	}
	return &n
}

func has(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// stopWorkloads makes the stop's changes, one write per object, at once.
func (r *Reconciler) stopWorkloads(ctx context.Context, s *scope) error {
	w, err := r.listWorkloads(ctx, s.siteNS, true)
	if err != nil {
		return err
	}
	changes := w.changes(true)
	if len(changes) > 0 {
		if err := r.markStopped(ctx, s, true); err != nil {
			return err
		}
	}
	done, err := r.makeChanges(ctx, changes)
	s.stoppedWorkloads = w.stopped()
	if len(done) > 0 {
		r.Recorder.Eventf(s.sub, nil, corev1.EventTypeWarning, "WorkloadsStopped", "Suspend", "%s",
			truncate("the site is "+strings.ToLower(string(s.life.Phase))+": "+strings.Join(done, "; "), 1000))
	}
	return err
}

// restoreWorkloads makes the resume's changes, then, all of them made,
// forgets that anything was stopped.
func (r *Reconciler) restoreWorkloads(ctx context.Context, s *scope) error {
	w, err := r.listWorkloads(ctx, s.siteNS, false)
	if err != nil {
		return err
	}
	done, err := r.makeChanges(ctx, w.changes(false))
	if len(done) > 0 {
		r.Recorder.Eventf(s.sub, nil, corev1.EventTypeNormal, "WorkloadsRestored", "Resume", "%s", truncate(strings.Join(done, "; "), 1000))
	}
	if err != nil {
		return err
	}
	return r.markStopped(ctx, s, false)
}

// markStopped records on the Subscription that workloads may be stopped
// (before the first is), or forgets it (after the last is restored).
func (r *Reconciler) markStopped(ctx context.Context, s *scope, stopped bool) error {
	if _, ok := s.sub.Annotations[suspension.StoppedAnnotation]; ok == stopped {
		return nil
	}
	patch := client.MergeFrom(s.sub.DeepCopy())
	patched := s.sub.DeepCopy()
	if stopped {
		if patched.Annotations == nil {
			patched.Annotations = map[string]string{}
		}
		patched.Annotations[suspension.StoppedAnnotation] = "true"
	} else {
		delete(patched.Annotations, suspension.StoppedAnnotation)
	}
	rv := patched.ResourceVersion
	if err := r.Client.Patch(ctx, patched, patch); err != nil {
		return fmt.Errorf("recording on the subscription that workloads are stopped (annotation %s: %v): %w", suspension.StoppedAnnotation, stopped, err)
	}
	kernel.Wrote(patched, rv)
	s.sub.ObjectMeta = patched.ObjectMeta
	return nil
}

// makeChanges sends the changes at once, each one patch (a conflict if the object
// moved since it was listed) or one delete (UID precondition), and
// describes those made ("scaled to 0: Deployment api (3 replicas)").
func (r *Reconciler) makeChanges(ctx context.Context, changes []change) ([]string, error) {
	var mu sync.Mutex
	var done []string
	steps := make([]func(context.Context) error, len(changes))
	for i, c := range changes {
		steps[i] = func(ctx context.Context) error {
			what, err := r.makeOne(ctx, c)
			if err != nil {
				return err
			}
			mu.Lock()
			done = append(done, what)
			mu.Unlock()
			return nil
		}
	}
	err := kernel.Concurrently(ctx, steps...)
	slices.Sort(done)
	return done, err
}

func (r *Reconciler) makeOne(ctx context.Context, c change) (string, error) {
	name := c.kind + " " + c.obj.GetName()
	if c.change == nil {
		uid := c.obj.GetUID()
		if err := r.Client.Delete(ctx, c.obj, client.Preconditions{UID: &uid}, client.PropagationPolicy("Background")); client.IgnoreNotFound(err) != nil {
			return "", fmt.Errorf("deleting %s in %s: %w", name, c.obj.GetNamespace(), err)
		}
		return "deleted (cannot be restored): " + name, nil
	}
	p, err := c.change.MergePatch(c.obj.GetResourceVersion())
	if err != nil {
		return "", err
	}
	if err := r.Client.Patch(ctx, c.obj, client.RawPatch(types.MergePatchType, p)); err != nil {
		return "", fmt.Errorf("patching %s in %s: %w", name, c.obj.GetNamespace(), err)
	}
	switch {
	case c.change.Replicas != nil && *c.change.Replicas == 0:
		return "scaled to 0: " + name, nil
	case c.change.Replicas != nil:
		return fmt.Sprintf("scaled back to %d: %s", *c.change.Replicas, name), nil
	case c.change.Suspend != nil && *c.change.Suspend:
		return "suspended: " + name, nil
	case c.change.Suspend != nil:
		return "resumed: " + name, nil
	}
	return "an unreadable record removed: " + name, nil
}
