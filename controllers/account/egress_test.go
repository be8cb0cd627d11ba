package account_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// The NetworkPolicy of --tenant-egress=internet (with IPv4 and IPv6 cluster
// ranges) is one the API server accepts, as the account controller would
// apply it (server-side apply, dry run: this package's manager keeps the
// default, open egress).
func TestInternetEgressPolicyIsAccepted(t *testing.T) {
	a := newAccount(t, "egress")
	c := cfg
	c.TenantEgress = platform.TenantEgressInternet
	var err error
	if c.ClusterCIDRs, err = platform.ParseCIDRs("10.96.0.0/12,100.64.0.0/10,fd00:10:96::/108"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		return env.Client.Get(ctx, client.ObjectKey{Name: c.AccountNamespace(a.Name)}, &corev1.Namespace{})
	})
	cs := kubernetes.NewForConfigOrDie(env.Config)
	got, err := cs.NetworkingV1().NetworkPolicies(c.AccountNamespace(a.Name)).Apply(ctx, tenancy.BuildNetworkPolicy(a, c),
		metav1.ApplyOptions{FieldManager: platform.FieldManager, Force: true, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("the API server refuses the internet-egress NetworkPolicy: %v", err)
	}
	if len(got.Spec.PolicyTypes) != 2 || got.Spec.PolicyTypes[1] != networkingv1.PolicyTypeEgress || len(got.Spec.Egress) != 3 {
		t.Errorf("applied policy %+v", got.Spec)
	}
}
