package membership_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	cfg = platform.Default()
	ctx = context.Background()
)

const timeout = 30 * time.Second

func TestMain(m *testing.M) {
	testenv.Main(m, &env, testenv.Options{Manager: &cfg,
		Controllers: []string{manager.AccountController, manager.MembershipController, manager.SubscriptionController}})
}

// newAccount creates an account owned by the user "owner@<name>.example",
// waits for its namespace and returns the namespace's name.
func newAccount(t *testing.T, prefix string) (account, namespace string) {
	t.Helper()
	a := &v1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Name(prefix)},
		Spec:       v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "placeholder"}},
	}
	a.Spec.Owner.Name = "owner@" + a.Name + ".example"
	if err := env.Client.Create(ctx, a); err != nil {
		t.Fatalf("creating account: %v", err)
	}
	t.Cleanup(func() {
		_ = env.Client.Patch(ctx, a, client.RawPatch(client.Merge.Type(), []byte(`{"spec":{"deletionProtection":false}}`)))
		_ = env.Client.Delete(ctx, a)
	})
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(a), a); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(a.Status.Conditions, v1.ConditionReady) {
			return fmt.Errorf("account not ready: %+v", a.Status)
		}
		return nil
	})
	return a.Name, a.Status.Namespace
}

func membership(ns, user string, role v1.MembershipRole) *v1.Membership {
	return &v1.Membership{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("m")},
		Spec:       v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: user}, Role: role},
	}
}

// create creates m as the provider.
func create(t *testing.T, m *v1.Membership) *v1.Membership {
	t.Helper()
	if err := env.Client.Create(ctx, m); err != nil {
		t.Fatalf("creating membership %s: %v", m.Name, err)
	}
	return m
}

// waitCondition waits until m's Ready condition has status and reason, and
// returns m as it then is.
func waitCondition(t *testing.T, m *v1.Membership, status metav1.ConditionStatus, reason string) *v1.Membership {
	t.Helper()
	got := &v1.Membership{}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(m), got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != got.Generation {
			return fmt.Errorf("membership %s: Ready=%+v, want %s/%s", m.Name, c, status, reason)
		}
		return nil
	})
	return got
}

// binding returns m's RoleBinding, or nil if there is none.
func binding(t *testing.T, m *v1.Membership) *rbacv1.RoleBinding {
	t.Helper()
	rb := &rbacv1.RoleBinding{}
	err := env.Client.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: platform.MembershipBindingName(m.Name)}, rb)
	if err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil
		}
		t.Fatal(err)
	}
	return rb
}
