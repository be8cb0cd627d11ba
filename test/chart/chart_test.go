// Package chart checks the Helm chart in charts/landlord: it renders the same
// CRDs, RBAC and admission policies as `kustomize build config/default`, its
// values reach the manager's flags, and it installs, upgrades and uninstalls
// on a real control plane with the helm command. Run it with `make
// test-chart`, which builds helm and sets LANDLORD_HELM.
package chart

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/landlord-dev/landlord/internal/controlplane"
)

// templatedKinds are the objects of config/ the chart writes from values.
var templatedKinds = map[string]bool{"Namespace": true, "Deployment": true, "Service": true}

// chartLabels are what the chart adds to every object of config/.
var chartLabels = []string{"helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"}

func tool(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Skipf("%s is not set: run `make test-chart`", env)
	}
	return p
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = controlplane.RepoRoot()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func parse(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if err.Error() == "EOF" {
				return objs
			}
			t.Fatal(err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

func key(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

func index(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		m[key(u)] = u
	}
	return m
}

func template(t *testing.T, namespace string, set ...string) map[string]*unstructured.Unstructured {
	return templateServing(t, namespace, nil, set...)
}

// mutatingPolicies is what helm is told the API server serves from
// Kubernetes 1.36 on (helm template cannot ask one).
var mutatingPolicies = []string{"admissionregistration.k8s.io/v1/MutatingAdmissionPolicy"}

// templateServing renders the chart for an API server that serves, beside
// helm's defaults, apiVersions.
func templateServing(t *testing.T, namespace string, apiVersions []string, set ...string) map[string]*unstructured.Unstructured {
	args := []string{"template", "landlord", "charts/landlord", "--namespace", namespace}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	for _, v := range apiVersions {
		args = append(args, "--api-versions", v)
	}
	return index(parse(t, run(t, tool(t, "LANDLORD_HELM"), args...)))
}

// Rendered in landlord-system with default values, every object of config/
// but the manager's workload is in the chart, equal but for the chart's
// labels and the keep annotation; the chart adds only the workload kinds.
func TestChartMatchesConfig(t *testing.T) {
	chart := templateServing(t, "landlord-system", mutatingPolicies)
	kustomized := parse(t, run(t, tool(t, "LANDLORD_KUSTOMIZE"), "build", "config/default"))
	seen := map[string]bool{}
	for _, want := range kustomized {
		if templatedKinds[want.GetKind()] {
			continue
		}
		k := key(want)
		seen[k] = true
		got, ok := chart[k]
		if !ok {
			t.Errorf("%s is in config/ but not in the chart (run make chart)", k)
			continue
		}
		got = got.DeepCopy()
		labels := got.GetLabels()
		for _, l := range chartLabels {
			if _, inConfig := want.GetLabels()[l]; !inConfig {
				delete(labels, l)
			}
		}
		if len(labels) == 0 {
			labels = nil
		}
		got.SetLabels(labels)
		if got.GetKind() == "CustomResourceDefinition" {
			ann := got.GetAnnotations()
			if ann["helm.sh/resource-policy"] != "keep" {
				t.Errorf("%s: CRD not kept on uninstall by default", k)
			}
			delete(ann, "helm.sh/resource-policy")
			got.SetAnnotations(ann)
		}
		if !reflect.DeepEqual(got.Object, want.Object) {
			t.Errorf("%s differs between the chart and config/ (run make chart)", k)
		}
	}
	for k, u := range chart {
		if !seen[k] && !slices.Contains([]string{"Deployment", "Service", "PodDisruptionBudget"}, u.GetKind()) {
			t.Errorf("%s is in the chart but not in config/", k)
		}
	}
	if len(seen) < 10 {
		t.Fatalf("only %d objects of config/ compared", len(seen))
	}
}

func managerArgs(t *testing.T, objs map[string]*unstructured.Unstructured, ns string) []string {
	t.Helper()
	d, ok := objs["Deployment/"+ns+"/landlord-manager"]
	if !ok {
		t.Fatalf("no Deployment landlord-manager in %s", ns)
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	return args
}

// Values reach the manager's flags, the workload and the switches.
func TestValues(t *testing.T) {
	objs := template(t, "ops",
		"platform.baseDomain=sites.example.net",
		"platform.gateway=gw/public",
		"platform.tenantEgress=open",
		"platform.clusterCIDRs=198.18.0.0/15",
		"dnsServer=10.0.0.53:53",
		"manager.workers=8",
		"manager.logFormat=console",
		"manager.leaderElection=false",
		"metrics.serviceMonitor.enabled=true",
		"replicaCount=3",
		"crds.keep=false",
		"nodeSelector.pool=system",
		"image.tag=v9.9.9",
		"tenantPods.maxTerminationGracePeriodSeconds=120",
		"tenantPods.priorityClasses={tenant-low,tenant-high}",
	)
	args := managerArgs(t, objs, "ops")
	for _, want := range []string{
		"--base-domain=sites.example.net", "--gateway=gw/public", "--dns-server=10.0.0.53:53",
		"--max-concurrent-reconciles=8", "--zap-encoder=console", "--operator-namespace=ops",
		"--tenant-max-termination-grace-period-seconds=120", "--tenant-priority-classes=tenant-low,tenant-high",
		"--tenant-egress=open", "--cluster-cidrs=198.18.0.0/15",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("manager args %q lack %s", args, want)
		}
	}
	if slices.Contains(args, "--leader-elect") {
		t.Errorf("manager.leaderElection=false still passes --leader-elect")
	}
	// The same values are in the tenant pod policy, as the manager writes them.
	vars, _, _ := unstructured.NestedSlice(objs["ValidatingAdmissionPolicy//landlord-tenant-pods"].Object, "spec", "variables")
	got := map[string]any{}
	for _, v := range vars {
		got[fmt.Sprint(v.(map[string]any)["name"])] = v.(map[string]any)["expression"]
	}
	if got["maxTerminationGracePeriodSeconds"] != "120" || got["allowedPriorityClasses"] != `["tenant-low","tenant-high"]` ||
		got["allowedTolerations"] != "[]" {
		t.Errorf("landlord-tenant-pods variables %v do not carry the tenantPods values", got)
	}
	d := objs["Deployment/ops/landlord-manager"]
	if r, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); fmt.Sprint(r) != "3" {
		t.Errorf("replicas = %v, want 3", r)
	}
	if ns, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "nodeSelector", "pool"); ns != "system" {
		t.Errorf("nodeSelector not applied")
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if img := containers[0].(map[string]any)["image"]; img != "ghcr.io/landlord-dev/landlord:v9.9.9" {
		t.Errorf("image = %v", img)
	}
	if _, ok := objs["ServiceMonitor/ops/landlord"]; !ok {
		t.Errorf("metrics.serviceMonitor.enabled=true renders no ServiceMonitor")
	}
	for k, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" && u.GetAnnotations()["helm.sh/resource-policy"] != "" {
			t.Errorf("%s: crds.keep=false still keeps it", k)
		}
		if b := u.GetKind() == "ClusterRoleBinding" || u.GetKind() == "RoleBinding"; b {
			subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
			for _, s := range subjects {
				if ns := s.(map[string]any)["namespace"]; ns != nil && ns != "ops" {
					t.Errorf("%s binds a service account in %v, want the release namespace ops", k, ns)
				}
			}
		}
	}
	defaults := template(t, "landlord-system")
	// An API server that does not serve MutatingAdmissionPolicy (before
	// 1.36) gets the chart without the finalizer policy: Landlord adds its
	// finalizer itself there.
	serving := templateServing(t, "landlord-system", mutatingPolicies)
	for _, k := range []string{"MutatingAdmissionPolicy//landlord-finalizers", "MutatingAdmissionPolicyBinding//landlord-finalizers"} {
		if _, ok := defaults[k]; ok {
			t.Errorf("%s is rendered for an API server that does not serve it", k)
		}
		if _, ok := serving[k]; !ok {
			t.Errorf("%s is not rendered for an API server that serves it", k)
		}
	}
	if _, ok := defaults["ServiceMonitor/landlord-system/landlord"]; ok {
		t.Errorf("a ServiceMonitor is rendered by default")
	}
	if _, ok := defaults["PodDisruptionBudget/landlord-system/landlord-manager"]; !ok {
		t.Errorf("no PodDisruptionBudget by default")
	}
	none := template(t, "landlord-system", "crds.install=false")
	for k := range none {
		if strings.HasPrefix(k, "CustomResourceDefinition/") {
			t.Errorf("crds.install=false still renders %s", k)
		}
	}
}

