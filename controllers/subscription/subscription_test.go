package subscription_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/lifecycle"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/routing"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

const day = 24 * time.Hour

// siteState is what the phase table says a site has.
type siteState struct {
	replicas      int32
	suspendedPage bool // the default route points at the suspended page
}

func checkSite(ctx context.Context, cfg platform.Config, sub *v1.Subscription, want siteState) error {
	ns := siteNS(cfg, sub)
	cur := &v1.Subscription{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sub), cur); err != nil {
		return err
	}
	if cur.Status.Site.Namespace != ns {
		return fmt.Errorf("status.site.namespace %q, want %q", cur.Status.Site.Namespace, ns)
	}
	dep := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: platform.SiteName(sub.Name)}, dep); err != nil {
		return err
	}
	if *dep.Spec.Replicas != want.replicas {
		return fmt.Errorf("replicas %d, want %d", *dep.Spec.Replicas, want.replicas)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: platform.SiteName(sub.Name)}, &corev1.Service{}); err != nil {
		return err
	}
	route := &gatewayv1.HTTPRoute{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: platform.SiteName(sub.Name)}, route); err != nil {
		return err
	}
	ref := route.Spec.Rules[0].BackendRefs[0]
	backend := routing.SiteBackend(sub.Name)
	if want.suspendedPage {
		backend = routing.SuspendedBackend(cfg)
		if ref.Namespace == nil || string(*ref.Namespace) != backend.Namespace {
			return fmt.Errorf("route backend namespace %v, want %s", ref.Namespace, backend.Namespace)
		}
		grant := routing.SuspendedReferenceGrant(cfg, ns, nil)
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(grant), grant); err != nil {
			return fmt.Errorf("no ReferenceGrant for the suspended page: %w", err)
		}
	}
	if string(ref.Name) != backend.Service {
		return fmt.Errorf("route to %s, want %s", ref.Name, backend.Service)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: platform.SiteVolumeName(sub.Name)}, &corev1.PersistentVolumeClaim{}); err != nil {
		return fmt.Errorf("volume: %w", err)
	}
	return nil
}

// phase waits for a change of phase to want: the status and its Event.
func phase(t *testing.T, sub *v1.Subscription, want v1.SubscriptionPhase) func() error {
	return func() error {
		if err := born(t, sub, want)(); err != nil {
			return err
		}
		return hasEvent(sub, string(want))
	}
}

// born waits for a new subscription's first phase, want; a new subscription
// serving at once (Active, Trialing) says so in its status alone, no Event.
func born(t *testing.T, sub *v1.Subscription, want v1.SubscriptionPhase) func() error {
	return func() error {
		if cur := get(t, sub); cur.Status.Phase != want {
			return fmt.Errorf("phase %s, want %s", cur.Status.Phase, want)
		}
		return nil
	}
}

