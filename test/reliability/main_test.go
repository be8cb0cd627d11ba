// Package reliability_test holds the reliability tests of issue 7: the whole
// manager (every controller) against a real control plane, crashed at every
// write of a tenant's life, left idle, fought by a drifting writer, and run
// twice under leader election. Each test asserts what a user would see.
package reliability_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	dns *dnstest.Server
	cfg platform.Config
	ctx = context.Background()
)

// Names of the cluster-wide fixtures every tenant uses.
const (
	planName     = "reliability"
	templateName = "reliability"
)

// Plan periods: a subscription is PastDue at paidThrough, Suspended a grace
// later and Terminated a retention after that.
const (
	grace     = 24 * time.Hour
	retention = 48 * time.Hour
)

// certManagerVersion is the cert-manager module whose CRDs are installed.
const certManagerVersion = "v1.21.2"

// wait bounds every Eventually: generous, for a loaded 2-core machine.
const wait = 90 * time.Second

func TestMain(m *testing.M) {
	var err error
	if dns, err = dnstest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg = platform.Default()
	cfg.BaseDomain = "sites.landlord.test"
	cfg.DomainTarget = "edge.landlord.test"
	cfg.DNSServer = dns.Addr()
	// cert-manager's API is installed (its CRDs, no controller: tests issue
	// certificates by writing their status), so that every write Landlord
	// makes only when certificates exist is seen too.
	cm, err := testenv.ModuleDir("github.com/cert-manager/cert-manager@" + certManagerVersion)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	crds := []string{filepath.Join(cm, "deploy", "crds", "cert-manager.io_certificates.yaml")}
	// Pods run on a kwok node and volumes bind, so a site becomes Ready as
	// it would in a cluster.
	testenv.Main(m, &env, testenv.Options{Kwok: true, VolumeProvisioner: true, ExtraCRDPaths: crds})
}

var fixturesOnce sync.Once

// fixtures creates what the provider sets up once: the operator namespace
// (the suspended page's), a plan and a site template.
func fixtures(t testing.TB) {
	t.Helper()
	fixturesOnce.Do(func() {
		must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.OperatorNamespace}}))
		must(t, env.Client.Create(ctx, &v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: planName}, Spec: v1.PlanSpec{
			Limits: v1.Limits{Storage: ptr.To(resource.MustParse("1Gi")), CPU: ptr.To(resource.MustParse("500m")),
				Memory: ptr.To(resource.MustParse("256Mi")), CustomDomains: ptr.To[int32](1)},
			GracePeriod:     &metav1.Duration{Duration: grace},
			RetentionPeriod: &metav1.Duration{Duration: retention},
			RenewalNotice:   &metav1.Duration{Duration: 24 * time.Hour},
		}}))
		must(t, env.Client.Create(ctx, &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: templateName}, Spec: v1.SiteTemplateSpec{
			Image: "nginx", Port: 8080, DataPath: "/srv", ReadinessPath: "/"}}))
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
