package bare

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// A paused subscription: Landlord says Paused and then writes nothing, to it
// or to its site, while its spec and its Deployment change around it; once
// the annotation goes, the drift is corrected.
func TestPausedSubscriptionGetsNoWrites(t *testing.T) {
	ctx := context.Background()
	acct := newAccount(t, "paused")
	sub := newSubscription(t, acct, "site")
	dep := &appsv1.Deployment{}
	depKey := client.ObjectKey{Namespace: cfg.SiteNamespace(acct.Name, sub.Name), Name: platform.SiteName(sub.Name)}
	testenv.Eventually(t, wait, func() error { return env.Client.Get(ctx, depKey, dep) })
	want := *dep.Spec.Replicas

	setAnnotation(t, sub, `"true"`)
	testenv.Eventually(t, wait, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(sub.Status.Conditions, v1.ConditionPaused) {
			return fmt.Errorf("not Paused yet: %+v", sub.Status.Conditions)
		}
		return nil
	})
	// A reconcile that read the subscription before the annotation may still
	// write once: take the status once it has settled.
	var status *v1.SubscriptionStatus
	testenv.Eventually(t, wait, func() error {
		before := sub.Status.DeepCopy()
		time.Sleep(2 * time.Second)
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
			return err
		}
		if !equality.Semantic.DeepEqual(*before, sub.Status) || !meta.IsStatusConditionTrue(sub.Status.Conditions, v1.ConditionPaused) {
			return fmt.Errorf("the status is still moving")
		}
		status = before
		return nil
	})

	// Drift of the site, and a spec change that would suspend it.
	if err := env.Client.Patch(ctx, dep, client.RawPatch(client.Merge.Type(), []byte(`{"spec":{"replicas":3}}`))); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Patch(ctx, sub, client.RawPatch(client.Merge.Type(), []byte(`{"spec":{"suspension":{"reason":"Manual"}}}`))); err != nil {
		t.Fatal(err)
	}
	testenv.Consistently(t, 5*time.Second, func() error {
		if err := env.Client.Get(ctx, depKey, dep); err != nil {
			return err
		}
		if *dep.Spec.Replicas != 3 {
			return fmt.Errorf("the paused site's Deployment was written: replicas %d", *dep.Spec.Replicas)
		}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
			return err
		}
		if !equality.Semantic.DeepEqual(*status, sub.Status) {
			return fmt.Errorf("the paused subscription's status was written: %+v", sub.Status)
		}
		return nil
	})

	setAnnotation(t, sub, "null")
	testenv.Eventually(t, wait, func() error {
		if err := env.Client.Get(ctx, depKey, dep); err != nil {
			return err
		}
		if *dep.Spec.Replicas != 0 {
			return fmt.Errorf("after unpausing, replicas %d, want 0 (suspended)", *dep.Spec.Replicas)
		}
		return nil
	})
	if want == 0 {
		t.Fatalf("the site never ran (replicas %d); the test shows nothing", want)
	}
}

func setAnnotation(t *testing.T, sub *v1.Subscription, value string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, v1.PausedAnnotation, value)
	if err := env.Client.Patch(context.Background(), sub, client.RawPatch(client.Merge.Type(), []byte(patch))); err != nil {
		t.Fatal(err)
	}
}