// Active → PastDue → Suspended → Terminated, with each phase's objects as the
// phase table says, under both deletion policies.
func TestLifecycleActiveToTerminated(t *testing.T) {
	clk, cfg := start(t)
	ctx := context.Background()
	for _, policy := range []v1.DeletionPolicy{v1.DeletionPolicyDelete, v1.DeletionPolicyRetain} {
		t.Run(string(policy), func(t *testing.T) {
			clk.Set(t0)
			account, ns := newAccount(t, cfg)
			plan := newPlan(t, nil)
			tmpl := newTemplate(t, "nginx:1.27")
			sub := newSubscription(t, ns, plan, tmpl, func(s *v1.SubscriptionSpec) {
				s.PaidThrough = &metav1.Time{Time: t0.Add(2 * day)}
				s.DeletionPolicy = policy
			})
			site := siteNS(cfg, sub)
			bindVolume(t, site, platform.SiteVolumeName(sub.Name))

			// Active: serving, Ready with a URL (kwok runs the pod).
			testenv.Eventually(t, wait, func() error {
				cur := get(t, sub)
				if err := born(t, sub, v1.PhaseActive)(); err != nil {
					return err
				}
				if err := condition(cur, v1.ConditionReady, metav1.ConditionTrue, v1.ReasonReconciled); err != nil {
					return err
				}
				if want := "https://" + cfg.DefaultHostname(sub.Name, account); cur.Status.Site.URL != want || !cur.Status.Site.Ready || cur.Status.Site.Template != tmpl {
					return fmt.Errorf("site status %+v", cur.Status.Site)
				}
				if cur.Status.TerminateAt == nil || !cur.Status.TerminateAt.Time.Equal(t0.Add(5*day)) {
					return fmt.Errorf("terminateAt %v", cur.Status.TerminateAt)
				}
				return checkSite(ctx, cfg, sub, siteState{replicas: 1})
			})

			// PastDue at paidThrough: still serving, RenewalDue.
			clk.Set(t0.Add(2 * day))
			testenv.Eventually(t, wait, func() error {
				if err := phase(t, sub, v1.PhasePastDue)(); err != nil {
					return err
				}
				if err := condition(get(t, sub), v1.ConditionRenewalDue, metav1.ConditionTrue, v1.ReasonRenewalDue); err != nil {
					return err
				}
				return checkSite(ctx, cfg, sub, siteState{replicas: 1})
			})

			// Suspended after the grace: scaled to zero, routed to the suspended page, data kept.
			clk.Set(t0.Add(3 * day))
			testenv.Eventually(t, wait, func() error {
				if err := phase(t, sub, v1.PhaseSuspended)(); err != nil {
					return err
				}
				if err := condition(get(t, sub), v1.ConditionSuspended, metav1.ConditionTrue, string(v1.SuspensionNonPayment)); err != nil {
					return err
				}
				return checkSite(ctx, cfg, sub, siteState{replicas: 0, suspendedPage: true})
			})

			// Terminated after the retention: the site namespace and everything
			// in it gone; under Retain the volume's data is kept (its
			// PersistentVolume retained and labelled), under Delete not.
			clk.Set(t0.Add(5 * day))
			name := platform.SiteName(sub.Name)
			testenv.Eventually(t, wait, func() error {
				if err := phase(t, sub, v1.PhaseTerminated)(); err != nil {
					return err
				}
				if got := get(t, sub).Status.Site.Namespace; got != "" {
					return fmt.Errorf("status.site.namespace still %q", got)
				}
				if err := absent(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: site}}); err != nil {
					return err
				}
				return absent(routing.SuspendedReferenceGrant(cfg, site, nil))
			})
			pv := &corev1.PersistentVolume{}
			must(t, env.Client.Get(ctx, client.ObjectKey{Name: "pv-" + site + "-" + platform.SiteVolumeName(sub.Name)}, pv))
			retained := pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRetain &&
				pv.Labels[v1.AccountLabel] == account && pv.Labels[v1.SubscriptionLabel] == sub.Name
			if retained != (policy == v1.DeletionPolicyRetain) {
				t.Fatalf("deletionPolicy %s: volume reclaim policy %s, labels %v", policy, pv.Spec.PersistentVolumeReclaimPolicy, pv.Labels)
			}
			if get(t, sub).Annotations[lifecycle.TerminatedAtAnnotation] == "" {
				t.Fatal("termination not recorded")
			}

			// Final: a later paidThrough does not revive it.
			update(t, sub, func(s *v1.Subscription) { s.Spec.PaidThrough = &metav1.Time{Time: t0.Add(400 * day)} })
			testenv.Consistently(t, 2*time.Second, func() error {
				if p := get(t, sub).Status.Phase; p != v1.PhaseTerminated {
					return fmt.Errorf("revived to %s", p)
				}
				return absent(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: site}})
			})
			_ = name
		})
	}
}

