package v1alpha1_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// A Subscription is protected from deletion by default; the refusal says
// how to confirm, and the confirmation (deletionProtection=false) lets the
// delete through.
func TestProtectedSubscriptionCannotBeDeleted(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	sub := validSubscription(ns, "www")
	if err := env.Client.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if sub.Spec.DeletionProtection == nil || !*sub.Spec.DeletionProtection {
		t.Fatalf("deletionProtection defaults to %v, want true", sub.Spec.DeletionProtection)
	}
	// The policy may take a moment to be enforced after the environment starts.
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Delete(ctx, sub, client.DryRunAll); err == nil {
			return fmt.Errorf("deleting a protected subscription was accepted")
		}
		return nil
	})
	err := env.Client.Delete(ctx, sub)
	expectInvalid(t, err, "subscription www has spec.deletionProtection: true; deleting it removes the site at once and deletes its data")
	confirm := `kubectl patch subscription www -n ` + ns + ` --type=merge -p {"spec":{"deletionProtection":false}}`
	if !strings.Contains(err.Error(), confirm) {
		t.Fatalf("the message does not say how to confirm (%s): %v", confirm, err)
	}

	if err := env.Client.Patch(ctx, sub, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"deletionProtection":false}}`))); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, sub); err != nil {
		t.Fatalf("confirmed delete refused: %v", err)
	}
}

// Deleting the namespace (what a confirmed Account deletion does) deletes
// its protected Subscriptions: the namespace does not hang in Terminating.
func TestProtectedSubscriptionGoesWithItsNamespace(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	sub := validSubscription(ns, "www")
	if err := env.Client.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	// The finalizer policy put Landlord's finalizer on; no manager runs here
	// to release it, and this test is of the deletion protection alone.
	sub.Finalizers = nil
	if err := env.Client.Update(ctx, sub); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Delete(ctx, sub, client.DryRunAll); err == nil {
			return fmt.Errorf("the deletion protection policy is not enforced yet")
		}
		return nil
	})
	if err := env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("namespace %s still there (%v)", ns, err)
	})
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sub), &v1.Subscription{}); !apierrors.IsNotFound(err) {
		t.Fatalf("subscription outlived its namespace: %v", err)
	}
}
