package kernel_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/testenv"
)

func account(t *testing.T) *v1.Account {
	t.Helper()
	a := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("patch")}, Spec: v1.AccountSpec{
		DisplayName: "Patch", Owner: v1.Subject{Kind: v1.SubjectUser, Name: "o@example.com"}, DeletionProtection: ptr.To(false)}}
	if err := env.Client.Create(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// A failed reconcile leaves Ready=False with its reason and a message; a
// conflict is not reported (it only means the object moved on).
func TestPatchReportsFailures(t *testing.T) {
	ctx := context.Background()
	long := errors.New(strings.Repeat("é", 600))
	for _, tc := range []struct {
		name       string
		err        error
		wantReason string
		wantMsg    string
	}{
		{"plain error", fmt.Errorf("applying Service a/b: %w", errors.New("boom")), v1.ReasonReconcileError, "applying Service a/b: boom"},
		{"error with a reason", kernel.Fail(v1.ReasonLookupFailed, errors.New("dns down")), v1.ReasonLookupFailed, "dns down"},
		{"long message is shortened", long, v1.ReasonReconcileError, "..."},
		{"conflict is not reported", apierrors.NewConflict(schema.GroupResource{Resource: "accounts"}, "x", errors.New("moved")), "", ""},
	} {
		a := account(t)
		p := kernel.NewPatcher(env.Client, a)
		if _, err := p.Patch(ctx, a, tc.err); err != nil {
			t.Fatal(err)
		}
		got := &v1.Account{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(a), got); err != nil {
			t.Fatal(err)
		}
		c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
		if tc.wantReason == "" {
			if c != nil {
				t.Errorf("%s: Ready = %+v, want none", tc.name, c)
			}
			continue
		}
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != tc.wantReason || !strings.Contains(c.Message, tc.wantMsg) || len(c.Message) > 512 {
			t.Errorf("%s: Ready = %+v", tc.name, c)
		}
		if got.Status.ObservedGeneration != got.Generation {
			t.Errorf("%s: observedGeneration %d, generation %d", tc.name, got.Status.ObservedGeneration, got.Generation)
		}
	}
}

// A paused object gets the Paused condition once, then no write at all.
func TestPatchOfAPausedObject(t *testing.T) {
	ctx := context.Background()
	a := account(t)
	a.Annotations = map[string]string{v1.PausedAnnotation: "true"}
	if err := env.Client.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		p := kernel.NewPatcher(env.Client, a)
		a.Status.Members = 7 // what a reconcile computed: dropped while paused
		wrote, err := p.Patch(ctx, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		if wrote != want {
			t.Errorf("patch %d of a paused object: wrote %v, want %v", i, wrote, want)
		}
		if a.Status.Members != 0 || !meta.IsStatusConditionTrue(a.Status.Conditions, v1.ConditionPaused) {
			t.Errorf("patch %d: status %+v", i, a.Status)
		}
	}
}

// Finalizers are patched with an optimistic lock: a finalizer someone else
// added after Landlord read the object survives (the patch is refused and
// retried on the newer object instead).
func TestFinalizerKeepsAnotherControllersFinalizer(t *testing.T) {
	ctx := context.Background()
	a := account(t)
	// The finalizer policy put Landlord's finalizer on at creation: take it
	// off, as an object from before the policy (or a hand edit) has none.
	a.Finalizers = nil
	if err := env.Client.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	stale := a.DeepCopy()
	other := a.DeepCopy()
	other.Finalizers = append(other.Finalizers, "example.com/other")
	if err := env.Client.Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := kernel.EnsureFinalizer(ctx, env.Client, stale); !apierrors.IsConflict(err) {
		t.Fatalf("EnsureFinalizer on a stale object: %v, want a conflict", err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(a), a); err != nil {
		t.Fatal(err)
	}
	if err := kernel.EnsureFinalizer(ctx, env.Client, a); err != nil {
		t.Fatal(err)
	}
	got := &v1.Account{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(a), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Finalizers) != 2 {
		t.Errorf("finalizers %v, want example.com/other and Landlord's", got.Finalizers)
	}
	got.Finalizers = nil
	if err := env.Client.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
}
