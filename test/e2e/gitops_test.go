package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/landlord-dev/landlord/internal/testenv"
	"github.com/landlord-dev/landlord/test/argocd"
)

const gitops = "gitops"

// samples returns every object of config/samples, in file order.
func samples(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(env.Root, "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		o, err := testenv.ReadObjects(f)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	return objs
}

// A GitOps tool applies the whole repository at once, in whatever order, and
// retries what the API server refused (here: namespaced objects before
// Landlord has created their account's or site's namespace). Everything converges,
// Landlord never writes a field of a spec, and Argo CD's health check reads
// each object as a person would.
func TestSamplesConvergeInAnyOrder(t *testing.T) {
	ctx := context.Background()
	objs := samples(t)
	slices.Reverse(objs) // memberships and subscriptions before their accounts, templates before plans

	pending := objs
	testenv.Eventually(t, 2*time.Minute, func() error {
		var refused []*unstructured.Unstructured
		var last error
		for _, o := range pending {
			if err := env.Client.Patch(ctx, o.DeepCopy(), client.Apply, client.FieldOwner(gitops), client.ForceOwnership); err != nil {
				refused, last = append(refused, o), err
			}
		}
		pending = refused
		if len(pending) > 0 {
			return fmt.Errorf("%d objects not yet accepted, e.g. %v", len(pending), last)
		}
		return nil
	})

	want := []struct{ kind, ns, name, phase, health string }{
		{"Account", "", "acme", "Active", "Healthy"},
		{"Account", "", "globex", "Active", "Healthy"},
		{"Membership", "acct-acme", "bob-admin", "Active", "Healthy"},
		{"Membership", "acct-globex", "deploy-bot", "Active", "Healthy"},
		{"Subscription", "acct-acme", "www", "Active", "Healthy"},
		{"Subscription", "acct-acme", "docs", "Trialing", "Healthy"},
		{"Subscription", "acct-globex", "shop", "Suspended", "Suspended"},
		{"CustomDomain", "acct-acme--www", "www-acme", "Active", "Healthy"},
	}
	for _, w := range want {
		t.Run(w.kind+"/"+w.name, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("hosting.landlord.dev/v1alpha1")
			u.SetKind(w.kind)
			testenv.Eventually(t, 2*time.Minute, func() error {
				if err := env.Client.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: w.name}, u); err != nil {
					return err
				}
				phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
				status, message, err := argocd.Health(u.Object)
				if err != nil {
					return err
				}
				if phase != w.phase || status != w.health {
					recheckDNS()
					return fmt.Errorf("phase %q health %s (%s), want %s and %s", phase, status, message, w.phase, w.health)
				}
				return nil
			})
		})
	}

	// Landlord writes status (and its finalizer), never a spec: the
	// generation of every sample is still 1, and no field manager but the
	// GitOps tool owns anything under spec.
	for _, o := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
			t.Fatal(err)
		}
		if live.GetGeneration() != 1 {
			t.Errorf("%s %s has generation %d: its spec was changed after it was applied", o.GetKind(), o.GetName(), live.GetGeneration())
		}
		for _, mf := range live.GetManagedFields() {
			if mf.Manager != gitops && mf.FieldsV1 != nil && strings.Contains(string(mf.FieldsV1.Raw), `"f:spec"`) {
				t.Errorf("%s %s: manager %q owns spec fields", o.GetKind(), o.GetName(), mf.Manager)
			}
		}
	}
}
