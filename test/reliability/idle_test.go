package reliability_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
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