// A payment while suspended for non-payment lifts the suspension at once and
// restores replicas and routes; an account suspension suspends every site.
func TestRenewalAndAccountSuspension(t *testing.T) {
	clk, cfg := start(t)
	ctx := context.Background()
	account, ns := newAccount(t, cfg)
	plan := newPlan(t, nil)
	tmpl := newTemplate(t, "nginx:1.27")
	sub := newSubscription(t, ns, plan, tmpl, func(s *v1.SubscriptionSpec) { s.PaidThrough = &metav1.Time{Time: t0.Add(day)} })
	testenv.Eventually(t, wait, born(t, sub, v1.PhaseActive))

	clk.Set(t0.Add(3 * day))
	testenv.Eventually(t, wait, func() error {
		if err := phase(t, sub, v1.PhaseSuspended)(); err != nil {
			return err
		}
		return checkSite(ctx, cfg, sub, siteState{replicas: 0, suspendedPage: true})
	})
	update(t, sub, func(s *v1.Subscription) { s.Spec.PaidThrough = &metav1.Time{Time: t0.Add(31 * day)} })
	testenv.Eventually(t, wait, func() error {
		if err := phase(t, sub, v1.PhaseActive)(); err != nil {
			return err
		}
		return checkSite(ctx, cfg, sub, siteState{replicas: 1})
	})
	// Suspended → Active is an Event (above); becoming Active at birth was not.
	if n := countEvents(t, sub, string(v1.PhaseActive), "(was none)"); n != 0 {
		t.Errorf("%d Active events at birth, want none", n)
	}

	acct := &v1.Account{}
	must(t, env.Client.Get(ctx, client.ObjectKey{Name: account}, acct))
	acct.Spec.Suspension = &v1.Suspension{Reason: v1.SuspensionAbuse, Message: "phishing"}
	must(t, env.Client.Update(ctx, acct))
	testenv.Eventually(t, wait, func() error {
		if err := condition(get(t, sub), v1.ConditionSuspended, metav1.ConditionTrue, v1.ReasonAccountSuspended); err != nil {
			return err
		}
		if err := ownerRole(ctx, siteNS(cfg, sub), tenancy.SuspendedClusterRole); err != nil {
			return err
		}
		return checkSite(ctx, cfg, sub, siteState{replicas: 0, suspendedPage: true})
	})
	must(t, env.Client.Get(ctx, client.ObjectKey{Name: account}, acct))
	acct.Spec.Suspension = nil
	must(t, env.Client.Update(ctx, acct))
	testenv.Eventually(t, wait, func() error {
		if get(t, sub).Status.Phase != v1.PhaseActive {
			return fmt.Errorf("still %s", get(t, sub).Status.Phase)
		}
		if err := ownerRole(ctx, siteNS(cfg, sub), tenancy.ClusterRoleName(v1.RoleOwner)); err != nil {
			return err
		}
		return checkSite(ctx, cfg, sub, siteState{replicas: 1})
	})
}

// ownerRole returns an error unless the owner's RoleBinding in namespace
// binds the ClusterRole want.
func ownerRole(ctx context.Context, namespace, want string) error {
	rb := &rbacv1.RoleBinding{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: platform.OwnerBindingName}, rb); err != nil {
		return err
	}
	if rb.RoleRef.Name != want {
		return fmt.Errorf("the owner is bound to %s in %s, want %s", rb.RoleRef.Name, namespace, want)
	}
	return nil
}

func storageOf(rl corev1.ResourceList, name corev1.ResourceName) string {
	v := rl[name]
	return v.String()
}

