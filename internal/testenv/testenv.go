// Package testenv is the integration-test harness: one real control plane
// (etcd, kube-apiserver, kube-controller-manager) per test package, with
// Landlord's CRDs, tenant roles and admission policies installed, and helpers
// to run the real manager, impersonate tenants and wait for outcomes.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/controlplane"
	"github.com/landlord-dev/landlord/internal/node"
	"github.com/landlord-dev/landlord/internal/platform"
)

// Options configure Start.
type Options struct {
	// Kwok also runs kube-scheduler and kwok, so that pods run on a fake node.
	Kwok bool
	// Node also runs kube-scheduler and a real node (internal/node: the
	// kubelet with containerd, in namespaces of its own), so that pods
	// really run. It needs root: check node.Preflight first.
	Node bool
	// VolumeProvisioner runs kube-controller-manager's volume binder with a
	// host-path provisioner and a default StorageClass "standard", so that
	// site volumes bind (and, with Kwok, site pods run).
	VolumeProvisioner bool
	// ExtraCRDPaths are installed besides Landlord's CRDs (Gateway API, cert-manager).
	ExtraCRDPaths []string
	// NoGatewayAPI leaves out the Gateway API CRDs (a bare cluster).
	NoGatewayAPI bool
	// SkipManifests leaves out the tenant roles and admission policies.
	SkipManifests bool
	// Manager, when set, makes Main also run the Landlord manager with this
	// configuration and a fake clock reading ManagerEpoch (Env.Manager).
	Manager *platform.Config
	// Controllers limits the manager Main runs to these controllers (see
	// internal/manager); empty runs them all.
	Controllers []string
}

// Env is a running test environment.
type Env struct {
	CP     *controlplane.ControlPlane
	Config *rest.Config
	Scheme *runtime.Scheme
	// Client is an uncached admin client (system:masters, not Landlord).
	Client client.Client
	// ManagerConfig authenticates as Landlord's own identity outside a
	// cluster: user landlord-manager in the groups system:masters and
	// platform.ManagerGroup. The manager runs with it, so that what only
	// Landlord may write (config/admission) stays writable by it alone.
	ManagerConfig *rest.Config
	// Root is the repository root.
	Root string
	// Manager is the manager Main started (Options.Manager), else nil.
	Manager *Manager
	// Node is the real node (Options.Node), else nil.
	Node *node.Node
}

// Scheme returns a scheme with the built-in kinds and Landlord's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(hostingv1alpha1.AddToScheme(s))
	utilruntime.Must(gatewayv1.Install(s))
	return s
}

// ModuleDir is the directory of a module in the module cache (downloaded
// through the Go module proxy if need be), for CRDs shipped in Go modules.
func ModuleDir(module string) (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", module).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", module, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	if info.Error != "" {
		return "", errors.New(info.Error)
	}
	return info.Dir, nil
}

// GatewayAPICRDs are the Gateway API CRDs Landlord uses, from the module
// version go.mod pins.
func GatewayAPICRDs() ([]string, error) {
	dir, err := ModuleDir("sigs.k8s.io/gateway-api@" + GatewayAPIVersion)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, kind := range []string{"gatewayclasses", "gateways", "httproutes", "referencegrants", "listenersets"} {
		files = append(files, filepath.Join(dir, "config", "crd", "standard", "gateway.networking.k8s.io_"+kind+".yaml"))
	}
	return files, nil
}

// GatewayAPIVersion is the sigs.k8s.io/gateway-api version in go.mod.
const GatewayAPIVersion = "v1.5.0"

// ManifestDirs are the directories of config/ applied into every test
// environment, as `make install` applies them into a cluster.
var ManifestDirs = []string{"config/rbac/tenant", "config/admission"}

