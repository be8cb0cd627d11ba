package kernel_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/routing"
	"github.com/landlord-dev/landlord/internal/site"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// digestCases are the children the manager's cache keeps as digests
// (manager.CacheTransform), each as Landlord builds it. HTTPRoutes are not
// among them: their hostnames, parentRefs and rules are atomic lists, which
// Landlord's field manager owns whole, and the API server fills the CRD's
// defaults in (a backend's weight, a rule's path match), so the fields
// Landlord owns never read back as what it applied.
func digestCases(ns string) map[string]any {
	cfg := platform.Default()
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Name: "www", Namespace: "acct-a", UID: "u1"}}
	tmpl := &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: "t"}, Spec: v1.SiteTemplateSpec{
		Image: "nginx:1", Port: 8080, DataPath: "/data", Env: []v1.TemplateEnvVar{{Name: "MODE", Value: "prod"}}}}
	limits := v1.Limits{Storage: ptr.To(resource.MustParse("1Gi")), CPU: ptr.To(resource.MustParse("500m")), Memory: ptr.To(resource.MustParse("256Mi"))}
	st := site.Site{Config: cfg, Account: "a", Namespace: ns, Subscription: sub, Template: tmpl, Limits: limits, Serving: true}
	target := tenancy.Target{Namespace: ns, Labels: platform.AccountLabels("a")}
	acct := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "u2"}}
	return map[string]any{
		"Deployment":               site.Deployment(st),
		"Service":                  site.Service(st),
		"site ResourceQuota":       site.Quota(st),
		"ResourceQuota, no limits": site.NoComputeQuota(ns, "a", "www"),
		"account ResourceQuota":    tenancy.BuildAccountQuota(acct, cfg),
		"NetworkPolicy":            tenancy.BuildNetworkPolicyIn(target, cfg),
		"LimitRange":               tenancy.BuildLimitRange(target),
		"owner RoleBinding": tenancy.BuildOwnerBindingIn(&v1.Account{ObjectMeta: metav1.ObjectMeta{Name: "a"},
			Spec: v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "alice@example.com"}}}, target),
		"service account member RoleBinding": tenancy.BuildSiteMemberBinding(&v1.Membership{ObjectMeta: metav1.ObjectMeta{Name: "ci", Namespace: "acct-a"},
			Spec: v1.MembershipSpec{Role: v1.RoleDeveloper, Subject: v1.Subject{Kind: v1.SubjectServiceAccount, Name: "deployer", Namespace: "ci"}}}, target, false),
		"team RoleBinding": tenancy.BuildTeamSiteBinding(&v1.Team{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "acct-a"},
			Spec: v1.TeamSpec{Role: v1.TeamRoleDeveloper}}, target, false,
			[]v1.Subject{{Kind: v1.SubjectUser, Name: "bob@example.com"}, {Kind: v1.SubjectGroup, Name: "designers"}}),
		"ReferenceGrant": routing.SuspendedReferenceGrant(cfg, ns, platform.AccountLabels("a")),
	}
}

// Against the real API server: the digest of the fields Landlord owns in
// the object it applied is the digest of what it applied (so the cache's
// digest shows "unchanged" with no write), and a change by anyone else to
// a field Landlord set, or its removal, changes that digest.
func TestOwnedDigestIsTheDesiredDigest(t *testing.T) {
	ctx := context.Background()
	ns := testenv.Name("digest")
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	for name, desired := range digestCases(ns) {
		t.Run(name, func(t *testing.T) {
			want, err := kernel.ApplyForm(env.Scheme, desired)
			if err != nil {
				t.Fatal(err)
			}
			// A namespace per case: a quota case (0 Services) applied first
			// would refuse the Service case's create.
			caseNS := testenv.Name("digest")
			if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: caseNS}}); err != nil {
				t.Fatal(err)
			}
			want.SetNamespace(caseNS)
			want.SetOwnerReferences(nil) // no owner for the garbage collector to miss
			if _, err := kernel.Apply(ctx, env.Client, nil, want.DeepCopy()); err != nil {
				t.Fatal(err)
			}
			// ApplyForm again: the owner reference was part of the hash.
			want, err = kernel.ApplyForm(env.Scheme, want)
			if err != nil {
				t.Fatal(err)
			}
			wantDigest, err := kernel.DesiredDigest(want)
			if err != nil {
				t.Fatal(err)
			}
			live, err := env.Scheme.New(want.GroupVersionKind())
			if err != nil {
				t.Fatal(err)
			}
			obj := live.(client.Object)
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(want), obj); err != nil {
				t.Fatal(err)
			}
			got, ok := kernel.OwnedDigest(obj)
			if !ok || got != wantDigest {
				t.Fatalf("digest of the fields Landlord owns %q (found %v), want %q, the desired object's", got, ok, wantDigest)
			}

			// Somebody else removes a label Landlord set: the field leaves
			// Landlord's set, and the digest moves.
			editByHand(t, obj, func() {
				labels := obj.GetLabels()
				delete(labels, v1.ManagedByLabel)
				obj.SetLabels(labels)
			})
			if got, _ := kernel.OwnedDigest(obj); got == wantDigest {
				t.Fatal("a label Landlord set was removed by hand, and the digest did not change")
			}
			// Applying again restores it, and the digest with it.
			if _, err := kernel.Apply(ctx, env.Client, nil, want.DeepCopy()); err != nil {
				t.Fatal(err)
			}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(want), obj); err != nil {
				t.Fatal(err)
			}
			if got, _ := kernel.OwnedDigest(obj); got != wantDigest {
				t.Fatalf("after the apply: digest %q, want %q", got, wantDigest)
			}

			// Somebody else changes a value Landlord set.
			editByHand(t, obj, func() { obj.SetLabels(map[string]string{v1.ManagedByLabel: "someone-else"}) })
			if got, _ := kernel.OwnedDigest(obj); got == wantDigest {
				t.Fatal("a label Landlord set was changed by hand, and the digest did not change")
			}

			// And a field of the spec.
			if d, ok := obj.(*appsv1.Deployment); ok {
				if _, err := kernel.Apply(ctx, env.Client, nil, want.DeepCopy()); err != nil {
					t.Fatal(err)
				}
				editByHand(t, obj, func() { d.Spec.Template.Spec.Containers[0].Image = "evil:1" })
				if got, _ := kernel.OwnedDigest(obj); got == wantDigest {
					t.Fatal("the site's image was changed by hand, and the digest did not change")
				}
			}
		})
	}
}

// editByHand updates obj (read afresh, then changed by edit) as another
// field manager would, retrying while other controllers write it too
// (kube-controller-manager annotates Deployments), and leaves obj as the
// API server has it afterwards.
func editByHand(t *testing.T, obj client.Object, edit func()) {
	t.Helper()
	ctx := context.Background()
	key := client.ObjectKeyFromObject(obj)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, key, obj); err != nil {
			return err
		}
		edit()
		return env.Client.Update(ctx, obj, client.FieldOwner("kubectl-edit"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, key, obj); err != nil {
		t.Fatal(err)
	}
}