// An upgrade or add-on raises the quota and the volume at once without
// touching paidThrough; a downgrade below use reports OverQuota and deletes
// nothing.
func TestUpgradeAddOnAndDowngrade(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	small := newPlan(t, nil)
	big := newPlan(t, func(p *v1.PlanSpec) {
		p.Limits = v1.Limits{Storage: q("5Gi"), CPU: q("1"), Memory: q("512Mi"), CustomDomains: ptrInt(0)}
		p.AddOns = []v1.PlanAddOn{{Name: "extra-storage", Limits: v1.Limits{Storage: q("2Gi")}}}
	})
	tmpl := newTemplate(t, "nginx:1.27")
	sub := newSubscription(t, ns, small, tmpl, nil)
	site := siteNS(cfg, sub)
	paid := get(t, sub).Spec.PaidThrough

	expect := func(quota, volume, cpu string) func() error {
		return func() error {
			rq := &corev1.ResourceQuota{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: platform.QuotaName}, rq); err != nil {
				return err
			}
			if got := storageOf(rq.Spec.Hard, corev1.ResourceRequestsStorage); got != quota {
				return fmt.Errorf("quota storage %s, want %s", got, quota)
			}
			// Exactly this site's compute, as requests and as limits.
			for _, res := range []corev1.ResourceName{corev1.ResourceRequestsCPU, corev1.ResourceLimitsCPU} {
				if got := rq.Spec.Hard[res]; got.Cmp(resource.MustParse(cpu)) != 0 {
					return fmt.Errorf("quota %s %s, want %s", res, got.String(), cpu)
				}
			}
			pvc := &corev1.PersistentVolumeClaim{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: platform.SiteVolumeName(sub.Name)}, pvc); err != nil {
				return err
			}
			if got := storageOf(pvc.Spec.Resources.Requests, corev1.ResourceStorage); got != volume {
				// LimitsApplied says why a volume has not grown (yet).
				return fmt.Errorf("volume request %s (claim phase %q), want %s; LimitsApplied: %+v", got, pvc.Status.Phase, volume,
					meta.FindStatusCondition(get(t, sub).Status.Conditions, v1.ConditionLimitsApplied))
			}
			dep := &appsv1.Deployment{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: platform.SiteName(sub.Name)}, dep); err != nil {
				return err
			}
			if got := dep.Spec.Template.Spec.Containers[0].Resources.Limits.Cpu(); got.Cmp(resource.MustParse(cpu)) != 0 {
				return fmt.Errorf("cpu limit %s, want %s", got.String(), cpu)
			}
			return nil
		}
	}
	testenv.Eventually(t, wait, expect("1Gi", "1Gi", "500m"))
	bindVolume(t, site, platform.SiteVolumeName(sub.Name))

	update(t, sub, func(s *v1.Subscription) { s.Spec.Plan = big })
	testenv.Eventually(t, wait, expect("5Gi", "5Gi", "1"))
	update(t, sub, func(s *v1.Subscription) {
		s.Spec.AddOns = []v1.AddOnRef{{Name: "extra-storage", Quantity: 2}}
	})
	testenv.Eventually(t, wait, func() error {
		if err := expect("9Gi", "9Gi", "1")(); err != nil {
			return err
		}
		return condition(get(t, sub), v1.ConditionLimitsApplied, metav1.ConditionTrue, v1.ReasonReconciled)
	})
	if got := get(t, sub).Spec.PaidThrough; !got.Equal(paid) {
		t.Fatalf("paidThrough moved from %v to %v", paid, got)
	}

	// A custom domain in use, then a downgrade to a plan that allows none and
	// less storage: over quota on both, nothing deleted or shrunk.
	cd := &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: "shop"}, Spec: v1.CustomDomainSpec{Hostname: "shop.example.com"}}
	must(t, env.Client.Create(ctx, cd))
	cd.Status.Phase = v1.DomainActive
	must(t, env.Client.Status().Update(ctx, cd))
	update(t, sub, func(s *v1.Subscription) { s.Spec.Plan, s.Spec.AddOns = small, nil })
	testenv.Eventually(t, wait, func() error {
		cur := get(t, sub)
		if err := condition(cur, v1.ConditionOverQuota, metav1.ConditionTrue, v1.ReasonOverQuota); err != nil {
			return err
		}
		if cur.Status.Usage.CustomDomains != 1 {
			return fmt.Errorf("usage %+v", cur.Status.Usage)
		}
		return expect("1Gi", "9Gi", "500m")()
	})
	msg := meta.FindStatusCondition(get(t, sub).Status.Conditions, v1.ConditionOverQuota).Message
	if !strings.Contains(msg, "storage: 9Gi provisioned, the limit is 1Gi") {
		t.Fatalf("OverQuota does not say what is over: %q", msg)
	}
	// customDomains on the small plan is 1, the domain in use fits.
	if strings.Contains(msg, "customDomains") {
		t.Fatalf("OverQuota counts a domain within the limit: %q", msg)
	}
	update(t, sub, func(s *v1.Subscription) { s.Spec.Plan = big })
	testenv.Eventually(t, wait, func() error {
		c := meta.FindStatusCondition(get(t, sub).Status.Conditions, v1.ConditionOverQuota)
		if c == nil || !strings.Contains(c.Message, "customDomains: 1 in use, the limit is 0") {
			return fmt.Errorf("OverQuota %+v", c)
		}
		return nil
	})
}

func ptrInt(i int32) *int32 { return &i }

