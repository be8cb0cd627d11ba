package main

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/site"
	"github.com/landlord-dev/landlord/internal/tenancy"
)

// tenant is one benchmark customer: an Account, one Membership, one
// Subscription and one CustomDomain (what a portal writes for a sign-up).
type tenant struct {
	account      *v1.Account
	membership   *v1.Membership
	subscription *v1.Subscription
	domain       *v1.CustomDomain
}

const (
	siteName   = "site"
	domainName = "www"
	memberName = "dev"
)

// paidThrough is far ahead: every tenant is Active until the burst.
var paidThrough = metav1.NewTime(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))

func newTenant(cfg platform.Config, prefix string, i int) *tenant {
	name := fmt.Sprintf("%s%05d", prefix, i)
	ns := cfg.AccountNamespace(name)
	return &tenant{
		account: &v1.Account{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1.AccountSpec{
				DisplayName: "Tenant " + name,
				Owner:       v1.Subject{Kind: v1.SubjectUser, Name: name + "-owner@example.com"},
			},
		},
		membership: &v1.Membership{
			ObjectMeta: metav1.ObjectMeta{Name: memberName, Namespace: ns},
			Spec:       v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: name + "-dev@example.com"}, Role: v1.RoleDeveloper},
		},
		subscription: &v1.Subscription{
			ObjectMeta: metav1.ObjectMeta{Name: siteName, Namespace: ns},
			Spec: v1.SubscriptionSpec{
				Plan:        planName,
				Site:        v1.SiteSpec{Template: templateName},
				PaidThrough: paidThrough.DeepCopy(),
			},
		},
		domain: &v1.CustomDomain{
			ObjectMeta: metav1.ObjectMeta{Name: domainName, Namespace: cfg.SiteNamespace(name, siteName)},
			Spec: v1.CustomDomainSpec{
				Hostname: "www." + name + ".example.com",
				Primary:  true,
			},
		},
	}
}

func (t *tenant) host() string { return t.domain.Spec.Hostname }

// write is one API write of the baseline.
type write struct {
	what string
	do   func(ctx context.Context, c client.Client) error
	// obj is what is applied (the builder's output), nil for a create.
	obj any
}

