package subscription_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// squatterDeployment is a Deployment a tenant writes: no pod yet (0
// replicas), a container of its own.
func squatterDeployment(ns, name, container string) *appsv1.Deployment {
	labels := map[string]string{"app": "mine"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: container, Image: "example.com/miner:1",
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
					},
				}}},
			},
		},
	}
}

// A tenant who creates the site's Deployment and volume claim under the
// site's names, in the site namespace before Landlord creates the site (here:
// while the plan does not exist yet), keeps them as they are: Landlord does
// not merge its fields into them, says so on the Subscription (SiteReady and
// Ready: SiteObjectTaken, naming both), applies none of the site, and never
// deletes the claim. Once the tenant removes them, the site is created.
func TestTenantObjectsUnderSiteNamesAreNotAdopted(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	tmpl := newTemplate(t, "nginx:1.27")
	plan := testenv.Name("later")
	sub := newSubscription(t, ns, plan, tmpl, nil)
	siteNamespace := siteNS(cfg, sub)
	owner := env.As("owner@example.com")

	// The site namespace exists (the site waits for its plan) and its owner may write in it.
	dep := squatterDeployment(siteNamespace, platform.SiteName(sub.Name), "miner")
	testenv.Eventually(t, wait, func() error { return owner.Create(ctx, dep.DeepCopy()) })
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: siteNamespace, Name: platform.SiteVolumeName(sub.Name)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("100Mi")}},
		},
	}
	// The quota of a site waiting for its plan admits no storage, and Landlord
	// keeps whatever quota such a site has: the provider lends the claim's
	// storage, so that the tenant can take the claim's name.
	testenv.Eventually(t, wait, func() error {
		quota := &corev1.ResourceQuota{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: siteNamespace, Name: platform.QuotaName}, quota); err != nil {
			return err
		}
		quota.Spec.Hard[corev1.ResourceRequestsStorage] = resource.MustParse("1Gi")
		return env.Client.Update(ctx, quota)
	})
	testenv.Eventually(t, wait, func() error { return owner.Create(ctx, claim.DeepCopy()) })

	// The plan appears: the site would be created now.
	must(t, env.Client.Create(ctx, &v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: plan}, Spec: v1.PlanSpec{
		Limits: v1.Limits{Storage: q("1Gi"), CPU: q("500m"), Memory: q("256Mi")}}}))
	testenv.Eventually(t, wait, func() error {
		cur := get(t, sub)
		for _, typ := range []string{v1.ConditionSiteReady, v1.ConditionReady} {
			if err := condition(cur, typ, metav1.ConditionFalse, v1.ReasonSiteObjectTaken); err != nil {
				return err
			}
		}
		msg := meta.FindStatusCondition(cur.Status.Conditions, v1.ConditionReady).Message
		for _, want := range []string{"Deployment " + dep.Name, "PersistentVolumeClaim " + claim.Name, siteNamespace, "delete or rename"} {
			if !strings.Contains(msg, want) {
				return fmt.Errorf("Ready's message %q does not name %q", msg, want)
			}
		}
		if cur.Status.Site.URL != "" {
			return fmt.Errorf("a site URL %q for a site that was not created", cur.Status.Site.URL)
		}
		return nil
	})
	// The tenant's objects stay the tenant's: no field of Landlord's, for a while.
	untouched := func() error {
		d := &appsv1.Deployment{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(dep), d); err != nil {
			return err
		}
		var names []string
		for _, c := range d.Spec.Template.Spec.Containers {
			names = append(names, c.Name)
		}
		if !slices.Equal(names, []string{"miner"}) || d.Labels[v1.ManagedByLabel] != "" || d.Spec.Template.Labels[v1.SubscriptionLabel] != "" {
			return fmt.Errorf("the tenant's Deployment was changed: containers %v, labels %v, pod labels %v", names, d.Labels, d.Spec.Template.Labels)
		}
		for _, o := range []client.Object{d, claim} {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return err
			}
			for _, f := range o.GetManagedFields() {
				if f.Manager == platform.FieldManager {
					return fmt.Errorf("%T %s has fields of Landlord's", o, o.GetName())
				}
			}
			if !o.GetDeletionTimestamp().IsZero() {
				return fmt.Errorf("%T %s is being deleted", o, o.GetName())
			}
		}
		for _, o := range []client.Object{
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: siteNamespace, Name: sub.Name}},
			&gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: siteNamespace, Name: sub.Name}},
		} {
			if err := absent(o); err != nil {
				return err
			}
		}
		return nil
	}
	must(t, untouched())
	testenv.Consistently(t, 3*time.Second, untouched)

	// The Deployment goes: the claim is still in the way, and kept.
	must(t, owner.Delete(ctx, dep))
	testenv.Eventually(t, wait, func() error {
		cur := get(t, sub)
		c := meta.FindStatusCondition(cur.Status.Conditions, v1.ConditionReady)
		if c == nil || c.Reason != v1.ReasonSiteObjectTaken || strings.Contains(c.Message, "Deployment") || !strings.Contains(c.Message, claim.Name) {
			return fmt.Errorf("Ready %+v, want SiteObjectTaken naming the claim only", c)
		}
		return absent(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: siteNamespace, Name: dep.Name}})
	})
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(claim), claim))

	// The claim goes too (kube-controller-manager releases its protection): the site is created.
	must(t, owner.Delete(ctx, claim))
	testenv.Eventually(t, wait, func() error {
		if err := checkSite(ctx, cfg, sub, siteState{replicas: 1}); err != nil {
			return err
		}
		return condition(get(t, sub), v1.ConditionSiteReady, metav1.ConditionFalse, v1.ReasonProgressing)
	})
}