// Bad input leaves the subscription Pending with a condition naming the
// problem, and provisions nothing.
func TestBadInputStaysPending(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	tmpl := newTemplate(t, "nginx:1.27")
	other := newTemplate(t, "nginx:1.27")
	plan := newPlan(t, func(p *v1.PlanSpec) { p.SiteTemplates = []string{tmpl} })

	orphan := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("orphan"), Labels: map[string]string{v1.ManagedByLabel: v1.ManagedByValue}}}
	must(t, env.Client.Create(ctx, orphan))

	for _, c := range []struct {
		name, ns, plan, template string
		addOns                   []v1.AddOnRef
		reason                   string
	}{
		{"unknown plan", ns, "no-such-plan", tmpl, nil, v1.ReasonPlanNotFound},
		{"unknown template", ns, plan, "no-such-template", nil, v1.ReasonTemplateNotFound},
		{"template not allowed", ns, plan, other, nil, v1.ReasonTemplateNotAllowed},
		{"add-on not offered", ns, plan, tmpl, []v1.AddOnRef{{Name: "gold", Quantity: 1}}, v1.ReasonAddOnNotOffered},
		{"no account", orphan.Name, plan, tmpl, nil, v1.ReasonNoAccount},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := newSubscription(t, c.ns, c.plan, c.template, func(s *v1.SubscriptionSpec) { s.AddOns = c.addOns })
			testenv.Eventually(t, wait, func() error {
				cur := get(t, sub)
				if cur.Status.Phase != v1.PhasePending {
					return fmt.Errorf("phase %s", cur.Status.Phase)
				}
				return condition(cur, v1.ConditionReady, metav1.ConditionFalse, c.reason)
			})
			site := siteNS(cfg, sub)
			for _, obj := range []client.Object{
				&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: platform.SiteName(sub.Name)}},
				&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: site, Name: platform.SiteVolumeName(sub.Name)}},
			} {
				must(t, absent(obj))
			}
			if c.reason == v1.ReasonNoAccount {
				must(t, absent(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: site}}))
				return
			}
			// The site namespace exists (CustomDomains may be created ahead),
			// but nothing can run in it until the spec resolves.
			testenv.Eventually(t, wait, func() error {
				rq := &corev1.ResourceQuota{}
				if err := env.Client.Get(ctx, client.ObjectKey{Namespace: site, Name: platform.QuotaName}, rq); err != nil {
					return err
				}
				if cpu := rq.Spec.Hard[corev1.ResourceLimitsCPU]; !cpu.IsZero() {
					return fmt.Errorf("a site whose spec does not resolve may compute: %v", rq.Spec.Hard)
				}
				return nil
			})
		})
	}
}

// Switching to another allowed template rolls the site to the new image and
// keeps the volume; a typo leaves the running site untouched with a condition.
func TestTemplateSwitch(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	a, b := newTemplate(t, "nginx:1.27"), newTemplate(t, "wordpress:6")
	plan := newPlan(t, nil)
	sub := newSubscription(t, ns, plan, a, nil)
	key := client.ObjectKey{Namespace: siteNS(cfg, sub), Name: platform.SiteName(sub.Name)}
	image := func(want string) func() error {
		return func() error {
			dep := &appsv1.Deployment{}
			if err := env.Client.Get(ctx, key, dep); err != nil {
				return err
			}
			if got := dep.Spec.Template.Spec.Containers[0].Image; got != want {
				return fmt.Errorf("image %s, want %s", got, want)
			}
			return nil
		}
	}
	testenv.Eventually(t, wait, image("nginx:1.27"))
	vol := &corev1.PersistentVolumeClaim{}
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: siteNS(cfg, sub), Name: platform.SiteVolumeName(sub.Name)}, vol))

	update(t, sub, func(s *v1.Subscription) { s.Spec.Site.Template = b })
	testenv.Eventually(t, wait, func() error {
		if err := image("wordpress:6")(); err != nil {
			return err
		}
		if get(t, sub).Status.Site.Template != b {
			return fmt.Errorf("status.site.template %q", get(t, sub).Status.Site.Template)
		}
		return nil
	})
	again := &corev1.PersistentVolumeClaim{}
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(vol), again))
	if again.UID != vol.UID {
		t.Fatal("the volume was replaced")
	}

	update(t, sub, func(s *v1.Subscription) { s.Spec.Site.Template = "wordpres" })
	testenv.Eventually(t, wait, func() error {
		return condition(get(t, sub), v1.ConditionReady, metav1.ConditionFalse, v1.ReasonTemplateNotFound)
	})
	testenv.Consistently(t, time.Second, image("wordpress:6"))
}

