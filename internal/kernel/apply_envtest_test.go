package kernel_test

import (
	"context"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Against the real API server: each field Landlord stops setting is removed
// from the live object, and applying the same desired object again sends no
// write at all.
func TestApplyRemovesDroppedFieldsFromLiveObjects(t *testing.T) {
	ctx := context.Background()
	var writes atomic.Int32
	base, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	// The real client, counting the writes it sends.
	c := interceptor.NewClient(base, interceptor.Funcs{
		Patch: func(ctx context.Context, cl client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			writes.Add(1)
			return cl.Patch(ctx, obj, patch, opts...)
		},
	})
	for _, tc := range droppedFieldCases() {
		ns := testenv.Name("apply")
		if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
		before, now := tc.before.DeepCopyObject().(client.Object), tc.now.DeepCopyObject().(client.Object)
		before.SetNamespace(ns)
		now.SetNamespace(ns)
		// No owner: the garbage collector would take a child of an owner
		// that does not exist.
		before.SetOwnerReferences(nil)
		now.SetOwnerReferences(nil)

		if _, err := kernel.Apply(ctx, c, nil, before); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		live := tc.before.DeepCopyObject().(client.Object)
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(before), live); err != nil {
			t.Fatal(err)
		}
		if tc.gone(live) {
			t.Fatalf("%s: the field was never set; the case tests nothing", tc.name)
		}
		writes.Store(0)
		if _, err := kernel.Apply(ctx, c, nil, before); err != nil {
			t.Fatal(err)
		}
		if n := writes.Load(); n != 0 {
			t.Errorf("%s: applying the unchanged object again sent %d writes, want 0", tc.name, n)
		}
		if _, err := kernel.Apply(ctx, c, nil, now); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(now), live); err != nil {
			t.Fatal(err)
		}
		if !tc.gone(live) {
			t.Errorf("%s: the field Landlord stopped setting is still on the live object", tc.name)
		}
	}
}
