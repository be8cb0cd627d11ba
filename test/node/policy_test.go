package node

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/node"
)

// The NetworkPolicies below are enforced by kube-router's policy controller
// on the node (internal/node): every connection here is a real TCP
// connection between real pods on the node's bridge, opened by busybox's
// nc in one container to the other pod's address and the site's port.
// Without the controller every connection succeeds (the bridge plugin
// ignores policies), so each test fails at its first refusal.

// sitePort is the static template's container port (newSite).
const sitePort = 8080

// A site cannot open a connection to another site's pod: not to a site of
// the same account (each site is a namespace of its own, and Landlord's
// default-deny policy admits only the namespace's own pods and the
// gateway), nor of another account.
func TestSitesCannotConnectToEachOther(t *testing.T) {
	www := policySite(t, "hooli")
	shop := addSite(t, www, "shop")
	other := policySite(t, "pied-piper")
	target := readyPod(t, www.ns, www.sub)

	refused(t, shop.ns, sitePodName(t, shop), "site", target)
	refused(t, other.ns, sitePodName(t, other), "site", target)
	// And the other way round: the target's own site cannot reach them.
	refused(t, www.ns, target.Name, "site", readyPod(t, other.ns, other.sub))
}

// The gateway's namespace (--ingress-namespace, the one Landlord's policy
// admits) reaches a site's pod; the same pod in any other namespace does not.
func TestGatewayNamespaceReachesTheSite(t *testing.T) {
	s := policySite(t, "massive")
	target := readyPod(t, s.ns, s.sub)
	gateway := probePod(t, cfg.IngressNamespace)
	outsiderNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "outsider"}}
	must(t, env.Client.Create(ctx, outsiderNS))
	t.Cleanup(func() { _ = env.Client.Delete(ctx, outsiderNS) })
	outsider := probePod(t, "outsider")

	refused(t, "outsider", outsider, "probe", target)
	connects(t, cfg.IngressNamespace, gateway, "probe", target)
}

// A tenant's own NetworkPolicy, written by its Developer, admitting one of
// its other sites does not open the way under --tenant-egress=internet (the
// default): Landlord's policy on the sending site lets its pods reach only
// DNS, their own namespace and public addresses, and tenants cannot write
// egress rules past their own namespace (landlord-tenant-network-policies).
// The node holds that with real packets on both sides: the tenant's policy
// is in force (another account's site stays refused as well), and the
// connection from the tenant's other site is still refused — by the egress
// rule, since the ingress side now admits it. (Within one site namespace
// traffic is open already: Landlord's policy admits the namespace's own
// pods.) Without the policy controller every connection here succeeds.
func TestTenantPolicyCannotOpenAnotherSiteUnderInternetEgress(t *testing.T) {
	www := policySite(t, "vandelay")
	shop := addSite(t, www, "shop")
	other := policySite(t, "kramerica")
	target := readyPod(t, www.ns, www.sub)
	shopPod := sitePodName(t, shop)
	otherPod := sitePodName(t, other)

	refused(t, shop.ns, shopPod, "site", target)
	policy := fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-shop, namespace: %s}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: %s}}
    ports:
    - {protocol: TCP, port: %d}
