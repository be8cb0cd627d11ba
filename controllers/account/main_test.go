package account_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	cfg = func() platform.Config {
		c := platform.Default()
		c.IngressNamespace = "test-gateway"
		c.AccountMaxTeams = 2 // TestAccountQuotaCountsEveryKind
		return c
	}()
	ctx = context.Background()
)

const timeout = 30 * time.Second

func TestMain(m *testing.M) {
	testenv.Main(m, &env, testenv.Options{Manager: &cfg, Controllers: []string{manager.AccountController, manager.MembershipController}})
}

// ownerOf is the user name of the owner of the named test account.
func ownerOf(account string) string { return "owner@" + account + ".example" }

// newAccount creates an Account owned by ownerOf(name) and removes it at the
// end of the test (deletion protection lifted first).
func newAccount(t *testing.T, prefix string, mut ...func(*v1.Account)) *v1.Account {
	t.Helper()
	a := &v1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Name(prefix)},
		Spec:       v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: ""}},
	}
	a.Spec.Owner.Name = ownerOf(a.Name)
	for _, f := range mut {
		f(a)
	}
	if err := env.Client.Create(ctx, a); err != nil {
		t.Fatalf("creating account: %v", err)
	}
	t.Cleanup(func() { deleteAccount(t, a.Name, false) })
	return a
}

// deleteAccount lifts the deletion protection and deletes the account; with
// wait, it waits until the account is gone.
func deleteAccount(t *testing.T, name string, wait bool) {
	t.Helper()
	a := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Patch(ctx, a, client.RawPatch(client.Merge.Type(), []byte(`{"spec":{"deletionProtection":false}}`))); err != nil {
		if apierrors.IsNotFound(err) {
			return
		}
		t.Fatalf("lifting deletion protection of %s: %v", name, err)
	}
	if err := env.Client.Delete(ctx, a); client.IgnoreNotFound(err) != nil {
		t.Fatalf("deleting account %s: %v", name, err)
	}
	if wait {
		testenv.Eventually(t, 2*time.Minute, func() error {
			err := env.Client.Get(ctx, client.ObjectKeyFromObject(a), &v1.Account{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("account %s still exists (%v)", name, err)
		})
	}
}

// waitReady waits until the account is Ready with its status observed for
// its current generation, and returns it.
func waitReady(t *testing.T, name string) *v1.Account {
	t.Helper()
	a := &v1.Account{}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, a); err != nil {
			return err
		}
		c := meta.FindStatusCondition(a.Status.Conditions, v1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || a.Status.ObservedGeneration != a.Generation {
			return fmt.Errorf("account %s not ready: %+v", name, a.Status)
		}
		return nil
	})
	return a
}

// newMembership creates a Membership (as the provider) and waits until it
// is Ready, that is bound.
func newMembership(t *testing.T, ns, user string, role v1.MembershipRole) *v1.Membership {
	t.Helper()
	m := &v1.Membership{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("m")},
		Spec:       v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: user}, Role: role},
	}
	if err := env.Client.Create(ctx, m); err != nil {
		t.Fatalf("creating membership: %v", err)
	}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(m), m); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(m.Status.Conditions, v1.ConditionReady) {
			return fmt.Errorf("membership not ready: %+v", m.Status)
		}
		return nil
	})
	return m
}

// configMap is a small object a writer can create.
func configMap(ns string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("cm")}, Data: map[string]string{"k": "v"}}
}

// restrictedPod is a pod that satisfies Pod Security "restricted".
func restrictedPod(ns string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("pod")},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{Name: "app", Image: "nginx",
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
		},
	}
}

func expectForbidden(t *testing.T, what string, err error) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Errorf("%s: want Forbidden, got %v", what, err)
	}
}