// Start starts a control plane and installs Landlord's CRDs and manifests.
func Start(ctx context.Context, opts Options) (*Env, error) {
	root := controlplane.RepoRoot()
	var log io.Writer
	if os.Getenv("LANDLORD_TEST_LOG") != "" {
		log = os.Stderr
	}
	// The Gateway API CRDs are there, as in a cluster that routes with it,
	// unless the test is of a bare cluster.
	var gw []string
	if !opts.NoGatewayAPI {
		var err error
		if gw, err = GatewayAPICRDs(); err != nil {
			return nil, err
		}
	}
	crds := []string{filepath.Join(root, "config", "crd", "bases")}
	for _, p := range append(gw, opts.ExtraCRDPaths...) {
		if !slices.Contains(crds, p) {
			crds = append(crds, p)
		}
	}
	cpOpts := controlplane.Options{
		CRDPaths:          crds,
		Kwok:              opts.Kwok,
		VolumeProvisioner: opts.VolumeProvisioner,
		Log:               log,
	}
	var n *node.Node
	if opts.Node {
		var err error
		if n, err = node.New(node.Options{Log: log}); err != nil {
			return nil, fmt.Errorf("the real node: %w", err)
		}
		cpOpts.Scheduler = true
		cpOpts.APIServerArgs = n.APIServerArgs()
	}
	cp, err := controlplane.Start(ctx, cpOpts)
	if err != nil {
		if n != nil {
			_ = n.Stop()
		}
		return nil, err
	}
	e := &Env{CP: cp, Config: cp.Config, Scheme: Scheme(), Root: root, Node: n}
	if e.Client, err = e.newClient(cp.Config); err != nil {
		_ = e.Stop()
		return nil, err
	}
	if n != nil {
		_, kc, err := cp.AddUser("system:node:"+n.Name, "system:nodes", "system:masters")
		if err == nil {
			err = n.Start(ctx, kc)
		}
		if err != nil {
			_ = e.Stop()
			return nil, fmt.Errorf("the real node: %w", err)
		}
	}
	if e.ManagerConfig, _, err = cp.AddUser("landlord-manager", "system:masters", platform.ManagerGroup); err != nil {
		_ = e.Stop()
		return nil, fmt.Errorf("adding the manager's user: %w", err)
	}
	e.ManagerConfig.QPS, e.ManagerConfig.Burst = cp.Config.QPS, cp.Config.Burst
	if !opts.SkipManifests {
		for _, dir := range ManifestDirs {
			if err := e.ApplyDir(ctx, filepath.Join(root, dir)); err != nil {
				_ = e.Stop()
				return nil, err
			}
		}
		if err := WaitForMutatingPolicies(ctx, e.Client); err != nil {
			_ = e.Stop()
			return nil, err
		}
	}
	return e, nil
}

// WaitForMutatingPolicies waits until the API server can run the mutating
// admission policies (config/admission/finalizers.yaml) on Landlord's kinds.
// It loads the schemas they need from its OpenAPI every 5 s, and until then
// refuses a create they match with 503 ServiceUnavailable ("There can be a
// delay between when CustomResourceDefinitions are created and when they are
// available"): right after the CRDs are installed, and after a restart. It
// can answer so again later, once in a while (a CI run saw it after this wait
// had passed), so Env's clients also wait it out on every create.
func WaitForMutatingPolicies(ctx context.Context, c client.Client) error {
	kinds := []client.Object{
		&hostingv1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: hostingv1alpha1.AccountSpec{Owner: hostingv1alpha1.Subject{Kind: hostingv1alpha1.SubjectUser, Name: "probe@example.com"}}},
		&hostingv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "probe"}, Spec: hostingv1alpha1.MembershipSpec{Subject: hostingv1alpha1.Subject{Kind: hostingv1alpha1.SubjectUser, Name: "probe@example.com"}, Role: hostingv1alpha1.RoleViewer}},
		&hostingv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "probe"}, Spec: hostingv1alpha1.TeamSpec{Role: hostingv1alpha1.TeamRoleViewer, Members: []hostingv1alpha1.TeamMember{{Subject: hostingv1alpha1.Subject{Kind: hostingv1alpha1.SubjectUser, Name: "probe@example.com"}}}}},
		&hostingv1alpha1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "probe"}, Spec: hostingv1alpha1.SubscriptionSpec{Plan: "probe", Site: hostingv1alpha1.SiteSpec{Template: "probe"}}},
		&hostingv1alpha1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "probe"}, Spec: hostingv1alpha1.CustomDomainSpec{Hostname: "probe.example.com"}},
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, o := range kinds {
		// Created (dry run), or refused for another reason: the schema is loaded.
		if err := createPastSchemaLoading(ctx, c, o, client.DryRunAll); SchemaLoading(err) {
			return fmt.Errorf("the API server cannot run the mutating admission policies on %T yet: %w", o, err)
		}
	}
	return nil
}

