package reliability_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/suspension"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// The customer's own workloads beside the site.
const (
	webName     = "web"
	nightlyName = "nightly"
	onceName    = "once"
)

func workloadPod() corev1.PodSpec {
	small := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"), corev1.ResourceEphemeralStorage: resource.MustParse("16Mi")}
	return corev1.PodSpec{
		RestartPolicy:   corev1.RestartPolicyNever,
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "app", Image: "busybox", Resources: corev1.ResourceRequirements{Requests: small, Limits: small},
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
	}
}

// deployWorkloads gives the tenant, once its site runs, a Deployment of 2
// replicas, a CronJob and a Job in its site namespace. (The site's pod asks
// for the plan's whole compute: the Deployment's pods are refused by the
// quota, but the Deployment is what a suspension scales.)
func deployWorkloads(t testing.TB, tn *tenant) {
	t.Helper()
	testenv.Eventually(t, wait, all(tn.provisioned, func() error { return tn.replicas(1) }))
	l := map[string]string{"app": webName}
	web := workloadPod()
	web.RestartPolicy = corev1.RestartPolicyAlways
	objs := []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: tn.site, Name: webName}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}, Spec: web}}},
		&batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: tn.site, Name: nightlyName}, Spec: batchv1.CronJobSpec{
			Schedule: "0 3 * * *", Suspend: ptr.To(false),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: workloadPod()}}}}},
		// A selector of its own: the generated one would name the Job's UID,
		// which differs from life to life.
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: tn.site, Name: onceName}, Spec: batchv1.JobSpec{
			ManualSelector: ptr.To(true), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": onceName}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": onceName}}, Spec: workloadPod()}}},
	}
	for _, o := range objs {
		testenv.Eventually(t, wait, func() error { return client.IgnoreAlreadyExists(env.Client.Create(ctx, o)) })
	}
}

// workloadsRun: the Deployment at 2 and the CronJob running, neither
// carrying a record, and the Subscription recording nothing stopped.
func (tn *tenant) workloadsRun() error {
	return tn.workloads(2, "", false, "", false)
}

// workloadsStopped: the Deployment at 0 recording 2, the CronJob suspended
// recording false, the Job gone.
func (tn *tenant) workloadsStopped() error {
	if err := tn.workloads(0, "2", true, "false", true); err != nil {
		return err
	}
	return gone(&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: tn.site, Name: onceName}})
}

func (tn *tenant) workloads(replicas int32, replicasRecord string, suspend bool, suspendRecord string, stopped bool) error {
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, tn.siteKey(webName), d); err != nil {
		return err
	}
	if got := ptr.Deref(d.Spec.Replicas, 1); got != replicas || d.Annotations[suspension.ReplicasAnnotation] != replicasRecord {
		return fmt.Errorf("Deployment %s: %d replicas, record %q; want %d, %q", webName, got, d.Annotations[suspension.ReplicasAnnotation], replicas, replicasRecord)
	}
	cj := &batchv1.CronJob{}
	if err := env.Client.Get(ctx, tn.siteKey(nightlyName), cj); err != nil {
		return err
	}
	if got := ptr.Deref(cj.Spec.Suspend, false); got != suspend || cj.Annotations[suspension.SuspendAnnotation] != suspendRecord {
		return fmt.Errorf("CronJob %s: suspend %v, record %q; want %v, %q", nightlyName, got, cj.Annotations[suspension.SuspendAnnotation], suspend, suspendRecord)
	}
	s := &v1.Subscription{}
	if err := env.Client.Get(ctx, tn.key(siteName), s); err != nil {
		return err
	}
	if _, ok := s.Annotations[suspension.StoppedAnnotation]; ok != stopped {
		return fmt.Errorf("the subscription's %s is there: %v, want %v", suspension.StoppedAnnotation, ok, stopped)
	}
	if (s.Status.Site.StoppedWorkloads != nil) != stopped {
		return fmt.Errorf("status.site.stoppedWorkloads %+v", s.Status.Site.StoppedWorkloads)
	}
	return nil
}

// renew moves the tenant's paidThrough 30 days on, as a payment does.
func renew(t testing.TB, tn *tenant) {
	t.Helper()
	tn.paidThrough = tn.paidThrough.Add(30 * 24 * time.Hour)
	testenv.Eventually(t, wait, func() error {
		s := &v1.Subscription{}
		if err := env.Client.Get(ctx, tn.key(siteName), s); err != nil {
			return err
		}
		if s.Spec.PaidThrough == nil {
			return errors.New("no paidThrough")
		}
		s.Spec.PaidThrough = &metav1.Time{Time: tn.paidThrough}
		return env.Client.Update(ctx, s)
	})
}

// suspendResume is a life in which the site is suspended and renewed with
// the tenant's own workloads in its namespace; the crash points are the
// writes of the suspension and of the resume.
var suspendResume = lifeSpec{
	setup:    deployWorkloads,
	armAfter: 0,
	stages: []stage{
		{name: "provisioned with workloads", at: func(*tenant) time.Time { return epoch },
			check: func(tn *tenant) func() error {
				return all(tn.provisioned, func() error { return tn.replicas(1) }, tn.workloadsRun)
			}},
		{name: "suspended", at: func(tn *tenant) time.Time { return tn.suspendAt().Add(time.Second) },
			check: func(tn *tenant) func() error {
				return all(func() error { return tn.sitePhase(v1.PhaseSuspended) }, func() error { return tn.replicas(0) }, tn.workloadsStopped, tn.volumeKept)
			}},
		{name: "renewed", act: renew, at: func(tn *tenant) time.Time { return tn.paidThrough.Add(-30 * 24 * time.Hour).Add(grace + time.Second) },
			check: func(tn *tenant) func() error {
				return all(func() error { return tn.sitePhase(v1.PhaseActive) }, func() error { return tn.replicas(1) }, tn.workloadsRun, tn.volumeKept)
			}},
	},
}

// Crash points of a suspension and a resume: a manager that dies right
// after any write of either (the answer lost) and is restarted leaves the
// tenant's workloads stopped, then restored, exactly as an uninterrupted
// manager does: no replica count or suspend flag lost, nothing left stopped.
func TestCrashAtEveryWriteOfSuspendAndResume(t *testing.T) {
	crashEveryWrite(t, suspendResume)
}