// A hand-edited site object is repaired.
func TestRepairsHandChanges(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	sub := newSubscription(t, ns, newPlan(t, nil), newTemplate(t, "nginx:1.27"), nil)
	key := client.ObjectKey{Namespace: siteNS(cfg, sub), Name: platform.SiteName(sub.Name)}
	testenv.Eventually(t, wait, func() error { return checkSite(ctx, cfg, sub, siteState{replicas: 1}) })
	testenv.Eventually(t, wait, func() error {
		dep := &appsv1.Deployment{}
		if err := env.Client.Get(ctx, key, dep); err != nil {
			return err
		}
		dep.Spec.Template.Spec.Containers[0].Image = "evil:latest"
		return env.Client.Update(ctx, dep)
	})
	testenv.Eventually(t, wait, func() error {
		dep := &appsv1.Deployment{}
		if err := env.Client.Get(ctx, key, dep); err != nil {
			return err
		}
		if got := dep.Spec.Template.Spec.Containers[0].Image; got != "nginx:1.27" {
			return fmt.Errorf("image %s", got)
		}
		return nil
	})
}

// Deleting a Subscription removes its site at once, whatever the phase:
// the site namespace goes; under Retain the volume's data is kept.
func TestDeleteRemovesSite(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	plan, tmpl := newPlan(t, nil), newTemplate(t, "nginx:1.27")
	keep := newSubscription(t, ns, plan, tmpl, func(s *v1.SubscriptionSpec) { s.DeletionPolicy = v1.DeletionPolicyRetain })
	drop := newSubscription(t, ns, plan, tmpl, nil)
	for _, sub := range []*v1.Subscription{keep, drop} {
		bindVolume(t, siteNS(cfg, sub), platform.SiteVolumeName(sub.Name))
		testenv.Eventually(t, wait, func() error { return checkSite(ctx, cfg, sub, siteState{replicas: 1}) })
		// Deleting a site needs a confirmation first (deletionProtection).
		must(t, env.Client.Patch(ctx, sub, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"deletionProtection":false}}`))))
		must(t, env.Client.Delete(ctx, sub))
		testenv.Eventually(t, wait, func() error {
			if err := absent(&v1.Subscription{ObjectMeta: sub.ObjectMeta}); err != nil {
				return err
			}
			return absent(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS(cfg, sub)}})
		})
	}
	for _, c := range []struct {
		sub  *v1.Subscription
		want corev1.PersistentVolumeReclaimPolicy
	}{{keep, corev1.PersistentVolumeReclaimRetain}, {drop, corev1.PersistentVolumeReclaimDelete}} {
		pv := &corev1.PersistentVolume{}
		must(t, env.Client.Get(ctx, client.ObjectKey{Name: "pv-" + siteNS(cfg, c.sub) + "-" + platform.SiteVolumeName(c.sub.Name)}, pv))
		if pv.Spec.PersistentVolumeReclaimPolicy != c.want {
			t.Errorf("%s (%s): volume reclaim policy %s, want %s", c.sub.Name, c.sub.Spec.DeletionPolicy, pv.Spec.PersistentVolumeReclaimPolicy, c.want)
		}
	}
}

// Deleting an account's namespace completes: the subscriptions in it remove
// their site namespaces and let go, also when Landlord was down meanwhile.
func TestNamespaceDeletionCompletes(t *testing.T) {
	clk, cfg, mgr := startManager(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	sub := newSubscription(t, ns, newPlan(t, nil), newTemplate(t, "nginx:1.27"), nil)
	testenv.Eventually(t, wait, func() error { return checkSite(ctx, cfg, sub, siteState{replicas: 1}) })

	// The account namespace is deleted (its subscription's finalizer keeps
	// it) while Landlord is down; then Landlord comes back.
	must(t, mgr.Stop())
	must(t, env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	mgr, err := env.StartManager(cfg, clk, manager.SubscriptionController)
	must(t, err)
	t.Cleanup(func() { _ = mgr.Stop() })
	testenv.Eventually(t, wait, func() error {
		if err := absent(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS(cfg, sub)}}); err != nil {
			return err
		}
		return absent(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	})
}
