package account_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// The account namespace's quota counts what a tenant can create there,
// through the real quota admission: no Deployment at all (not even one at
// zero replicas, which costs no compute), and Teams up to
// --account-max-teams (2 in these tests).
func TestAccountQuotaCountsEveryKind(t *testing.T) {
	a := newAccount(t, "counts")
	waitReady(t, a.Name)
	ns := cfg.AccountNamespace(a.Name)
	owner := env.As(ownerOf(a.Name))

	labels := map[string]string{"app": "idle"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "idle"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](0),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: restrictedPod(ns).Spec},
	}}
	team := func(name string) *v1.Team {
		return &v1.Team{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1.TeamSpec{Role: v1.TeamRoleViewer}}
	}
	// Two Teams, once the quota controller has counted the namespace.
	testenv.Eventually(t, timeout, func() error { return owner.Create(ctx, team("one")) })
	if err := owner.Create(ctx, team("two")); err != nil {
		t.Fatalf("the second Team: %v", err)
	}
	for _, c := range []struct {
		what     string
		create   func() error
		resource string
	}{
		{"a Deployment at zero replicas", func() error { return owner.Create(ctx, dep) }, "count/deployments.apps"},
		{"a third Team", func() error { return owner.Create(ctx, team("three")) }, "count/teams.hosting.landlord.dev"},
	} {
		err := c.create()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota") || !strings.Contains(err.Error(), c.resource) {
			t.Errorf("%s in the account namespace: %v, want refused by the quota (%s)", c.what, err, c.resource)
		}
	}
}
