package admission_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Landlord's finalizer is on each tenant object from its creation (no
// manager runs here: only the admission policy can have put it there), once,
// after finalizers of others; a paused object gets none.
func TestFinalizerIsSetAtCreation(t *testing.T) {
	ns := testenv.Name("fin")
	must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{v1.AccountLabel: ns}}}))
	// CustomDomains live in site namespaces (config/admission/placement.yaml).
	siteNS := ns + "--www"
	must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS, Labels: map[string]string{v1.AccountLabel: ns, v1.SubscriptionLabel: "www"}}}))
	member := v1.Subject{Kind: v1.SubjectUser, Name: "x@example.com"}
	objects := func(prefix string, finalizers []string, ann map[string]string) []client.Object {
		meta := func(namespace string) metav1.ObjectMeta {
			return metav1.ObjectMeta{Namespace: namespace, Name: testenv.Name(prefix), Finalizers: slices.Clone(finalizers), Annotations: ann}
		}
		return []client.Object{
			&v1.Account{ObjectMeta: meta(""), Spec: v1.AccountSpec{Owner: member}},
			&v1.Membership{ObjectMeta: meta(ns), Spec: v1.MembershipSpec{Subject: member, Role: v1.RoleViewer}},
			&v1.Team{ObjectMeta: meta(ns), Spec: v1.TeamSpec{Role: v1.TeamRoleViewer, Members: []v1.TeamMember{{Subject: member}}}},
			&v1.Subscription{ObjectMeta: meta(ns), Spec: v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}}},
			&v1.CustomDomain{ObjectMeta: meta(siteNS), Spec: v1.CustomDomainSpec{Hostname: testenv.Name(prefix) + ".example.com"}},
		}
	}
	finalizersOf := func(o client.Object) []string {
		t.Helper()
		got := o.DeepCopyObject().(client.Object)
		must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(o), got))
		return got.GetFinalizers()
	}
	// The policy may take a moment to be enforced after the environment starts.
	testenv.Eventually(t, 30*time.Second, func() error {
		probe := objects("probe", nil, nil)[0]
		if err := env.Client.Create(ctx, probe, client.DryRunAll); err != nil {
			return err
		}
		if !slices.Contains(probe.GetFinalizers(), v1.Finalizer) {
			return fmt.Errorf("the finalizer policy is not enforced yet")
		}
		return nil
	})

	for _, o := range objects("plain", nil, nil) {
		must(t, env.Client.Create(ctx, o))
		if got := finalizersOf(o); !slices.Equal(got, []string{v1.Finalizer}) {
			t.Errorf("%T %s: finalizers %v, want [%s]", o, o.GetName(), got, v1.Finalizer)
		}
	}
	other := "example.com/keep"
	for _, o := range objects("others", []string{other}, nil) {
		must(t, env.Client.Create(ctx, o))
		if got := finalizersOf(o); !slices.Equal(got, []string{other, v1.Finalizer}) {
			t.Errorf("%T %s with a finalizer of another: finalizers %v, want [%s %s]", o, o.GetName(), got, other, v1.Finalizer)
		}
		o.SetFinalizers(nil)
		must(t, env.Client.Update(ctx, o))
	}
	for _, o := range objects("twice", []string{v1.Finalizer}, nil) {
		must(t, env.Client.Create(ctx, o))
		if got := finalizersOf(o); !slices.Equal(got, []string{v1.Finalizer}) {
			t.Errorf("%T %s created with Landlord's finalizer: finalizers %v, want it once", o, o.GetName(), got)
		}
	}
	for _, o := range objects("paused", nil, map[string]string{v1.PausedAnnotation: "true"}) {
		must(t, env.Client.Create(ctx, o))
		if got := finalizersOf(o); len(got) != 0 {
			t.Errorf("%T %s created paused: finalizers %v, want none", o, o.GetName(), got)
		}
	}
}
