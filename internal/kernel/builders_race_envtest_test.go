package kernel_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Builders hand out values that share nothing mutable: controller-runtime's
// client.Apply decodes the API server's answer into the apply configuration
// it was given, so the account quotas of many accounts, built and applied at
// the same instant against the real API server (as test/bench does), must
// not share a map. Under the race detector (go test -race ./internal/kernel/
// -run TestBuildersApplyConcurrently) a shared map is reported; without it,
// it can end the process with "concurrent map iteration and map write".
func TestBuildersApplyConcurrently(t *testing.T) {
	ctx := context.Background()
	cfg := platform.Default()
	cfg.NamespacePrefix = "race-"
	const accounts = 16 // the manager's default workers and more
	accts := make([]*v1.Account, accounts)
	for i := range accts {
		name := testenv.Name("a")
		accts[i] = &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(fmt.Sprintf("uid-%s", name))}}
		if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.AccountNamespace(name)}}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 2*accounts)
	for _, acct := range accts {
		wg.Go(func() {
			<-start
			// No owner: the Account is not stored, the garbage collector would
			// take them.
			quota := tenancy.BuildAccountQuota(acct, cfg)
			quota.OwnerReferences = nil
			np := tenancy.BuildNetworkPolicy(acct, cfg)
			np.OwnerReferences = nil
			errs <- env.Client.Apply(ctx, quota, client.FieldOwner(platform.FieldManager), client.ForceOwnership)
			errs <- env.Client.Apply(ctx, np, client.FieldOwner(platform.FieldManager), client.ForceOwnership)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// Each account's quota is its own, as built.
	for _, acct := range accts {
		rq := &corev1.ResourceQuota{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: cfg.AccountNamespace(acct.Name), Name: platform.QuotaName}, rq); err != nil {
			t.Fatal(err)
		}
		if rq.Labels[v1.AccountLabel] != acct.Name || len(rq.Spec.Hard) != len(tenancy.AccountQuota(cfg)) {
			t.Errorf("%s: quota labels %v, %d resources", acct.Name, rq.Labels, len(rq.Spec.Hard))
		}
	}
}