// helm install, upgrade and uninstall on a real API server (with kwok, so
// that the manager's pods are scheduled and reported running).
func TestInstallUpgradeUninstall(t *testing.T) {
	helm := tool(t, "LANDLORD_HELM")
	ctx := context.Background()
	cp, err := controlplane.Start(ctx, controlplane.Options{Kwok: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	kubectl := filepath.Join(controlplane.BinDir(), "kubectl")
	const ns = "platform-ops"
	h := func(args ...string) []byte {
		return run(t, helm, append(args, "--kubeconfig", cp.KubeconfigPath, "--namespace", ns)...)
	}
	k := func(args ...string) []byte {
		return run(t, kubectl, append(args, "--kubeconfig", cp.KubeconfigPath)...)
	}

	start := time.Now()
	h("install", "landlord", "charts/landlord", "--create-namespace", "--wait", "--timeout", "5m",
		"--set", "platform.baseDomain=sites.example.net")
	t.Logf("helm install --wait: %s", time.Since(start).Round(time.Second))

	// CRDs established and kept on uninstall; the manager's rules as config/ has them.
	for _, crd := range []string{"accounts", "subscriptions", "memberships", "customdomains", "plans", "sitetemplates", "domainclaims"} {
		out := k("get", "crd", crd+".hosting.landlord.dev", "-o", `jsonpath={.status.conditions[?(@.type=="Established")].status} {.metadata.annotations.helm\.sh/resource-policy}`)
		if string(out) != "True keep" {
			t.Errorf("CRD %s: established and policy = %q, want \"True keep\"", crd, out)
		}
	}
	clusterRole := k("get", "clusterrole", "landlord-manager", "-o", "jsonpath={.rules}")
	configRole := parse(t, mustRead(t, filepath.Join(controlplane.RepoRoot(), "config/rbac/manager/role.yaml")))[0]
	if !sameRules(t, clusterRole, configRole) {
		t.Errorf("installed ClusterRole landlord-manager differs from config/rbac/manager/role.yaml")
	}
	if sub := k("get", "clusterrolebinding", "landlord-manager", "-o", "jsonpath={.subjects[0].namespace}"); string(sub) != ns {
		t.Errorf("ClusterRoleBinding subject namespace = %q, want %s", sub, ns)
	}
	args := k("-n", ns, "get", "deployment", "landlord-manager", "-o", "jsonpath={.spec.template.spec.containers[0].args}")
	for _, want := range []string{"--base-domain=sites.example.net", "--operator-namespace=" + ns, "--leader-election-namespace=" + ns} {
		if !bytes.Contains(args, []byte(want)) {
			t.Errorf("manager args %s lack %s", args, want)
		}
	}
	if ready := k("-n", ns, "get", "deployment", "landlord-manager", "-o", "jsonpath={.status.readyReplicas}"); string(ready) != "2" {
		t.Errorf("ready replicas = %q, want 2", ready)
	}
	k("-n", ns, "get", "poddisruptionbudget", "landlord-manager")
	k("-n", ns, "get", "service", "landlord-suspended-page", "landlord-metrics")
	k("-n", ns, "get", "role", "landlord-leader-election")
	// This API server serves MutatingAdmissionPolicy: helm asked it.
	k("get", "mutatingadmissionpolicy,mutatingadmissionpolicybinding", "landlord-finalizers")

	// The chart's admission policies are in force: a protected Account
	// cannot be deleted. Until the API server has loaded the new CRDs'
	// schemas (every 5 s), the finalizer policy makes it refuse the create
	// with 503: retried, as a client should.
	account := `apiVersion: hosting.landlord.dev/v1alpha1
kind: Account
metadata: {name: chart-test}
spec:
  displayName: Chart test
  owner: {kind: User, name: owner@example.com}
`
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		err := apply(kubectl, cp.KubeconfigPath, account)
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "ServiceUnavailable") || time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	if fin := k("get", "account", "chart-test", "-o", "jsonpath={.metadata.finalizers}"); !bytes.Contains(fin, []byte(`"hosting.landlord.dev/finalizer"`)) {
		t.Errorf("the Account's finalizers are %s, want Landlord's, from the finalizer policy or the manager", fin)
	}
	waitPolicy(t, kubectl, cp.KubeconfigPath)

	h("upgrade", "landlord", "charts/landlord", "--wait", "--timeout", "5m", "--reuse-values", "--set", "manager.workers=7")
	if args := k("-n", ns, "get", "deployment", "landlord-manager", "-o", "jsonpath={.spec.template.spec.containers[0].args}"); !bytes.Contains(args, []byte("--max-concurrent-reconciles=7")) || !bytes.Contains(args, []byte("--base-domain=sites.example.net")) {
		t.Errorf("after upgrade, manager args = %s", args)
	}

	h("uninstall", "landlord", "--wait")
	if out := k("-n", ns, "get", "deployment", "--ignore-not-found", "-o", "name"); len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("after uninstall, deployments left: %s", out)
	}
	k("get", "crd", "accounts.hosting.landlord.dev")
	if out := k("get", "account", "chart-test", "-o", "name"); string(bytes.TrimSpace(out)) != "account.hosting.landlord.dev/chart-test" {
		t.Errorf("after uninstall, account = %q", out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sameRules compares the installed rules (JSON) with a ClusterRole of config/.
func sameRules(t *testing.T, installed []byte, want *unstructured.Unstructured) bool {
	t.Helper()
	got := parse(t, []byte(`{"rules":`+string(installed)+`}`))[0]
	wantRules, _, _ := unstructured.NestedSlice(want.Object, "rules")
	gotRules, _, _ := unstructured.NestedSlice(got.Object, "rules")
	return len(wantRules) > 0 && reflect.DeepEqual(gotRules, wantRules)
}

func apply(kubectl, kubeconfig, manifest string) error {
	cmd := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubectl apply: %v\n%s", err, out)
	}
	return nil
}

// waitPolicy waits until deleting the protected Account is refused (a new
// admission policy takes a moment to load); --dry-run keeps it if not.
func waitPolicy(t *testing.T, kubectl, kubeconfig string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "delete", "account", "chart-test", "--dry-run=server").CombinedOutput()
		if err != nil && bytes.Contains(out, []byte("deletionProtection")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleting a protected Account is not refused: %v\n%s", err, out)
		}
		time.Sleep(time.Second)
	}
}
