package subscription_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/site"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// A template whose image's own user is root, on port 80 (the sample
// WordPress template: runAsUser 33, www-data): the site's pod runs as that
// user, group and volume group, with net.ipv4.ip_unprivileged_port_start=0
// so that user binds port 80 with no capability, and the real API server
// admits it in the site namespace (Pod Security "restricted" enforced, the
// tenant pod policies held against the ReplicaSet controller): the pod is
// created and runs (on kwok). Pod Security is in force there: a pod with a
// sysctl outside its safe set is refused.
func TestSiteRunsAsTemplateUserOnALowPort(t *testing.T) {
	_, cfg := start(t)
	ctx := context.Background()
	_, ns := newAccount(t, cfg)
	tmpl := &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("wordpress")}, Spec: v1.SiteTemplateSpec{
		Image: "wordpress:6-apache", Port: 80, DataPath: "/var/www/html", ReadinessPath: "/", RunAsUser: ptr.To[int64](33)}}
	must(t, env.Client.Create(ctx, tmpl))
	sub := newSubscription(t, ns, newPlan(t, nil), tmpl.Name, nil)
	ns2 := siteNS(cfg, sub)
	bindVolume(t, ns2, platform.SiteVolumeName(sub.Name))

	testenv.Eventually(t, wait, func() error {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(ns2), client.MatchingLabels{v1.SubscriptionLabel: sub.Name}); err != nil {
			return err
		}
		if len(pods.Items) == 0 {
			var evs corev1.EventList
			_ = env.Client.List(ctx, &evs, client.InNamespace(ns2))
			var msgs []string
			for _, e := range evs.Items {
				msgs = append(msgs, e.Reason+": "+e.Message)
			}
			return fmt.Errorf("no site pod; events %v", msgs)
		}
		p := pods.Items[0]
		sc := p.Spec.SecurityContext
		switch {
		case sc == nil || ptr.Deref(sc.RunAsUser, 0) != 33 || ptr.Deref(sc.RunAsGroup, 0) != 33 || ptr.Deref(sc.FSGroup, 0) != 33:
			return fmt.Errorf("pod %s security context %+v, want user, group and fsGroup 33", p.Name, sc)
		case len(sc.Sysctls) != 1 || sc.Sysctls[0] != (corev1.Sysctl{Name: site.UnprivilegedPortStart, Value: "0"}):
			return fmt.Errorf("pod %s sysctls %+v, want %s=0", p.Name, sc.Sysctls, site.UnprivilegedPortStart)
		case p.Status.Phase != corev1.PodRunning:
			return fmt.Errorf("pod %s is %s", p.Name, p.Status.Phase)
		}
		return nil
	})

	// Pod Security is what would have refused it: a sysctl outside the safe
	// set is refused in the same namespace.
	unsafe := restrictedPod(ns2)
	unsafe.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "kernel.msgmax", Value: "65536"}}
	err := env.Client.Create(ctx, unsafe, client.DryRunAll)
	if err == nil || !strings.Contains(err.Error(), "forbidden sysctls") {
		t.Fatalf("a pod with sysctl kernel.msgmax in site namespace %s: %v, want refused by Pod Security (forbidden sysctls)", ns2, err)
	}
}