// children are the objects Landlord creates for a converged tenant, built
// by Landlord's own pure builders, in the order a single writer can create
// them (the quota before the claim, the claim before the pod). The
// tenant's own objects must exist (their UIDs are in the owner references).
func children(cfg platform.Config, t *tenant, plan *v1.Plan, tmpl *v1.SiteTemplate) ([]write, error) {
	acct := t.account
	limits, err := site.EffectiveLimits(plan, nil)
	if err != nil {
		return nil, err
	}
	siteNS := cfg.SiteNamespace(acct.Name, t.subscription.Name)
	st := site.Site{Config: cfg, Account: acct.Name, Namespace: siteNS, Subscription: t.subscription, Template: tmpl, Limits: limits, Serving: true}
	siteTarget := tenancy.SiteTarget(acct.Name, t.subscription.Name, cfg)
	host := t.host()
	ac := func(what string, obj runtime.ApplyConfiguration) write {
		return write{what, func(ctx context.Context, c client.Client) error {
			return c.Apply(ctx, obj, client.FieldOwner(platform.FieldManager), client.ForceOwnership)
		}, obj}
	}
	typed := func(what string, obj client.Object) write {
		return write{what, func(ctx context.Context, c client.Client) error {
			u, err := applyForm(obj)
			if err != nil {
				return err
			}
			return c.Patch(ctx, u, client.Apply, client.FieldOwner(platform.FieldManager), client.ForceOwnership)
		}, obj}
	}
	return []write{
		// The two namespaces first: the tenant's own objects go into them.
		ac("Namespace", tenancy.BuildNamespace(acct, cfg)),
		ac("Namespace (site)", tenancy.BuildSiteNamespace(acct, t.subscription, cfg)),
		ac("NetworkPolicy", tenancy.BuildNetworkPolicy(acct, cfg)),
		ac("ResourceQuota", tenancy.BuildAccountQuota(acct, cfg)),
		ac("RoleBinding (owner)", tenancy.BuildOwnerBinding(acct, cfg)),
		ac("RoleBinding (member)", tenancy.BuildMemberBinding(t.membership, acct.Name, false)),
		ac("NetworkPolicy (site)", tenancy.BuildNetworkPolicyIn(siteTarget, cfg)),
		ac("LimitRange (site)", tenancy.BuildLimitRange(siteTarget)),
		typed("ResourceQuota (site)", site.Quota(st)),
		ac("RoleBinding (site owner)", tenancy.BuildOwnerBindingIn(acct, siteTarget)),
		ac("RoleBinding (site member)", tenancy.BuildSiteMemberBinding(t.membership, siteTarget, false)),
		typed("ReferenceGrant", site.SuspendedPlumbing(cfg, siteNS, acct.Name, t.subscription.Name)),
		typed("PersistentVolumeClaim", site.Volume(st, nil)),
		typed("Deployment", site.Deployment(st)),
		typed("Service", site.Service(st)),
		typed("HTTPRoute (site)", site.Route(st)),
		{"DomainClaim", func(ctx context.Context, c client.Client) error {
			return c.Create(ctx, customdomain.BuildClaim(host, acct, t.domain))
		}, nil},
		// The plan gate's slot the domain holds, and the site's ListenerSet
		// with the domain's HTTP listener (Gateway API routing), applied by
		// the domain's own field manager (customdomain.listenerFieldManager).
		{"Lease (custom-domain slot)", func(ctx context.Context, c client.Client) error {
			return c.Create(ctx, customdomain.BuildSlot(t.domain, acct.Name, t.subscription.Name, 0))
		}, nil},
		{"ListenerSet", func(ctx context.Context, c client.Client) error {
			u, err := applyForm(customdomain.BuildListenerSet(cfg, siteNS, acct.Name, t.subscription.Name, customdomain.BuildListeners(t.domain, host, false)))
			if err != nil {
				return err
			}
			return c.Patch(ctx, u, client.Apply, client.FieldOwner(platform.FieldManager+"-domain-"+string(t.domain.UID)), client.ForceOwnership)
		}, nil},
		typed("HTTPRoute (domain)", customdomain.BuildRoute(cfg, t.domain, customdomain.RouteInput{Host: host, Account: acct.Name, Subscription: t.subscription.Name, Listeners: true})),
	}, nil
}

// statusWrites is one status write per tenant object: the status a
// converged tenant reports.
const statusWrites = 4

// finalizerWrites: Account, Membership, Subscription and CustomDomain carry
// Landlord's finalizer, which the finalizer admission policy
// (config/admission/finalizers.yaml, installed here as in a cluster of 1.36 or
// newer) puts on in their create: no write of its own. Without the policy it
// is 4, one patch each.
const finalizerWrites = 0

// minimalWrites is the least a controller must write per tenant: each child
// once, each status once, each finalizer once.
func minimalWrites(cfg platform.Config) (int, []string, error) {
	t := newTenant(cfg, "x", 0)
	w, err := children(cfg, t, benchPlan(), benchTemplate())
	if err != nil {
		return 0, nil, err
	}
	var kinds []string
	for _, c := range w {
		kinds = append(kinds, c.what)
	}
	return len(w) + statusWrites + finalizerWrites, kinds, nil
}

