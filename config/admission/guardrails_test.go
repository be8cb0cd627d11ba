// Package admission_test checks the tenant guard-rail policies of this
// directory (tenant-guard-rails.yaml) against a real API server: what they
// refuse, to whom, and where; and that the lifecycle-facts policy names
// Landlord as it is deployed. The other policies are tested with the kinds
// they guard (api/v1alpha1, controllers/membership).
package admission_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	ctx = context.Background()
)

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{}) }

// world is a tenant namespace (labelled with an account, no Pod Security
// label, so that only these policies decide), an unlabelled namespace, and a
// user allowed by RBAC to write Services and every workload kind in both.
type world struct {
	tenantNS, otherNS string
	tenant            client.Client
	user, role        string
}

func newWorld(t *testing.T) world {
	t.Helper()
	w := world{tenantNS: testenv.Name("tenant"), otherNS: testenv.Name("provider")}
	user := "tester@" + w.tenantNS + ".example"
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("guardrail-tester")}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"services", "pods", "podtemplates", "secrets"}, Verbs: []string{"get", "create", "update", "patch", "delete"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "daemonsets", "replicasets"}, Verbs: []string{"get", "create", "update", "patch"}},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: []string{"get", "create", "update", "patch"}},
	}}
	objs := []client.Object{
		role,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.tenantNS, Labels: map[string]string{v1.AccountLabel: w.tenantNS}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.otherNS}},
	}
	for _, ns := range []string{w.tenantNS, w.otherNS} {
		objs = append(objs, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tester"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}})
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, role) })
	w.tenant = env.As(user)
	w.user, w.role = user, role.Name
	// Pods need their namespace's default ServiceAccount (kube-controller-manager makes it).
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, ns := range []string{w.tenantNS, w.otherNS} {
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "default"}, &corev1.ServiceAccount{}); err != nil {
				return err
			}
		}
		return nil
	})
	// The policies may take a moment to be enforced after the environment
	// starts, each on its own: wait until both tested here refuse.
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := w.tenant.Create(ctx, service(w.tenantNS, corev1.ServiceTypeNodePort, nil), client.DryRunAll); err == nil {
			return fmt.Errorf("the Service guard rail is not enforced yet")
		}
		if err := w.tenant.Create(ctx, workloads(w.tenantNS, podSpec(8080, 0))[0], client.DryRunAll); err == nil {
			return fmt.Errorf("the hostPort guard rail is not enforced yet")
		}
		return nil
	})
	return w
}

func service(ns string, typ corev1.ServiceType, externalIPs []string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: corev1.ServiceSpec{Type: typ, ExternalIPs: externalIPs, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Port: 80}}},
	}
}

func refused(t *testing.T, what string, err error, want string) {
	t.Helper()
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: want a refusal saying %q, got %v", what, want, err)
	}
}

func accepted(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: refused: %v", what, err)
	}
}

