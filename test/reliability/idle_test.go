package reliability_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Idle stability: once tenants have converged — one serving, one whose
// account is suspended — nothing Landlord manages changes for 30 s and the
// manager sends no write at all (not even one the API server would find
// unchanged) and runs no reconcile: no hot loop.
func TestIdleManagerWritesNothing(t *testing.T) {
	h := newHarness(t)
	_, w := h.manager(0, "")
	serving := h.tenant("idle")
	suspended := h.tenant("idle-suspended")
	must(t, env.Client.Patch(ctx, &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: suspended.name}},
		client.RawPatch(client.Merge.Type(), []byte(`{"spec":{"suspension":{"reason":"Manual","message":"reliability test"}}}`))))
	testenv.Eventually(t, wait, all(func() error { return suspended.sitePhase(v1.PhaseSuspended) }, func() error { return suspended.replicas(0) }))
	// With cert-manager's API installed every routed domain has a Certificate:
	// the serving tenant's is issued (as cert-manager would report it), the
	// other one's stays pending; both states must be quiet.
	issue(t, serving)
	testenv.Eventually(t, wait, func() error {
		d := &v1.CustomDomain{}
		if err := env.Client.Get(ctx, serving.siteKey(domainName), d); err != nil {
			return err
		}
		return ready(d, d.Status.Conditions)
	})
	certificate(t, suspended)

	// Earlier tests' tenants, discarded by hand, are gone (their namespaces'
	// last events would wake reconciles that have nothing to do).
	testenv.Eventually(t, 3*time.Minute, func() error {
		var nss corev1.NamespaceList
		if err := env.Client.List(ctx, &nss); err != nil {
			return err
		}
		for _, ns := range nss.Items {
			if !ns.DeletionTimestamp.IsZero() {
				return fmt.Errorf("namespace %s is still being deleted", ns.Name)
			}
		}
		return nil
	})
	before := settled(t, serving, suspended)
	attempted, events, reconciles := w.attempted.Load(), w.events.Load(), metricSum(t, reconcilesMetric)
	testenv.Consistently(t, 30*time.Second, func() error {
		after := map[string]string{}
		for _, tn := range []*tenant{serving, suspended} {
			rvs, err := tn.resourceVersions()
			if err != nil {
				return err
			}
			for k, v := range rvs {
				after[k] = v
			}
		}
		if d := changed(before, after); d != "" {
			return errors.New("objects changed while idle:\n" + d)
		}
		return nil
	})
	if n := w.attempted.Load() - attempted; n != 0 {
		t.Errorf("the idle manager sent %d writes", n)
	}
	if n := w.events.Load() - events; n != 0 {
		t.Errorf("the idle manager recorded %d events", n)
	}
	if n := metricSum(t, reconcilesMetric) - reconciles; n != 0 {
		t.Errorf("the idle manager ran %v reconciles", n)
	}
}

// certificate returns the tenant's domain Certificate, waiting until it exists.
func certificate(t *testing.T, tn *tenant) *unstructured.Unstructured {
	t.Helper()
	cert := &unstructured.Unstructured{}
	cert.SetGroupVersionKind(customdomain.CertificateGVK)
	testenv.Eventually(t, wait, func() error {
		d := &v1.CustomDomain{}
		if err := env.Client.Get(ctx, tn.siteKey(domainName), d); err != nil {
			return err
		}
		return env.Client.Get(ctx, client.ObjectKey{Namespace: tn.site, Name: customdomain.CertificateName(d)}, cert)
	})
	return cert
}

// issue reports the tenant's Certificate issued, as cert-manager does.
func issue(t *testing.T, tn *tenant) {
	t.Helper()
	cert := certificate(t, tn)
	must(t, unstructured.SetNestedSlice(cert.Object, []any{map[string]any{
		"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired",
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	}}, "status", "conditions"))
	must(t, env.Client.Status().Update(ctx, cert))
}