// convergedStatuses sets the status each tenant object has once converged.
func convergedStatuses(cfg platform.Config, t *tenant, plan *v1.Plan, now time.Time) {
	cond := func(typ string, ok bool, reason, msg string, gen int64) metav1.Condition {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen, LastTransitionTime: metav1.NewTime(now)}
	}
	a := t.account
	a.Status = convergedAccountStatus(cfg, a, v1.SubscriptionCounts{Active: 1}, 1, now)
	m := t.membership
	m.Status = v1.MembershipStatus{Phase: v1.MembershipActive, ObservedGeneration: m.Generation, Conditions: []metav1.Condition{
		cond(v1.ConditionReady, true, v1.ReasonReconciled, "User "+m.Spec.Subject.Name+" has the role Developer (ClusterRole landlord-tenant-developer) in the account namespace and every site namespace of the account", m.Generation),
	}}
	s := t.subscription
	limits, _ := site.EffectiveLimits(plan, nil)
	renewal := metav1.NewTime(paidThrough.Add(-336 * time.Hour))
	suspend := metav1.NewTime(paidThrough.Add(time.Hour))
	terminate := metav1.NewTime(suspend.Add(720 * time.Hour))
	g := s.Generation
	s.Status = v1.SubscriptionStatus{
		Phase: v1.PhaseActive, PhaseSince: ptrTo(metav1.NewTime(now)), RenewalDueAt: &renewal, SuspendAt: &suspend, TerminateAt: &terminate,
		EffectiveLimits: limits, Site: v1.SiteStatus{Namespace: cfg.SiteNamespace(a.Name, s.Name), URL: site.URL(cfg, s.Name, a.Name), Template: templateName, Ready: true},
		Usage: v1.Usage{CustomDomains: 1}, ObservedGeneration: g,
		Conditions: []metav1.Condition{
			cond(v1.ConditionSuspended, false, v1.ReasonNotSuspended, "", g),
			cond(v1.ConditionRenewalDue, false, v1.ReasonNotDue, "", g),
			cond(v1.ConditionOverQuota, false, v1.ReasonWithinLimits, "", g),
			cond(v1.ConditionLimitsApplied, true, v1.ReasonReconciled, "", g),
			cond(v1.ConditionSiteReady, true, v1.ReasonReconciled, "", g),
			cond(v1.ConditionRouted, true, v1.ReasonReconciled, "", g),
			cond(v1.ConditionReady, true, v1.ReasonReconciled, "", g),
		},
	}
	d := t.domain
	host := t.host()
	token := customdomain.Token(string(a.UID), host)
	at := metav1.NewTime(now.Truncate(time.Second))
	g = d.Generation
	// Ready repeats Routed's message (customdomain's readyCondition).
	routed := host + " is routed to the site " + siteName + " (the suspended page while the site is suspended)"
	d.Status = v1.CustomDomainStatus{
		Hostname: host, Phase: v1.DomainActive,
		Verification: v1.Verification{RecordName: customdomain.RecordName(host), RecordType: "TXT", Value: token, VerifiedAt: &at, LastCheckedAt: &at},
		Instructions: customdomain.Instructions(cfg, host, token), ObservedGeneration: g,
		Conditions: []metav1.Condition{
			cond(v1.ConditionClaimed, true, v1.ReasonReconciled, "this domain holds the claim on "+host, g),
			cond(v1.ConditionVerified, true, v1.ReasonReconciled, "the TXT record "+customdomain.RecordName(host)+" holds this account's token", g),
			cond(v1.ConditionRouted, true, v1.ReasonReconciled, routed, g),
			cond(v1.ConditionCertificateReady, false, v1.ReasonCertManagerMissing, "TLS is not available: the cert-manager API (cert-manager.io/v1 Certificate) is not installed in the cluster", g),
			cond(v1.ConditionReady, true, v1.ReasonReconciled, routed, g),
		},
	}
}

// convergedAccountStatus is the status of a provisioned Account with the
// given counts (controllers/account/status.go).
func convergedAccountStatus(cfg platform.Config, a *v1.Account, subs v1.SubscriptionCounts, members int32, now time.Time) v1.AccountStatus {
	cond := func(typ string, ok bool, reason, msg string) metav1.Condition {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: a.Generation, LastTransitionTime: metav1.NewTime(now)}
	}
	return v1.AccountStatus{
		Namespace: cfg.AccountNamespace(a.Name), Phase: v1.AccountActive,
		Subscriptions: subs, Members: members, ObservedGeneration: a.Generation,
		Conditions: []metav1.Condition{
			cond(v1.ConditionNamespaceReady, true, v1.ReasonReconciled, "namespace "+cfg.AccountNamespace(a.Name)+" with its NetworkPolicy, ResourceQuota and Pod Security labels is in place"),
			cond(v1.ConditionSuspended, false, v1.ReasonNotSuspended, "the account is not suspended"),
			cond(v1.ConditionReady, true, v1.ReasonReconciled, "the namespace, its guard rails and the owner's access are in place"),
		},
	}
}

// applyForm is obj as a server-side apply patch: no status, no null
// creation timestamps (as Landlord applies it).
func applyForm(obj client.Object) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(m, "spec", "template", "metadata", "creationTimestamp")
	return &unstructured.Unstructured{Object: m}, nil
}