// Main runs a package's tests in one shared environment: use it from TestMain.
func Main(m *testing.M, env **Env, opts Options) {
	ctx := context.Background()
	e, err := Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		os.Exit(1)
	}
	*env = e
	if opts.Manager != nil {
		if e.Manager, err = e.StartManager(*opts.Manager, clock.NewFake(ManagerEpoch), opts.Controllers...); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: starting the manager:", err)
			_ = e.CP.Stop()
			os.Exit(1)
		}
	}
	code := m.Run()
	if e.Manager != nil {
		if err := e.Manager.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: manager:", err)
		}
	}
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: stopping:", err)
	}
	os.Exit(code)
}

// Stop stops the environment: the real node (if any), then the control plane.
func (e *Env) Stop() error {
	var errs []error
	if e.Node != nil {
		errs = append(errs, e.Node.Stop())
	}
	return errors.Join(append(errs, e.CP.Stop())...)
}

// ApplyDir server-side applies every YAML file in dir (not recursing), in name
// order, skipping kustomization.yaml.
func (e *Env) ApplyDir(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		if err := e.ApplyFile(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// ApplyFile server-side applies every object of a multi-document YAML file.
func (e *Env) ApplyFile(ctx context.Context, path string) error {
	objs, err := ReadObjects(path)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := e.Client.Patch(ctx, o, client.Apply, client.FieldOwner("landlord-tests"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s from %s: %w", o.GetKind(), o.GetName(), path, err)
		}
	}
	return nil
}

// ReadObjects decodes every object of a multi-document YAML file.
func ReadObjects(path string) ([]*unstructured.Unstructured, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, err := decodeObjects(b)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	return out, nil
}

// MustObjects decodes the objects of a multi-document YAML text, failing t
// on error.
func MustObjects(t testing.TB, text string) []client.Object {
	t.Helper()
	objs, err := decodeObjects([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		out = append(out, o)
	}
	return out
}

func decodeObjects(b []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// As returns an uncached client that impersonates user in groups. Every
// request it makes is authorised by the API server as that tenant would be.
func (e *Env) As(user string, groups ...string) client.Client {
	cfg := rest.CopyConfig(e.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append(groups, "system:authenticated")}
	c, err := e.newClient(cfg)
	utilruntime.Must(err)
	return c
}

// newClient returns an uncached client for cfg whose creates wait out the
// API server loading a CRD's schema for the mutating admission policies
// (SchemaLoading).
func (e *Env) newClient(cfg *rest.Config) (client.Client, error) {
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: e.Scheme})
	if err != nil {
		return nil, err
	}
	return interceptor.NewClient(c, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			return createPastSchemaLoading(ctx, c, obj, opts...)
		},
	}), nil
}

// schemaLoadingWait bounds how long a create waits out SchemaLoading.
const schemaLoadingWait = time.Minute

// createPastSchemaLoading creates obj, again every 250 ms for up to
// schemaLoadingWait while the API server answers with SchemaLoading. The
// README tells users to retry this 503; the tests do what it says. Any other
// answer, success or refusal, is returned at once.
func createPastSchemaLoading(ctx context.Context, c client.Client, obj client.Object, opts ...client.CreateOption) error {
	deadline := time.Now().Add(schemaLoadingWait)
	for {
		err := c.Create(ctx, obj, opts...)
		if !SchemaLoading(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// SchemaLoading reports the API server's 503 for a create its mutating
// admission policies cannot run on yet, because it has not loaded the kind's
// schema from its OpenAPI (it reloads it every 5 s, and again whenever the
// group's OpenAPI changes). The policy's failurePolicy does not apply to it.
func SchemaLoading(err error) bool {
	return apierrors.IsServiceUnavailable(err) &&
		strings.Contains(err.Error(), "There can be a delay between when CustomResourceDefinitions are created and when they are available")
}

var nameSeq atomic.Int64

// Name returns a DNS-label name unique within the test binary: prefix-<n>.
func Name(prefix string) string {
	return fmt.Sprintf("%s-%d", strings.ToLower(prefix), nameSeq.Add(1))
}

// Eventually calls check until it returns nil or timeout passes, then fails
// the test with check's last error.
func Eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true within %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Consistently calls check repeatedly for d and fails on the first error.
func Consistently(t testing.TB, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := check(); err != nil {
			t.Fatalf("stopped holding: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