// In a tenant namespace a tenant cannot create a NodePort or LoadBalancer
// Service nor one with externalIPs, nor turn a ClusterIP Service into one;
// the provider can, and so can anyone outside tenant namespaces.
func TestTenantServices(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		svc  func(ns string) *corev1.Service
		want string
	}{
		{"NodePort", func(ns string) *corev1.Service { return service(ns, corev1.ServiceTypeNodePort, nil) },
			"Service web: type NodePort is not allowed in tenant namespaces"},
		{"LoadBalancer", func(ns string) *corev1.Service { return service(ns, corev1.ServiceTypeLoadBalancer, nil) },
			"Service web: type LoadBalancer is not allowed in tenant namespaces"},
		{"externalIPs", func(ns string) *corev1.Service { return service(ns, "", []string{"203.0.113.10"}) },
			"Service web: spec.externalIPs is not allowed in tenant namespaces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, "tenant in a tenant namespace", w.tenant.Create(ctx, tc.svc(w.tenantNS), client.DryRunAll), tc.want)
			accepted(t, "tenant outside tenant namespaces", w.tenant.Create(ctx, tc.svc(w.otherNS), client.DryRunAll))
			accepted(t, "provider in a tenant namespace", env.Client.Create(ctx, tc.svc(w.tenantNS), client.DryRunAll))
		})
	}
	plain := service(w.tenantNS, "", nil)
	accepted(t, "tenant creates a ClusterIP Service", w.tenant.Create(ctx, plain))
	refused(t, "tenant turns it into a NodePort", w.tenant.Patch(ctx, plain,
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"type":"NodePort"}}`)), client.DryRunAll),
		"type NodePort is not allowed in tenant namespaces")
	refused(t, "tenant adds externalIPs", w.tenant.Patch(ctx, plain,
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"externalIPs":["203.0.113.10"]}}`)), client.DryRunAll),
		"spec.externalIPs is not allowed")
	accepted(t, "tenant relabels it", w.tenant.Patch(ctx, plain,
		client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"tier":"web"}}}`))))
}

func podSpec(hostPort, initHostPort int32) corev1.PodSpec {
	return corev1.PodSpec{
		RestartPolicy:  corev1.RestartPolicyAlways,
		InitContainers: []corev1.Container{{Name: "init", Image: "busybox", Ports: []corev1.ContainerPort{{ContainerPort: 9000, HostPort: initHostPort}}}},
		Containers:     []corev1.Container{{Name: "web", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 8080, HostPort: hostPort}}}},
	}
}

// workloads returns one object of each kind that carries pods, with spec.
func workloads(ns string, spec corev1.PodSpec) []client.Object {
	labels := map[string]string{"app": "web"}
	meta := metav1.ObjectMeta{Namespace: ns, Name: "web"}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
	sel := &metav1.LabelSelector{MatchLabels: labels}
	jobTmpl := *tmpl.DeepCopy()
	jobTmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	return []client.Object{
		&corev1.Pod{ObjectMeta: meta, Spec: spec},
		&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Selector: sel, Template: tmpl}},
		&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Selector: sel, Template: tmpl}},
		&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tmpl}},
		&appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Selector: sel, Template: tmpl}},
		&batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: jobTmpl}},
		&batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{Schedule: "@hourly",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobTmpl}}}},
	}
}

// No pod and no pod template of any workload kind may bind a host port in a
// tenant namespace, in a container or an init container; the same objects
// without hostPort pass, and the provider and other namespaces are not held.
func TestTenantHostPorts(t *testing.T) {
	w := newWorld(t)
	kindOf := func(o client.Object) string { return strings.TrimPrefix(fmt.Sprintf("%T", o), "*v1.") }
	for _, tc := range []struct {
		name           string
		spec           corev1.PodSpec
		wantContainer  string // "" = accepted
		providerAndAll bool   // also try as the provider and in the other namespace
	}{
		{"hostPort", podSpec(8080, 0), "web", true},
		{"hostPort in an init container", podSpec(0, 9000), "init", false},
		{"containerPort only", podSpec(0, 0), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, o := range workloads(w.tenantNS, tc.spec) {
				kind := kindOf(o)
				err := w.tenant.Create(ctx, o, client.DryRunAll)
				if tc.wantContainer == "" {
					accepted(t, "tenant creates a "+kind, err)
					continue
				}
				refused(t, "tenant creates a "+kind, err,
					kind+": hostPort is not allowed in tenant namespaces (container "+tc.wantContainer+" binds a port on the node)")
				if tc.providerAndAll {
					accepted(t, "provider creates a "+kind+" in a tenant namespace", env.Client.Create(ctx, workloads(w.tenantNS, tc.spec)[i], client.DryRunAll))
					accepted(t, "tenant creates a "+kind+" outside tenant namespaces", w.tenant.Create(ctx, workloads(w.otherNS, tc.spec)[i], client.DryRunAll))
				}
			}
		})
	}
	// Adding a host port to an existing template is refused too.
	d := workloads(w.tenantNS, podSpec(0, 0))[1].(*appsv1.Deployment)
	accepted(t, "tenant creates a Deployment", w.tenant.Create(ctx, d))
	d.Spec.Template.Spec.Containers[0].Ports[0].HostPort = 8080
	refused(t, "tenant adds a hostPort to its Deployment", w.tenant.Update(ctx, d, client.DryRunAll),
		"Deployment: hostPort is not allowed in tenant namespaces (container web")
}
