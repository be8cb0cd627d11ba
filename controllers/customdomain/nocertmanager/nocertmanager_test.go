// Package nocertmanager_test runs the CustomDomain controller in a cluster
// without cert-manager's API, with Ingress routing.
package nocertmanager_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/routing"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	cfg platform.Config
	clk *clock.Fake
	srv *dnstest.Server
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctrl.SetLogger(logr.Discard())
	// The manager's cache is configured for Gateway API kinds even with
	// Ingress routing, so their CRDs are installed; cert-manager's are not.
	crds, err := testenv.GatewayAPICRDs()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if env, err = testenv.Start(context.Background(), testenv.Options{ExtraCRDPaths: crds}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if srv, err = dnstest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = srv.Close() }()
	cfg = platform.Default()
	cfg.RouteKind = platform.RouteIngress
	cfg.IngressClassName = "nginx"
	cfg.DNSServer = srv.Addr()
	clk = clock.NewFake(time.Now())
	mgr, err := env.StartManager(cfg, clk, manager.CustomDomainController)
	stop := func() { _ = mgr.Stop() }
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

// Without cert-manager's API a routed domain says TLS is not available (and
// is Ready: it is served as well as the platform can); Ingress routing sends
// the primary to the site and redirects the others.
func TestNoCertManagerAndIngressRouting(t *testing.T) {
	ctx := context.Background()
	acct := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("nocm")},
		Spec: v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "owner@nocm.example"}}}
	must(t, env.Client.Create(ctx, acct))
	ns := cfg.AccountNamespace(acct.Name)
	must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: platform.AccountLabels(acct.Name)}}))
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "www"},
		Spec: v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}}}
	must(t, env.Client.Create(ctx, sub))
	sub.Status.Phase = v1.PhaseActive
	sub.Status.EffectiveLimits.CustomDomains = new(int32)
	*sub.Status.EffectiveLimits.CustomDomains = 5
	must(t, env.Client.Status().Update(ctx, sub))
	// Its site namespace, as the subscription controller makes it: the
	// domains, their routes and slots live there.
	site := cfg.SiteNamespace(acct.Name, sub.Name)
	must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: site, Labels: platform.SiteLabels(acct.Name, sub.Name)}}))

	var domains []*v1.CustomDomain
	for i, primary := range []bool{true, false} {
		host := fmt.Sprintf("d%d.%s.example", i, acct.Name)
		srv.SetTXT(customdomain.RecordName(host), customdomain.Token(string(acct.UID), host))
		cd := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: fmt.Sprintf("d%d", i)},
			Spec: v1.CustomDomainSpec{Hostname: host, Primary: primary}}
		must(t, env.Client.Create(ctx, cd))
		domains = append(domains, cd)
	}
	for _, cd := range domains {
		testenv.Eventually(t, time.Minute, func() error {
			got := &v1.CustomDomain{}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(cd), got); err != nil {
				return err
			}
			c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionCertificateReady)
			r := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
			if got.Status.Phase != v1.DomainActive || c == nil || c.Reason != v1.ReasonCertManagerMissing || c.Status != metav1.ConditionFalse ||
				r == nil || r.Status != metav1.ConditionTrue {
				return fmt.Errorf("phase %s, conditions %v", got.Status.Phase, got.Status.Conditions)
			}
			return nil
		})
	}
	testenv.Eventually(t, time.Minute, func() error {
		primary, other := &networkingv1.Ingress{}, &networkingv1.Ingress{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: platform.DomainRouteName("d0")}, primary); err != nil {
			return err
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: platform.DomainRouteName("d1")}, other); err != nil {
			return err
		}
		if primary.Spec.Rules[0].Host != "d0."+acct.Name+".example" || primary.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != "www" ||
			len(primary.Spec.TLS) != 0 || *primary.Spec.IngressClassName != "nginx" {
			return fmt.Errorf("primary ingress %+v", primary.Spec)
		}
		if other.Annotations[routing.PermanentRedirectAnnotation] != "https://d0."+acct.Name+".example" {
			return fmt.Errorf("other ingress annotations %v", other.Annotations)
		}
		return nil
	})
	// There is no Certificate API to have created anything in.
	if _, err := env.Client.RESTMapper().RESTMapping(customdomain.CertificateGVK.GroupKind(), customdomain.CertificateGVK.Version); !meta.IsNoMatchError(err) {
		t.Fatalf("the cert-manager API is installed in this package's cluster (%v)", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
