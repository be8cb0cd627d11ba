package node

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/node"
	"github.com/landlord-dev/landlord/internal/platform"
)

// dataPath is the static template's: where nginx-unprivileged (the shipped
// sample's image) and node.StaticSiteImage serve files from.
const dataPath = "/usr/share/nginx/html"

// site is an account with a Developer, consented Support, and one site on
// the real node.
type site struct {
	account, accountNS, ns, sub, plan, developer string
}

// newSite creates the provider's plan and static template (once), then an
// account with a Developer and a Support Membership, and a static site
// paid for an hour with an hour's grace; it returns once the site's pod is
// Running and Ready on the real node.
func newSite(t *testing.T, account string) site { return newSiteOn(t, account, "real") }

// newSiteOn is newSite on plan "real" or "small" (a tenth of a core, so
// that tests with many sites fit on the node beside the others).
func newSiteOn(t *testing.T, account, plan string) site {
	t.Helper()
	for _, o := range []client.Object{
		&v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "real"}, Spec: v1.PlanSpec{
			Limits: v1.Limits{Storage: q("1Gi"), CPU: q("500m"), Memory: q("64Mi"), EphemeralStorage: q("1Gi")}}},
		&v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "small"}, Spec: v1.PlanSpec{
			Limits: v1.Limits{Storage: q("1Gi"), CPU: q("100m"), Memory: q("64Mi"), EphemeralStorage: q("1Gi")}}},
		&v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: "static"}, Spec: v1.SiteTemplateSpec{
			Image: node.StaticSiteImage, Port: 8080, DataPath: dataPath, ReadinessPath: "/"}},
		// The same server with another setting: switching to it rolls the pod.
		&v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: "static-v2"}, Spec: v1.SiteTemplateSpec{
			Image: node.StaticSiteImage, Port: 8080, DataPath: dataPath, ReadinessPath: "/",
			Env: []v1.TemplateEnvVar{{Name: "SITE_FLAVOUR", Value: "v2"}}}},
	} {
		if err := env.Client.Create(ctx, o); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
	}
	s := site{account: account, accountNS: cfg.AccountNamespace(account), sub: "www", plan: plan, developer: "dev@" + account + ".test"}
	s.ns = cfg.SiteNamespace(account, s.sub)
	must(t, env.Client.Create(ctx, &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: account}, Spec: v1.AccountSpec{
		Owner: v1.Subject{Kind: v1.SubjectUser, Name: "owner@" + account + ".test"}, DeletionProtection: ptr.To(false)}}))
	eventually(t, wait, func() error { return env.Client.Get(ctx, client.ObjectKey{Name: s.accountNS}, &corev1.Namespace{}) })
	for _, m := range []*v1.Membership{
		{ObjectMeta: metav1.ObjectMeta{Namespace: s.accountNS, Name: "dev"},
			Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectUser, Name: s.developer}, Role: v1.RoleDeveloper}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: s.accountNS, Name: "support"},
			Spec: v1.MembershipSpec{Subject: v1.Subject{Kind: v1.SubjectGroup, Name: cfg.SupportGroup}, Role: v1.RoleSupport,
				ExpiresAt: &metav1.Time{Time: clk.Now().Add(24 * time.Hour)}}},
	} {
		eventually(t, wait, func() error { return env.Client.Create(ctx, m.DeepCopy()) })
	}
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: s.accountNS, Name: s.sub}, Spec: v1.SubscriptionSpec{
		Plan: plan, Site: v1.SiteSpec{Template: "static"},
		PaidThrough: &metav1.Time{Time: clk.Now().Add(time.Hour)}, GracePeriod: &metav1.Duration{Duration: time.Hour},
		DeletionProtection: ptr.To(false)}}
	eventually(t, wait, func() error { return env.Client.Create(ctx, sub.DeepCopy()) })
	readyPod(t, s.ns, s.sub)
	// The Developer's RoleBinding in the site namespace.
	eventually(t, wait, func() error {
		out, err := kubectl("--as", s.developer, "auth", "can-i", "create", "pods/exec", "-n", s.ns)
		if err != nil || strings.TrimSpace(out) != "yes" {
			return fmt.Errorf("%s cannot exec in %s yet: %s", s.developer, s.ns, out)
		}
		return nil
	})
	return s
}

func (s site) phase(t *testing.T) v1.SubscriptionPhase {
	var sub v1.Subscription
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: s.accountNS, Name: s.sub}, &sub))
	return sub.Status.Phase
}

