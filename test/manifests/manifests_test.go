// Package manifests checks what `make deploy` and `make build-installer`
// ship: config/default rendered by the pinned kustomize, applied to a real
// API server, with the manager's privileges held to what its code declares.
package manifests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/landlord-dev/landlord/internal/controlplane"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{SkipManifests: true}) }

func kustomizeBuild(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	bin := os.Getenv("LANDLORD_KUSTOMIZE")
	if bin == "" {
		matches, _ := filepath.Glob(filepath.Join(controlplane.BinDir(), "kustomize-*"))
		if len(matches) == 0 {
			t.Fatal("no kustomize in bin/: run 'make test', which builds it")
		}
		bin = matches[len(matches)-1]
	}
	out, err := exec.Command(bin, "build", filepath.Join(env.Root, dir)).Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
	if len(objs) == 0 {
		t.Fatalf("kustomize build %s rendered nothing", dir)
	}
	return objs
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func convert(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatalf("%s %s does not decode: %v", u.GetKind(), u.GetName(), err)
	}
}

func TestDefaultIncludesEveryCRD(t *testing.T) {
	objs := kustomizeBuild(t, "config/default")
	files, _ := filepath.Glob(filepath.Join(env.Root, "config", "crd", "bases", "*.yaml"))
	if len(files) != 9 { // Plan, SiteTemplate, Account, Membership, Team, Subscription, CustomDomain, Database, DomainClaim
		t.Fatalf("want 9 CRDs in config/crd/bases, found %d", len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var crd struct{ Metadata struct{ Name string } }
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatal(err)
		}
		if find(objs, "CustomResourceDefinition", crd.Metadata.Name) == nil {
			t.Errorf("config/default does not include the CRD %s", crd.Metadata.Name)
		}
	}
}

// The manager's ClusterRole is exactly what controller-gen generated from
// the controllers' +kubebuilder:rbac markers — nothing added by hand — and
// holds no wildcard, no Pods but list and delete (a suspension stops bare
// pods), on Secrets only get, create and delete (the Databases'
// credentials), no escalate or impersonate.
func TestManagerHasOnlyDeclaredPrivileges(t *testing.T) {
	objs := kustomizeBuild(t, "config/default")
	rendered := find(objs, "ClusterRole", "landlord-manager")
	if rendered == nil {
		t.Fatal("no ClusterRole landlord-manager in config/default")
	}
	var got, declared rbacv1.ClusterRole
	convert(t, rendered, &got)
	b, err := os.ReadFile(filepath.Join(env.Root, "config", "rbac", "manager", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &declared); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got.Rules, declared.Rules, func(a, b rbacv1.PolicyRule) bool { return a.String() == b.String() }) {
		t.Errorf("the deployed ClusterRole differs from the generated config/rbac/manager/role.yaml")
	}
	for _, r := range got.Rules {
		for _, field := range [][]string{r.APIGroups, r.Resources, r.Verbs} {
			if slices.Contains(field, "*") {
				t.Errorf("wildcard in rule %s", r.String())
			}
		}
		for _, res := range r.Resources {
			switch {
			case res == "pods/exec":
				t.Errorf("the manager does not use %s, but is granted %v on them", res, r.Verbs)
			case res == "pods" && !slices.Equal(r.Verbs, []string{"delete", "list"}):
				// A suspension lists the site namespace's pods and deletes the
				// bare ones (controllers/subscription/workloads.go): nothing more.
				t.Errorf("the manager only lists and deletes pods (a suspension), but is granted %v on them", r.Verbs)
			}
			// Secrets: only by name, for the database server's admin
			// credential and the Databases' credentials (controllers/database):
			// never listed or watched (no Secret informer), never changed.
			if res == "secrets" {
				for _, v := range r.Verbs {
					if !slices.Contains([]string{"get", "create", "delete"}, v) {
						t.Errorf("the manager may get, create and delete Secrets by name, no more; it is granted %s", v)
					}
				}
			}
		}
		for _, v := range r.Verbs {
			if v == "escalate" || v == "impersonate" {
				t.Errorf("the manager is granted %s: %s", v, r.String())
			}
			if v == "bind" {
				if len(r.ResourceNames) == 0 {
					t.Errorf("bind is granted on all ClusterRoles: %s", r.String())
				}
				for _, n := range r.ResourceNames {
					if !strings.HasPrefix(n, "landlord-tenant-") {
						t.Errorf("bind is granted on %s, not a tenant role", n)
					}
				}
			}
		}
	}
	binding := find(objs, "ClusterRoleBinding", "landlord-manager")
	if binding == nil {
		t.Fatal("no ClusterRoleBinding landlord-manager")
	}
}