`, www.ns, shop.ns, sitePort)
	out, err := kubectlIn(policy, "--as", www.developer, "apply", "-f", "-")
	if err != nil {
		t.Fatalf("the Developer's kubectl apply of a NetworkPolicy in %s: %v: %s", www.ns, err, out)
	}
	// The tenant's policy is admitted and in the namespace; the connection
	// from its other site stays refused by that site's egress rule.
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: www.ns, Name: "from-shop"}, &networkingv1.NetworkPolicy{}))
	refused(t, shop.ns, shopPod, "site", target)
	refused(t, other.ns, otherPod, "site", target)
}

// policySite is a site on the small plan whose account (sites, pods and
// all) is deleted when the test ends, so that the node keeps room for the
// next tests.
func policySite(t *testing.T, account string) site {
	t.Helper()
	t.Cleanup(func() { deleteAccount(t, account) })
	return newSiteOn(t, account, "small")
}

// deleteAccount deletes an account and waits until its sites' pods are gone
// from the node.
func deleteAccount(t *testing.T, account string) {
	t.Helper()
	if err := env.Client.Delete(ctx, &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: account}}); err != nil && !apierrors.IsNotFound(err) {
		t.Error(err)
		return
	}
	eventually(t, wait, func() error {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods); err != nil {
			return err
		}
		for _, p := range pods.Items {
			if strings.HasPrefix(p.Namespace, cfg.AccountNamespace(account)) {
				return fmt.Errorf("pod %s/%s of deleted account %s still on the node", p.Namespace, p.Name, account)
			}
		}
		return nil
	})
}

// addSite sells another site to s's account and waits for its ready pod.
func addSite(t *testing.T, s site, sub string) site {
	t.Helper()
	n := site{account: s.account, accountNS: s.accountNS, sub: sub, plan: s.plan, developer: s.developer, ns: cfg.SiteNamespace(s.account, sub)}
	must(t, env.Client.Create(ctx, &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: s.accountNS, Name: sub}, Spec: v1.SubscriptionSpec{
		Plan: s.plan, Site: v1.SiteSpec{Template: "static"},
		PaidThrough: &metav1.Time{Time: clk.Now().Add(time.Hour)}, GracePeriod: &metav1.Duration{Duration: time.Hour},
		DeletionProtection: ptr.To(false)}}))
	readyPod(t, n.ns, n.sub)
	return n
}

func sitePodName(t *testing.T, s site) string { return readyPod(t, s.ns, s.sub).Name }

// probePod runs the site image (busybox inside) in ns, restricted like a
// tenant's pod, and returns its name once it is ready.
func probePod(t *testing.T, ns string) string {
	t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe"}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "probe", Image: node.StaticSiteImage, ImagePullPolicy: corev1.PullIfNotPresent,
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: *q("10m"), corev1.ResourceMemory: *q("16Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: *q("100m"), corev1.ResourceMemory: *q("32Mi")}}}}}}
	must(t, env.Client.Create(ctx, p))
	t.Cleanup(func() { _ = env.Client.Delete(ctx, p, client.GracePeriodSeconds(0)) })
	eventually(t, wait, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			return fmt.Errorf("pod %s/probe is %s %s", ns, p.Status.Phase, containerState(p))
		}
		return nil
	})
	return p.Name
}

// dial opens a TCP connection from container c of pod ns/pod to target's
// address and the site's port and asks for "/" (busybox nc, 3 s timeout;
// busybox's wget needs NSS for the port, which the image lacks). It
// returns nil when an HTTP answer came back, errBlocked when the
// connection was not made (timed out or refused) and any other failure
// (e.g. of the exec) as it is, which the tests never count as a refusal.
func dial(ns, pod, c string, target *corev1.Pod) error {
	script := fmt.Sprintf(`printf 'GET / HTTP/1.0\r\n\r\n' | %[1]s nc -w 3 %[2]s %[3]d`, node.BusyboxPath, target.Status.PodIP, sitePort)
	out, err := kubectl("-n", ns, "exec", pod, "-c", c, "--", node.BusyboxPath, "sh", "-c", script)
	switch {
	case err == nil && strings.HasPrefix(out, "HTTP/1."):
		return nil
	case blockedOutput.MatchString(out):
		return fmt.Errorf("%w: %s", errBlocked, strings.TrimSpace(out))
	default:
		return fmt.Errorf("no HTTP answer: %q: %v", out, err)
	}
}

// errBlocked is a connection the node did not let through.
var errBlocked = errors.New("connection blocked")

// blockedOutput is busybox nc's message for a connection that was never
// made: the SYN dropped (timed out) or answered with a reset (refused).
var blockedOutput = regexp.MustCompile(`nc: (timed out|can't connect to remote host .*(Connection refused|No route to host))`)

// refused waits until the node refuses the connection from ns/pod to
// target (the policy controller syncs on pod and policy events, within a
// second or two), then checks twice more that it stays refused.
func refused(t *testing.T, ns, pod, c string, target *corev1.Pod) {
	t.Helper()
	what := fmt.Sprintf("%s/%s -> %s/%s (%s:%d)", ns, pod, target.Namespace, target.Name, target.Status.PodIP, sitePort)
	eventually(t, 30*time.Second, func() error {
		err := dial(ns, pod, c, target)
		if err == nil {
			return fmt.Errorf("the node let %s through", what)
		}
		if !errors.Is(err, errBlocked) {
			return fmt.Errorf("%s: %v", what, err)
		}
		return nil
	})
	for range 2 {
		if err := dial(ns, pod, c, target); !errors.Is(err, errBlocked) {
			t.Fatalf("%s after the node refused it: %v (nil: let through)", what, err)
		}
	}
}

// connects waits until the connection from ns/pod to target succeeds.
func connects(t *testing.T, ns, pod, c string, target *corev1.Pod) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		if err := dial(ns, pod, c, target); err != nil {
			return fmt.Errorf("%s/%s -> %s/%s (%s:%d): %v", ns, pod, target.Namespace, target.Name, target.Status.PodIP, sitePort, err)
		}
		return nil
	})
}
