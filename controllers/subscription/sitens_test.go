package subscription_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// restrictedPod is a pod Pod Security "restricted" admits, asking for cpu
// and memory.
func restrictedPod(ns string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("worker")},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{
				Name: "worker", Image: "busybox:1",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")}},
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			}},
		},
	}
}

// Each site has its own namespace whose quota is exactly that site's plan
// plus add-ons; a suspension takes its compute to zero so that a pod a
// Developer creates there is refused at admission, storage is kept, and a
// renewal gives the compute back. The two sites' NetworkPolicies admit only
// the gateway namespace and their own pods, never each other.
func TestSiteNamespacesQuotaAndIsolation(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	account, ns := newAccount(t, cfg)
	// The account's billing centre; site a has its own.
	must(t, env.Client.Patch(ctx, &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: account}},
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"costCenter":"hq"}}`))))
	small := newPlan(t, nil) // 1Gi, 500m, 256Mi
	big := newPlan(t, func(p *v1.PlanSpec) {
		p.Limits = v1.Limits{Storage: q("5Gi"), CPU: q("1"), Memory: q("1Gi"), CustomDomains: ptrInt(1)}
		p.AddOns = []v1.PlanAddOn{{Name: "cpu", Limits: v1.Limits{CPU: q("500m")}}}
	})
	tmpl := newTemplate(t, "nginx:1.27")
	a := newSubscription(t, ns, small, tmpl, func(s *v1.SubscriptionSpec) { s.CostCenter = "marketing" })
	b := newSubscription(t, ns, big, tmpl, func(s *v1.SubscriptionSpec) { s.AddOns = []v1.AddOnRef{{Name: "cpu", Quantity: 2}} })
	bindVolume(t, siteNS(cfg, b), platform.SiteVolumeName(b.Name))

	quota := func(sub *v1.Subscription, storage, cpu, memory string) func() error {
		return func() error {
			rq := &corev1.ResourceQuota{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: siteNS(cfg, sub), Name: platform.QuotaName}, rq); err != nil {
				return err
			}
			for res, want := range map[corev1.ResourceName]string{
				corev1.ResourceRequestsStorage: storage,
				corev1.ResourceRequestsCPU:     cpu, corev1.ResourceLimitsCPU: cpu,
				corev1.ResourceRequestsMemory: memory, corev1.ResourceLimitsMemory: memory,
			} {
				if got := rq.Spec.Hard[res]; got.Cmp(resource.MustParse(want)) != 0 {
					return fmt.Errorf("%s: quota %s %s, want %s", sub.Name, res, got.String(), want)
				}
			}
			return nil
		}
	}
	testenv.Eventually(t, wait, func() error {
		for _, sub := range []*v1.Subscription{a, b} {
			if err := checkSite(ctx, cfg, sub, siteState{replicas: 1}); err != nil {
				return err
			}
		}
		if err := quota(a, "1Gi", "500m", "256Mi")(); err != nil {
			return err
		}
		return quota(b, "5Gi", "2", "1Gi")() // 1 + 2 × 500m
	})

	// Namespaces: Pod Security restricted, the site's labels and billing
	// centre (the subscription's own, else the account's).
	for _, c := range []struct {
		sub        *v1.Subscription
		costCenter string
	}{{a, "marketing"}, {b, "hq"}} {
		testenv.Eventually(t, wait, func() error {
			nsObj := &corev1.Namespace{}
			if err := env.Client.Get(ctx, client.ObjectKey{Name: siteNS(cfg, c.sub)}, nsObj); err != nil {
				return err
			}
			l := nsObj.Labels
			if l[tenancy.PodSecurityEnforce] != "restricted" || l[v1.AccountLabel] != account || l[v1.SubscriptionLabel] != c.sub.Name || l[v1.CostCenterLabel] != c.costCenter {
				return fmt.Errorf("site namespace %s labels %v", nsObj.Name, l)
			}
			return nil
		})
	}

	// Isolation: each site's policy selects all its pods and admits only the
	// gateway namespace and pods of its own namespace.
	for _, sub := range []*v1.Subscription{a, b} {
		np := &networkingv1.NetworkPolicy{}
		must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: siteNS(cfg, sub), Name: platform.NetworkPolicyName}, np))
		if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) != 0 || len(np.Spec.Ingress) != 1 {
			t.Fatalf("%s: policy %+v", sub.Name, np.Spec)
		}
		for _, peer := range np.Spec.Ingress[0].From {
			switch {
			case peer.NamespaceSelector != nil:
				if got := peer.NamespaceSelector.MatchLabels[corev1.LabelMetadataName]; got != cfg.IngressNamespace || len(peer.NamespaceSelector.MatchLabels) != 1 {
					t.Errorf("%s: admits namespaces %v", sub.Name, peer.NamespaceSelector)
				}
			case peer.PodSelector != nil: // same namespace only (no namespace selector)
			default:
				t.Errorf("%s: admits %+v", sub.Name, peer)
			}
		}
	}

	// A Developer of the account (bound as a Membership would bind it).
	dev := testenv.Name("dev") + "@example.com"
	for _, sub := range []*v1.Subscription{a, b} {
		must(t, env.Client.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: siteNS(cfg, sub), Name: "dev"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: tenancy.ClusterRoleName(v1.RoleDeveloper)},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: dev}},
		}))
	}
	asDev := env.As(dev)
	dryRun := client.DryRunAll

	// Each site's own workload takes its whole plan: a Developer's extra pod
	// does not fit, in either, and cannot spend one site's compute in the
	// other.
	testenv.Eventually(t, wait, func() error {
		for _, sub := range []*v1.Subscription{a, b} {
			if err := refusedByQuota(asDev.Create(ctx, restrictedPod(siteNS(cfg, sub)), dryRun)); err != nil {
				return fmt.Errorf("%s: %w", sub.Name, err)
			}
		}
		return nil
	})

	// Suspended: no compute, storage kept; the Developer's pod is refused
	// (by the suspended site's admission policy before the quota sees it).
	update(t, b, func(s *v1.Subscription) {
		s.Spec.Suspension = &v1.Suspension{Reason: v1.SuspensionManual, Message: "maintenance"}
	})
	testenv.Eventually(t, wait, quota(b, "5Gi", "0", "0"))
	testenv.Eventually(t, wait, func() error {
		err := asDev.Create(ctx, restrictedPod(siteNS(cfg, b)), dryRun)
		if err == nil || !strings.Contains(err.Error(), "is suspended: nothing may start in it") {
			return fmt.Errorf("a pod on a suspended site: want the suspension's refusal, got %v", err)
		}
		return nil
	})

	// Renewed: compute is back, and the site's own pod runs again under it.
	update(t, b, func(s *v1.Subscription) { s.Spec.Suspension = nil })
	testenv.Eventually(t, wait, quota(b, "5Gi", "2", "1Gi"))
	testenv.Eventually(t, wait, func() error {
		if err := checkSite(ctx, cfg, b, siteState{replicas: 1}); err != nil {
			return err
		}
		if !get(t, b).Status.Site.Ready {
			return fmt.Errorf("site b not ready after the renewal")
		}
		return nil
	})
}

// refusedByQuota returns nil when err is the quota admission's refusal.
func refusedByQuota(err error) error {
	if err == nil {
		return fmt.Errorf("a pod was admitted past the quota")
	}
	if !strings.Contains(err.Error(), "exceeded quota") {
		return fmt.Errorf("refused, but not by the quota: %w", err)
	}
	return nil
}

// A namespace with the site namespace's name that is not labelled for the
// site is never adopted: the Subscription stays Pending and says why, and
// nothing is created in it.
func TestSiteNamespaceTakenIsNotAdopted(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	account, ns := newAccount(t, cfg)
	taken := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.SiteNamespace(account, "www"),
		Labels: map[string]string{v1.AccountLabel: account}}} // no subscription label
	must(t, env.Client.Create(ctx, taken))
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "www"}, Spec: v1.SubscriptionSpec{
		Plan: newPlan(t, nil), Site: v1.SiteSpec{Template: newTemplate(t, "nginx:1.27")}}}
	must(t, env.Client.Create(ctx, sub))
	testenv.Eventually(t, wait, func() error {
		cur := get(t, sub)
		if cur.Status.Phase != v1.PhasePending || cur.Status.Site.Namespace != "" {
			return fmt.Errorf("phase %s, site %+v", cur.Status.Phase, cur.Status.Site)
		}
		return condition(cur, v1.ConditionReady, metav1.ConditionFalse, v1.ReasonSiteNamespaceTaken)
	})
	testenv.Consistently(t, 2*time.Second, func() error {
		var quotas corev1.ResourceQuotaList
		if err := env.Client.List(ctx, &quotas, client.InNamespace(taken.Name)); err != nil {
			return err
		}
		got := &corev1.Namespace{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(taken), got); err != nil {
			return err
		}
		if len(quotas.Items) != 0 || got.Labels[v1.SubscriptionLabel] != "" || got.Labels[tenancy.PodSecurityEnforce] != "" {
			return fmt.Errorf("the namespace was taken over: labels %v, %d quotas", got.Labels, len(quotas.Items))
		}
		return nil
	})
}