func TestManagerDeployment(t *testing.T) {
	objs := kustomizeBuild(t, "config/default")
	u := find(objs, "Deployment", "landlord-manager")
	if u == nil {
		t.Fatal("no manager Deployment")
	}
	var d appsv1.Deployment
	convert(t, u, &d)
	if d.Namespace != "landlord-system" {
		t.Errorf("namespace = %q", d.Namespace)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--leader-elect") {
		t.Errorf("no leader election in %v", c.Args)
	}
	if c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Error("probes missing")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Error("resource requests missing")
	}
	sc := c.SecurityContext
	podSC := d.Spec.Template.Spec.SecurityContext
	if sc == nil || podSC == nil || podSC.RunAsNonRoot == nil || !*podSC.RunAsNonRoot ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, corev1.Capability("ALL")) ||
		podSC.SeccompProfile == nil || podSC.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("the manager's security context is not restricted: pod %+v container %+v", podSC, sc)
	}
	if !strings.HasPrefix(c.Image, "ghcr.io/landlord-dev/landlord:") {
		t.Errorf("image = %s", c.Image)
	}
	for _, svc := range []string{"landlord-suspended-page", "landlord-metrics"} {
		if find(objs, "Service", svc) == nil {
			t.Errorf("no Service %s", svc)
		}
	}
	for _, kind := range []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} {
		n := 0
		for _, o := range objs {
			if o.GetKind() == kind {
				n++
			}
		}
		if n < 3 {
			t.Errorf("%d %ss in config/default, want the three admission policies", n, kind)
		}
	}
}

// The whole installer is accepted by a real API server.
func TestDefaultAppliesToARealAPIServer(t *testing.T) {
	ctx := context.Background()
	objs := kustomizeBuild(t, "config/default")
	// Namespaces and CRDs first, as kubectl apply would retry into.
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int { return rank(a) - rank(b) })
	for _, o := range objs {
		if err := env.Client.Patch(ctx, o, client.Apply, client.FieldOwner("manifests-test"), client.ForceOwnership); err != nil {
			t.Errorf("applying %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

func rank(o *unstructured.Unstructured) int {
	switch o.GetKind() {
	case "Namespace":
		return 0
	case "CustomResourceDefinition":
		return 1
	}
	return 2
}

// `make install && make run` is enough on a bare cluster: config/install
// holds, besides the CRDs, tenant roles and admission policies, the operator
// namespace and the Service suspended sites' routes point to. config/default
// builds on it, so both ship the same objects (kustomize refuses duplicates).
func TestInstallHasWhatRunNeeds(t *testing.T) {
	install := kustomizeBuild(t, "config/install")
	ns := find(install, "Namespace", "landlord-system")
	if ns == nil {
		t.Fatal("config/install has no Namespace landlord-system")
	}
	if ns.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace landlord-system is not Pod Security restricted: %v", ns.GetLabels())
	}
	svc := find(install, "Service", "landlord-suspended-page")
	if svc == nil || svc.GetNamespace() != "landlord-system" {
		t.Fatalf("config/install has no Service landlord-system/landlord-suspended-page")
	}
	for _, o := range install {
		switch o.GetKind() {
		case "Deployment", "ServiceAccount", "ClusterRoleBinding":
			t.Errorf("config/install holds the manager's %s %s; it runs out of cluster with `make run`", o.GetKind(), o.GetName())
		}
	}
	def := kustomizeBuild(t, "config/default")
	for _, o := range install {
		if find(def, o.GetKind(), o.GetName()) == nil {
			t.Errorf("config/default lacks %s %s of config/install", o.GetKind(), o.GetName())
		}
	}
	// And it applies to a real API server, namespaced objects after their namespace.
	ctx := context.Background()
	slices.SortStableFunc(install, func(a, b *unstructured.Unstructured) int { return rank(a) - rank(b) })
	for _, o := range install {
		if err := env.Client.Patch(ctx, o, client.Apply, client.FieldOwner("manifests-test"), client.ForceOwnership); err != nil {
			t.Errorf("applying %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}
