package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/controlplane"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Names of the shared catalogue every benchmark tenant uses.
const (
	planName     = "bench"
	templateName = "bench"
)

// cluster is one local control plane (etcd, kube-apiserver with the audit
// log, kube-controller-manager, kube-scheduler, kwok, the host-path volume
// provisioner) with Landlord's CRDs, tenant roles and admission policies.
type cluster struct {
	cp    *controlplane.ControlPlane
	c     client.Client // admin, uncached
	audit *auditLog
	dir   string
	// cache watches what the benchmark waits on (cheap for the API server:
	// one watch per kind instead of repeated lists).
	cache cache.Cache
	stop  context.CancelFunc
}

func startCluster(ctx context.Context, dir string) (*cluster, error) {
	return startClusterWith(ctx, dir, true)
}

// startClusterWith starts a control plane; without pods it runs no
// scheduler, kwok or volume provisioner (-mode tenancy and apicost).
func startClusterWith(ctx context.Context, dir string, pods bool) (*cluster, error) {
	return startClusterControllers(ctx, dir, pods, "")
}

// startClusterControllers is startClusterWith with kube-controller-manager
// running only the given controllers (empty: the default list).
func startClusterControllers(ctx context.Context, dir string, pods bool, controllers string) (*cluster, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	audit, err := newAuditLog(dir)
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "control-plane.log"))
	if err != nil {
		return nil, err
	}
	root := controlplane.RepoRoot()
	gw, err := testenv.GatewayAPICRDs()
	if err != nil {
		return nil, err
	}
	cp, err := controlplane.Start(ctx, controlplane.Options{
		CRDPaths:          append([]string{filepath.Join(root, "config", "crd", "bases")}, gw...),
		Kwok:              pods,
		VolumeProvisioner: pods,
		StateDir:          filepath.Join(dir, "state"),
		APIServerArgs:     audit.apiServerArgs(),
		Controllers:       controllers,
		Log:               logf,
	})
	if err != nil {
		return nil, err
	}
	cl := &cluster{cp: cp, audit: audit, dir: dir}
	cfg := *cp.Config
	cfg.QPS, cfg.Burst = -1, 0 // the benchmark's own client is not throttled client-side
	if cl.c, err = client.New(&cfg, client.Options{Scheme: testenv.Scheme()}); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	for _, d := range testenv.ManifestDirs {
		if err := applyDir(ctx, cl.c, filepath.Join(root, d)); err != nil {
			_ = cp.Stop()
			return nil, err
		}
	}
	if err := testenv.WaitForMutatingPolicies(ctx, cl.c); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	pc := platform.Default()
	for _, ns := range []string{pc.OperatorNamespace, pc.IngressNamespace} {
		if err := cl.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			_ = cp.Stop()
			return nil, err
		}
	}
	if err := cl.c.Create(ctx, benchPlan()); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	if err := cl.c.Create(ctx, benchTemplate()); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	if cl.cache, err = cache.New(&cfg, cache.Options{Scheme: testenv.Scheme(), DefaultTransform: cache.TransformStripManagedFields()}); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	cctx, stop := context.WithCancel(ctx)
	cl.stop = stop
	go func() { _ = cl.cache.Start(cctx) }()
	return cl, nil
}

// watch starts the informers of the given kinds and waits for their sync.
func (cl *cluster) watch(ctx context.Context, objs ...client.Object) error {
	for _, o := range objs {
		if _, err := cl.cache.GetInformer(ctx, o); err != nil {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !cl.cache.WaitForCacheSync(sctx) {
		return fmt.Errorf("the benchmark's cache did not sync")
	}
	return nil
}

func (cl *cluster) Stop() {
	if cl.stop != nil {
		cl.stop()
	}
	_ = cl.cp.Stop()
}

func applyDir(ctx context.Context, c client.Client, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		objs, err := testenv.ReadObjects(f)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := c.Patch(ctx, o, client.Apply, client.FieldOwner("landlord-bench"), client.ForceOwnership); err != nil {
				return fmt.Errorf("applying %s %s from %s: %w", o.GetKind(), o.GetName(), f, err)
			}
		}
	}
	return nil
}

// benchPlan allows one custom domain per site and has a one-hour grace
// period (the expiry burst moves paidThrough to an hour before its deadline).
func benchPlan() *v1.Plan {
	q := resource.MustParse
	storage, cpu, mem := q("1Gi"), q("100m"), q("64Mi")
	return &v1.Plan{
		ObjectMeta: metav1.ObjectMeta{Name: planName},
		Spec: v1.PlanSpec{
			DisplayName: "Benchmark",
			Limits:      v1.Limits{Storage: &storage, CPU: &cpu, Memory: &mem, CustomDomains: ptrTo(int32(1))},
			GracePeriod: &metav1.Duration{Duration: time.Hour},
		},
	}
}

func benchTemplate() *v1.SiteTemplate {
	return &v1.SiteTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: templateName},
		Spec: v1.SiteTemplateSpec{
			DisplayName:   "Static site",
			Image:         "nginxinc/nginx-unprivileged:1.27-alpine",
			Port:          8080,
			DataPath:      "/usr/share/nginx/html",
			ReadinessPath: "/",
		},
	}
}

func ptrTo[T any](v T) *T { return &v }