// The site namespace's quota counts Deployments (the plan's, besides the
// site's own) and CustomDomains (limits.customDomains plus
// objects.customDomains): through the real quota admission, one more than
// the plan sells is refused.
func TestSiteQuotaCountsEveryKind(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	plan := newPlan(t, func(p *v1.PlanSpec) {
		p.Limits.CustomDomains = ptr.To[int32](1)
		p.Limits.Objects = &v1.ObjectLimits{Deployments: ptr.To[int32](1), CustomDomains: ptr.To[int32](0), CronJobs: ptr.To[int32](0)}
	})
	sub := newSubscription(t, ns, plan, newTemplate(t, "nginx:1.27"), nil)
	siteNamespace := siteNS(cfg, sub)
	testenv.Eventually(t, wait, func() error { return checkSite(ctx, cfg, sub, siteState{replicas: 1}) })
	owner := env.As("owner@example.com")

	// One Deployment of the tenant's besides the site's: admitted (once the
	// quota controller has counted the namespace).
	testenv.Eventually(t, wait, func() error {
		return owner.Create(ctx, squatterDeployment(siteNamespace, "worker", "worker"))
	})
	err := owner.Create(ctx, squatterDeployment(siteNamespace, "worker-2", "worker"))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota") || !strings.Contains(err.Error(), "count/deployments.apps") {
		t.Fatalf("a second Deployment of the tenant's: %v, want refused by the quota (count/deployments.apps)", err)
	}

	// One CustomDomain (limits.customDomains 1, none waiting): the second is refused.
	domain := func(name string) *v1.CustomDomain {
		return &v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: siteNamespace, Name: name},
			Spec: v1.CustomDomainSpec{Hostname: name + ".example.com"}}
	}
	testenv.Eventually(t, wait, func() error { return owner.Create(ctx, domain("shop")) })
	err = owner.Create(ctx, domain("blog"))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "count/customdomains.hosting.landlord.dev") {
		t.Fatalf("a second CustomDomain: %v, want refused by the quota (count/customdomains.hosting.landlord.dev)", err)
	}

	// CronJobs 0: none.
	cron := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: siteNamespace, Name: "nightly"}, Spec: batchv1.CronJobSpec{
		Schedule: "0 3 * * *",
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    squatterDeployment(siteNamespace, "x", "backup").Spec.Template.Spec.Containers,
		}}}},
	}}
	if err := owner.Create(ctx, cron); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "count/cronjobs.batch") {
		t.Fatalf("a CronJob under objects.cronJobs 0: %v, want refused by the quota (count/cronjobs.batch)", err)
	}
}

// Site a-b of account rtx-N and site a of account b-rtx-N shared the
// hostname a-b-rtx-N under the old scheme; their routes and URLs differ now.
func TestCollidingNamesGetDifferentHostnames(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	rtx := testenv.Name("rtx")
	plan := newPlan(t, nil)
	tmpl := newTemplate(t, "nginx:1.27")
	var subs []*v1.Subscription
	for _, pair := range [][2]string{{rtx, "a-b"}, {"b-" + rtx, "a"}} {
		account, site := pair[0], pair[1]
		must(t, env.Client.Create(ctx, &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: account}, Spec: v1.AccountSpec{
			Owner: v1.Subject{Kind: v1.SubjectUser, Name: "owner@example.com"}, DeletionProtection: ptr.To(false)}}))
		must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.AccountNamespace(account), Labels: platform.AccountLabels(account)}}))
		sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: cfg.AccountNamespace(account), Name: site}, Spec: v1.SubscriptionSpec{
			Plan: plan, Site: v1.SiteSpec{Template: tmpl}, PaidThrough: &metav1.Time{Time: t0.Add(30 * 24 * time.Hour)}}}
		must(t, env.Client.Create(ctx, sub))
		subs = append(subs, sub)
	}
	hosts := map[string]string{}
	for _, sub := range subs {
		testenv.Eventually(t, wait, func() error {
			route := &gatewayv1.HTTPRoute{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: siteNS(cfg, sub), Name: sub.Name}, route); err != nil {
				return err
			}
			if len(route.Spec.Hostnames) != 1 {
				return fmt.Errorf("route hostnames %v", route.Spec.Hostnames)
			}
			host := string(route.Spec.Hostnames[0])
			if url := get(t, sub).Status.Site.URL; url != "https://"+host {
				return fmt.Errorf("status.site.url %q, route %s", url, host)
			}
			hosts[sub.Namespace+"/"+sub.Name] = host
			return nil
		})
	}
	a, b := hosts[subs[0].Namespace+"/a-b"], hosts[subs[1].Namespace+"/a"]
	if a == b {
		t.Fatalf("both sites route %s", a)
	}
	if want := "a-b--" + rtx + "." + cfg.BaseDomain; a != want {
		t.Errorf("site a-b of %s: %s, want %s", rtx, a, want)
	}
	if want := "a--b-" + rtx + "." + cfg.BaseDomain; b != want {
		t.Errorf("site a of b-%s: %s, want %s", rtx, b, want)
	}
}
