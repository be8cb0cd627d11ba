package subscription_test

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// A restart request on the Subscription (the site objects are Landlord's, so
// nobody restarts the site by deleting its pods) rolls the site: the pod
// template carries the request, the Deployment controller makes a new
// ReplicaSet whose pod runs, and the old ReplicaSet is scaled to zero. A
// second request rolls it again.
func TestRestartRequestRollsTheSite(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	sub := newSubscription(t, ns, newPlan(t, nil), newTemplate(t, "nginx:1.27"), nil)
	site := siteNS(cfg, sub)
	bindVolume(t, site, platform.SiteVolumeName(sub.Name))

	// rolled waits until the ReplicaSet whose pod template carries at (""
	// for none) is the only one with pods, and a pod of it runs.
	rolled := func(at string) {
		t.Helper()
		testenv.Eventually(t, wait, func() error {
			var sets appsv1.ReplicaSetList
			if err := env.Client.List(ctx, &sets, client.InNamespace(site)); err != nil {
				return err
			}
			current := ""
			for _, rs := range sets.Items {
				mine := rs.Spec.Template.Annotations[v1.RestartRequestedAtAnnotation] == at
				switch {
				case mine && rs.Status.ReadyReplicas == 1 && *rs.Spec.Replicas == 1:
					current = rs.Name
				case !mine && (*rs.Spec.Replicas != 0 || rs.Status.Replicas != 0):
					return fmt.Errorf("ReplicaSet %s (restart %q) still has pods", rs.Name, rs.Spec.Template.Annotations[v1.RestartRequestedAtAnnotation])
				}
			}
			if current == "" {
				var evs corev1.EventList
				_ = env.Client.List(ctx, &evs, client.InNamespace(site))
				msgs := []string{}
				for _, e := range evs.Items {
					msgs = append(msgs, e.Reason+": "+e.Message)
				}
				return fmt.Errorf("no ready ReplicaSet for restart %q among %d: %+v; events %v", at, len(sets.Items), statuses(sets.Items), msgs)
			}
			var pods corev1.PodList
			if err := env.Client.List(ctx, &pods, client.InNamespace(site), client.MatchingLabels{v1.SubscriptionLabel: sub.Name}); err != nil {
				return err
			}
			for _, p := range pods.Items {
				if p.Annotations[v1.RestartRequestedAtAnnotation] == at && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
					return nil
				}
			}
			return fmt.Errorf("no running pod for restart %q", at)
		})
	}
	rolled("")
	for _, at := range []string{"2026-02-01T10:00:00Z", "2026-02-01T11:30:00Z"} {
		update(t, sub, func(s *v1.Subscription) {
			if s.Annotations == nil {
				s.Annotations = map[string]string{}
			}
			s.Annotations[v1.RestartRequestedAtAnnotation] = at
		})
		rolled(at)
	}
}

func statuses(sets []appsv1.ReplicaSet) []appsv1.ReplicaSetStatus {
	var out []appsv1.ReplicaSetStatus
	for _, s := range sets {
		out = append(out, s.Status)
	}
	return out
}
