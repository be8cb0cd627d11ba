package reliability_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Leader election: of two managers only the leader writes; when the leader
// dies in the middle of provisioning a tenant (after its 10th effective
// write, without releasing its lease), the other takes over and the tenant
// converges once: one RoleBinding per subject, one claim on the domain, one
// of each site object.
func TestLeaderHandOver(t *testing.T) {
	h := newHarness(t)
	lease := testenv.Name("landlord-leader")
	leader, lw := h.manager(10, lease)
	select {
	case <-leader.Elected():
	case <-time.After(wait):
		t.Fatal("the first manager was never elected")
	}
	standby, sw := h.manager(0, lease)
	// What the standby had written when the leader died, read at that
	// instant: the leader can die while the tenant is still being created
	// (the CustomDomain waits for the site namespace, which only the next
	// leader makes), and the standby is meant to write after that.
	standbyWritesAtCrash := make(chan int64, 1)
	go func() {
		<-lw.crashed
		standbyWritesAtCrash <- sw.attempted.Load()
	}()

	tn := newTenant(t, "leader", h.clk.Now())
	h.tenants = append(h.tenants, tn)
	select {
	case n := <-standbyWritesAtCrash:
		if n != 0 {
			t.Fatalf("the standby manager wrote %d times while the other led", n)
		}
	case <-time.After(wait):
		t.Fatal("the leader did not reach its 10th write")
	}
	select {
	case <-standby.Elected():
	case <-time.After(wait):
		t.Fatal("the standby manager never took over")
	}
	testenv.Eventually(t, wait, all(tn.provisioned, func() error { return tn.replicas(1) }))
	settled(t, tn)

	counts := []struct {
		what string
		list client.ObjectList
		opts []client.ListOption
		want int
	}{
		{"RoleBindings (owner, member)", &rbacv1.RoleBindingList{}, []client.ListOption{client.InNamespace(tn.ns)}, 2},
		{"Namespaces (account, site)", &corev1.NamespaceList{}, []client.ListOption{client.MatchingLabels{v1.AccountLabel: tn.name}}, 2},
		{"DomainClaims", &v1.DomainClaimList{}, []client.ListOption{client.MatchingLabels{v1.AccountLabel: tn.name}}, 1},
		{"Deployments", &appsv1.DeploymentList{}, []client.ListOption{client.InNamespace(tn.site)}, 1},
		{"Services", &corev1.ServiceList{}, []client.ListOption{client.InNamespace(tn.site)}, 1},
		{"PersistentVolumeClaims", &corev1.PersistentVolumeClaimList{}, []client.ListOption{client.InNamespace(tn.site)}, 1},
		{"HTTPRoutes (site, domain)", &gatewayv1.HTTPRouteList{}, []client.ListOption{client.InNamespace(tn.site)}, 2},
		{"ResourceQuotas (account)", &corev1.ResourceQuotaList{}, []client.ListOption{client.InNamespace(tn.ns)}, 1},
		{"ResourceQuotas (site)", &corev1.ResourceQuotaList{}, []client.ListOption{client.InNamespace(tn.site)}, 1},
	}
	for _, c := range counts {
		must(t, env.Client.List(ctx, c.list, c.opts...))
		if n := lenOf(c.list); n != c.want {
			t.Errorf("%s: %d, want %d", c.what, n, c.want)
		}
	}
	t.Logf("the leader wrote %d times (effective %d), the standby after taking over %d (effective %d)",
		lw.attempted.Load(), lw.effective.Load(), sw.attempted.Load(), sw.effective.Load())
}

func lenOf(list client.ObjectList) int {
	switch l := list.(type) {
	case *rbacv1.RoleBindingList:
		return len(l.Items)
	case *v1.DomainClaimList:
		return len(l.Items)
	case *appsv1.DeploymentList:
		return len(l.Items)
	case *corev1.ServiceList:
		return len(l.Items)
	case *corev1.PersistentVolumeClaimList:
		return len(l.Items)
	case *gatewayv1.HTTPRouteList:
		return len(l.Items)
	case *corev1.ResourceQuotaList:
		return len(l.Items)
	case *corev1.NamespaceList:
		return len(l.Items)
	}
	panic(fmt.Sprintf("lenOf %T", list))
}