func (s site) waitPhase(t *testing.T, want v1.SubscriptionPhase) {
	t.Helper()
	eventually(t, wait, func() error {
		if got := s.phase(t); got != want {
			return fmt.Errorf("subscription %s/%s is %q, want %q", s.accountNS, s.sub, got, want)
		}
		return nil
	})
}

// serves port-forwards to the site's Service (as the Developer: kubectl
// resolves the Service to its ready pod) and waits until "/" answers 200
// with want.
func (s site) serves(t *testing.T, want string) {
	t.Helper()
	base := portForward(t, s.ns, "service/"+platform.SiteName(s.sub), 80, "--as", s.developer)
	eventually(t, 30*time.Second, func() error {
		code, body, err := get(base + "/")
		if err != nil {
			return err
		}
		if code != 200 || strings.TrimSpace(body) != want {
			return fmt.Errorf("GET / through the site's Service = %d %q, want 200 %q", code, body, want)
		}
		return nil
	})
}

// volumeFile reads name from the site's volume on the node's disk (the
// host-path directory of its PersistentVolume).
func (s site) volumeFile(t *testing.T, name string) (string, error) {
	t.Helper()
	var pvc corev1.PersistentVolumeClaim
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: platform.SiteVolumeName(s.sub)}, &pvc))
	var pv corev1.PersistentVolume
	must(t, env.Client.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, &pv))
	if pv.Spec.HostPath == nil {
		t.Fatalf("volume %s is not a host path", pv.Name)
	}
	b, err := os.ReadFile(filepath.Join(pv.Spec.HostPath.Path, name))
	return string(b), err
}

func token() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// A site's pod really runs on the node; the file a Developer writes into
// its volume (kubectl exec as the Developer) is served back through the
// site's Service (kubectl port-forward); once Suspended the site has no pod
// and the file is intact on the volume; once renewed the same file is
// served again; after a switch to another template (the pod rolls) too.
func TestDevelopersFileSurvivesSuspensionRenewalAndTemplateSwitch(t *testing.T) {
	start := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	s := newSite(t, "acme")
	step("site ready")
	content := "Welcome to acme, page " + token()

	pod := readyPod(t, s.ns, s.sub)
	out, err := kubectl("--as", s.developer, "-n", s.ns, "exec", pod.Name, "-c", "site", "--",
		"sh", "-c", fmt.Sprintf("echo '%s' > %s/index.html", content, dataPath))
	if err != nil {
		t.Fatalf("the Developer's exec into %s/%s: %v: %s", s.ns, pod.Name, err, out)
	}
	s.serves(t, content)
	step("the Developer's page served")

	// Past paidThrough and the grace period: suspended, scaled to zero.
	clk.Step(2*time.Hour + time.Second)
	s.waitPhase(t, v1.PhaseSuspended)
	step("suspended")
	noPods(t, s.ns, s.sub)
	step("no pods")
	got, err := s.volumeFile(t, "index.html")
	if err != nil || strings.TrimSpace(got) != content {
		t.Fatalf("the suspended site's volume holds index.html = %q (%v), want %q", got, err, content)
	}
	if out, err := kubectl("--as", s.developer, "-n", s.ns, "port-forward", "--pod-running-timeout=5s", "service/"+platform.SiteName(s.sub), ":80"); err == nil {
		t.Fatalf("port-forward to a suspended site succeeded: %s", out)
	}

	// Renewed: paid for another month.
	var sub v1.Subscription
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: s.accountNS, Name: s.sub}, &sub))
	sub.Spec.PaidThrough = &metav1.Time{Time: clk.Now().Add(30 * 24 * time.Hour)}
	must(t, env.Client.Update(ctx, &sub))
	s.waitPhase(t, v1.PhaseActive)
	step("renewed")
	renewed := readyPod(t, s.ns, s.sub)
	step("a new pod ready")
	if renewed.UID == pod.UID {
		t.Fatalf("the site's pod %s survived its suspension", pod.Name)
	}
	s.serves(t, content)
	step("the page served again")

	// Another template: a new pod, the same volume.
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: s.accountNS, Name: s.sub}, &sub))
	sub.Spec.Site.Template = "static-v2"
	must(t, env.Client.Update(ctx, &sub))
	eventually(t, wait, func() error {
		p := readyPod(t, s.ns, s.sub)
		for _, e := range p.Spec.Containers[0].Env {
			if e.Name == "SITE_FLAVOUR" && e.Value == "v2" {
				return nil
			}
		}
		return fmt.Errorf("the ready pod %s does not run template static-v2 yet", p.Name)
	})
	step("the new template's pod ready")
	s.serves(t, content)
	step("the page served by the new template")
}
