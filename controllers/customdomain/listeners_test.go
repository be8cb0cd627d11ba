package customdomain_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// listenerNames reads the site's ListenerSet: the names of its listeners
// (nil when it does not exist).
func (h *harness) listenerNames(t *testing.T, ns string) []string {
	t.Helper()
	ls := &gatewayv1.ListenerSet{}
	err := h.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: customdomain.ListenerSetName}, ls)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls.Spec.Listeners {
		out = append(out, string(l.Name))
	}
	return out
}

func (h *harness) listenersAre(t *testing.T, ns string, want ...string) {
	t.Helper()
	testenv.Eventually(t, wait, func() error {
		got := h.listenerNames(t, ns)
		if len(got) != len(want) {
			return fmt.Errorf("listeners %v, want %v", got, want)
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				return fmt.Errorf("listeners %v, want %v", got, want)
			}
		}
		return nil
	})
}

// A domain's listeners follow its certificate (HTTPS only once Ready, and
// never with TLS Disabled) and its route: when the domain lapses past the
// grace, the reconcile that reports it unrouted has removed its listeners,
// and the last domain's removal deletes the ListenerSet.
func TestListenersFollowCertificateAndRoute(t *testing.T) {
	ctx := context.Background()
	tn := h.newTenant(t, "lsn")
	h.newSite(t, tn, "www", v1.PhaseActive, 5)
	shopHost := "shop." + tn.account.Name + ".example"
	plainHost := "plain." + tn.account.Name + ".example"
	h.publish(t, tn, shopHost)
	h.publish(t, tn, plainHost)
	shop := h.newDomain(t, h.env.Client, tn, "shop", shopHost, "www", true)
	plain := h.newDomain(t, h.env.Client, tn, "plain", plainHost, "www", false)
	patch := client.MergeFrom(plain.DeepCopy())
	plain.Spec.TLS = &v1.DomainTLS{Mode: v1.TLSDisabled}
	if err := h.env.Client.Patch(ctx, plain, patch); err != nil {
		t.Fatal(err)
	}
	verifiedAt := h.active(t, shop).Status.Verification.VerifiedAt.Time
	h.active(t, plain)
	ns := shop.Namespace
	h.listenersAre(t, ns, customdomain.HTTPListenerName(shop), customdomain.HTTPListenerName(plain))

	// cert-manager reports shop's certificate issued.
	cert := &unstructured.Unstructured{}
	cert.SetGroupVersionKind(customdomain.CertificateGVK)
	testenv.Eventually(t, wait, func() error {
		if err := h.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: customdomain.CertificateName(shop)}, cert); err != nil {
			return err
		}
		_ = unstructured.SetNestedSlice(cert.Object, []any{map[string]any{
			"type": "Ready", "status": "True", "reason": "Ready", "message": "issued", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}}, "status", "conditions")
		return h.env.Client.Status().Update(ctx, cert)
	})
	h.listenersAre(t, ns, customdomain.HTTPListenerName(shop), customdomain.HTTPSListenerName(shop), customdomain.HTTPListenerName(plain))
	testenv.Eventually(t, wait, func() error {
		r := &gatewayv1.HTTPRoute{}
		if err := h.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: platform.DomainRouteName(shop.Name)}, r); err != nil {
			return err
		}
		if s := r.Spec.ParentRefs[0].SectionName; s == nil || string(*s) != customdomain.HTTPSListenerName(shop) {
			return fmt.Errorf("shop's route is on %v", s)
		}
		return h.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: customdomain.RedirectRouteName(shop)}, &gatewayv1.HTTPRoute{})
	})
	if err := h.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: customdomain.RedirectRouteName(plain)}, &gatewayv1.HTTPRoute{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a plain-HTTP domain has a redirect route (%v)", err)
	}

	// shop lapses past the grace: once its status says unrouted, neither
	// its routes nor its listeners are left.
	h.dns.Remove(customdomain.RecordName(shopHost))
	h.clk.Set(verifiedAt.Add(h.cfg.ReverifyInterval))
	h.domain(t, shop, phase(v1.DomainLapsed))
	h.clk.Set(verifiedAt.Add(h.cfg.LapseGrace))
	h.domain(t, shop, condition(v1.ConditionRouted, metav1.ConditionFalse, v1.ReasonLapsed))
	for _, name := range h.listenerNames(t, ns) {
		if name == customdomain.HTTPListenerName(shop) || name == customdomain.HTTPSListenerName(shop) {
			t.Fatalf("listener %s outlived shop's route", name)
		}
	}
	h.noRoute(t, shop)
	if err := h.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: customdomain.RedirectRouteName(shop)}, &gatewayv1.HTTPRoute{}); !apierrors.IsNotFound(err) {
		t.Fatalf("shop's redirect route outlived it (%v)", err)
	}
	h.listenersAre(t, ns, customdomain.HTTPListenerName(plain))

	// The last domain goes: so does the ListenerSet.
	if err := h.env.Client.Delete(ctx, plain); err != nil {
		t.Fatal(err)
	}
	h.listenersAre(t, ns)
}
