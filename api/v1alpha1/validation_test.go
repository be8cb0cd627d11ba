package v1alpha1_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{}) }

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("validation")}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func validPlan(name string) *v1.Plan {
	q := resource.MustParse("1Gi")
	return &v1.Plan{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1.PlanSpec{Limits: v1.Limits{Storage: &q, CustomDomains: ptr.To[int32](1)}},
	}
}

func validSubscription(ns, name string) *v1.Subscription {
	return &v1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}},
	}
}

func validDomain(ns, name, host string) *v1.CustomDomain {
	return &v1.CustomDomain{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1.CustomDomainSpec{Hostname: host},
	}
}

func validAccount(name string) *v1.Account {
	return &v1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "owner@example.com"}},
	}
}

// expectInvalid asserts that err is the API server's rejection and that its
// message contains want.
func expectInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want rejection containing %q", want)
	}
	if !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
		t.Fatalf("want an Invalid or Forbidden error containing %q, got %v", want, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("rejection %q does not say %q", err.Error(), want)
	}
}

func TestCreateRejectsInvalidInput(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	long := strings.Repeat("a", 60) + "."
	cases := []struct {
		name string
		obj  func() client.Object
		want string
	}{
		{"unknown role", func() client.Object {
			return &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "m"}, Spec: v1.MembershipSpec{
				Subject: v1.Subject{Kind: v1.SubjectUser, Name: "bob"}, Role: "Superuser"}}
		}, `spec.role: Unsupported value: "Superuser"`},
		{"unknown subject kind", func() client.Object {
			return &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "m"}, Spec: v1.MembershipSpec{
				Subject: v1.Subject{Kind: "Robot", Name: "bob"}, Role: v1.RoleViewer}}
		}, `spec.subject.kind: Unsupported value: "Robot"`},
		{"service account without namespace", func() client.Object {
			return &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "m"}, Spec: v1.MembershipSpec{
				Subject: v1.Subject{Kind: v1.SubjectServiceAccount, Name: "bot"}, Role: v1.RoleViewer}}
		}, "namespace is required for kind ServiceAccount"},
		{"unknown suspension reason", func() client.Object {
			a := validAccount("suspended-badly")
			a.Spec.Suspension = &v1.Suspension{Reason: "Vacation"}
			return a
		}, `spec.suspension.reason: Unsupported value: "Vacation"`},
		{"unknown deletion policy", func() client.Object {
			s := validSubscription(ns, "s")
			s.Spec.DeletionPolicy = "Shred"
			return s
		}, `spec.deletionPolicy: Unsupported value: "Shred"`},
		{"unknown tls mode", func() client.Object {
			d := validDomain(ns, "d", "shop.example.com")
			d.Spec.TLS = &v1.DomainTLS{Mode: "Manual"}
			return d
		}, `spec.tls.mode: Unsupported value: "Manual"`},
		{"over-long hostname", func() client.Object {
			return validDomain(ns, "d", strings.Repeat(long, 5)+"com")
		}, "spec.hostname: Too long"},
		{"over-long label", func() client.Object {
			return validDomain(ns, "d", strings.Repeat("a", 64)+".example.com")
		}, "each label of the hostname must be at most 63 characters"},
		{"wildcard hostname", func() client.Object {
			return validDomain(ns, "d", "*.example.com")
		}, "wildcard hostnames are not supported"},
		{"empty label", func() client.Object {
			return validDomain(ns, "d", "shop..example.com")
		}, "hostname must not contain empty labels"},
		{"leading dot", func() client.Object {
			return validDomain(ns, "d", ".example.com")
		}, "hostname must not contain empty labels"},
		{"space in hostname", func() client.Object {
			return validDomain(ns, "d", "my shop.example.com")
		}, "hostname must not contain spaces"},
		{"url instead of hostname", func() client.Object {
			return validDomain(ns, "d", "https://shop.example.com/")
		}, "hostname must be a bare hostname, not a URL"},
		{"single-label hostname", func() client.Object {
			return validDomain(ns, "d", "localhost")
		}, "hostname must be fully qualified"},
		{"underscore in hostname", func() client.Object {
			return validDomain(ns, "d", "my_shop.example.com")
		}, "hostname may contain only letters, digits"},
		{"hyphen at label edge", func() client.Object {
			return validDomain(ns, "d", "-shop.example.com")
		}, "hostname labels must not start or end with '-'"},
		{"negative storage", func() client.Object {
			p := validPlan("negative-storage")
			q := resource.MustParse("-1Gi")
			p.Spec.Limits.Storage = &q
			return p
		}, "storage must not be negative"},
		{"negative add-on cpu", func() client.Object {
			p := validPlan("negative-cpu")
			q := resource.MustParse("-500m")
			p.Spec.AddOns = []v1.PlanAddOn{{Name: "turbo", Limits: v1.Limits{CPU: &q}}}
			return p
		}, "cpu must not be negative"},
		{"negative custom domains", func() client.Object {
			p := validPlan("negative-domains")
			p.Spec.Limits.CustomDomains = ptr.To[int32](-1)
			return p
		}, "spec.limits.customDomains: Invalid value: -1"},
		{"add-on quantity out of bounds", func() client.Object {
			s := validSubscription(ns, "s")
			s.Spec.AddOns = []v1.AddOnRef{{Name: "extra-storage", Quantity: 5000}}
			return s
		}, "spec.addOns[0].quantity: Invalid value: 5000"},
		{"account name too long for a namespace", func() client.Object {
			return validAccount(strings.Repeat("a", 31))
		}, "account name must be a DNS label of at most 30 characters without '--'"},
		{"account name with the site separator", func() client.Object {
			return validAccount("acme--shop")
		}, "account name must be a DNS label of at most 30 characters without '--'"},
		{"subscription name too long for a site namespace", func() client.Object {
			return validSubscription(ns, strings.Repeat("s", 27))
		}, "subscription name must be a DNS label of at most 26 characters"},
		{"malformed contact email", func() client.Object {
			a := validAccount("bad-contact")
			a.Spec.Contacts = []v1.Contact{{Name: "Ops", Email: "ops at example"}}
			return a
		}, "email must be an address like name@example.com"},
		{"image with whitespace", func() client.Object {
			return &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: "bad-image"}, Spec: v1.SiteTemplateSpec{Image: "nginx latest"}}
		}, "image must not contain whitespace"},
		{"relative data path", func() client.Object {
			return &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: "bad-path"}, Spec: v1.SiteTemplateSpec{Image: "nginx", DataPath: "data"}}
		}, "dataPath must be an absolute path"},
		{"root as the site's user", func() client.Object {
			return &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: "root-user"}, Spec: v1.SiteTemplateSpec{Image: "nginx", RunAsUser: ptr.To[int64](0)}}
		}, "spec.runAsUser: Invalid value: 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectInvalid(t, env.Client.Create(ctx, tc.obj()), tc.want)
		})
	}
}

// A malformed duration never reaches the Go types (it would not marshal), so
// it is sent as raw JSON, as kubectl would send it.
func TestCreateRejectsMalformedDuration(t *testing.T) {
	for _, d := range []string{"2 weeks", "14d", "-1h", "h"} {
		t.Run(d, func(t *testing.T) {
			body := fmt.Sprintf(`{"apiVersion":"hosting.landlord.dev/v1alpha1","kind":"Plan","metadata":{"name":"raw-%d"},"spec":{"limits":{},"retentionPeriod":%q}}`, time.Now().UnixNano(), d)
			err := env.Client.Create(context.Background(), rawPlan(t, body))
			expectInvalid(t, err, "retentionPeriod must be a duration such as 720h")
		})
	}
}

func rawPlan(t *testing.T, body string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(body)); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestImmutableFields(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)

	d := validDomain(ns, "shop", "shop.example.com")
	if err := env.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Hostname = "other.example.com"
	expectInvalid(t, env.Client.Update(ctx, d), "hostname is immutable")

	m := &v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bob"}, Spec: v1.MembershipSpec{
		Subject: v1.Subject{Kind: v1.SubjectUser, Name: "bob"}, Role: v1.RoleViewer}}
	if err := env.Client.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	m.Spec.Subject.Name = "mallory"
	expectInvalid(t, env.Client.Update(ctx, m), "subject is immutable")

	// The role is not immutable: promoting is a normal update.
	m.Spec.Subject.Name = "bob"
	m.Spec.Role = v1.RoleEditor
	if err := env.Client.Update(ctx, m); err != nil {
		t.Fatalf("changing the role: %v", err)
	}
}

func TestPaidThroughMayNotMoveBackwards(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	jan := metav1.NewTime(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC))
	dec := metav1.NewTime(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))

	s := validSubscription(ns, "www")
	s.Spec.PaidThrough = &jan
	if err := env.Client.Create(ctx, s); err != nil {
		t.Fatal(err)
	}

	backwards := s.DeepCopy()
	backwards.Spec.PaidThrough = &dec
	// The policy is loaded by the API server asynchronously after it is created.
	testenv.Eventually(t, 30*time.Second, func() error {
		err := env.Client.Update(ctx, backwards.DeepCopy(), client.DryRunAll)
		if err == nil {
			return fmt.Errorf("moving paidThrough backwards was accepted")
		}
		return nil
	})
	err := env.Client.Update(ctx, backwards.DeepCopy())
	expectInvalid(t, err, "spec.paidThrough may not move backwards (from 2027-01-31T00:00:00Z to 2026-12-31T00:00:00Z)")
	if !strings.Contains(err.Error(), `hosting.landlord.dev/paid-through-correction: "2026-12-31T00:00:00Z"`) {
		t.Fatalf("the message does not say how to correct: %v", err)
	}

	removed := s.DeepCopy()
	removed.Spec.PaidThrough = nil
	expectInvalid(t, env.Client.Update(ctx, removed), "may not move backwards (from 2027-01-31T00:00:00Z to unset)")

	// A stale or different correction value does not authorise the move.
	wrong := backwards.DeepCopy()
	wrong.Annotations = map[string]string{v1.PaidThroughCorrectionAnnotation: "true"}
	expectInvalid(t, env.Client.Update(ctx, wrong), "may not move backwards")

	// Forwards is always fine.
	forwards := s.DeepCopy()
	feb := metav1.NewTime(jan.AddDate(0, 1, 0))
	forwards.Spec.PaidThrough = &feb
	if err := env.Client.Update(ctx, forwards); err != nil {
		t.Fatalf("renewal rejected: %v", err)
	}

	// A correction naming the new value is accepted.
	corrected := forwards.DeepCopy()
	corrected.Spec.PaidThrough = &dec
	corrected.Annotations = map[string]string{v1.PaidThroughCorrectionAnnotation: "2026-12-31T00:00:00Z"}
	if err := env.Client.Update(ctx, corrected); err != nil {
		t.Fatalf("explicit correction rejected: %v", err)
	}
}

func TestProtectedAccountCannotBeDeleted(t *testing.T) {
	ctx := context.Background()
	a := validAccount(testenv.Name("protected"))
	if err := env.Client.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.Spec.DeletionProtection == nil || !*a.Spec.DeletionProtection {
		t.Fatalf("deletionProtection defaults to %v, want true", a.Spec.DeletionProtection)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Delete(ctx, a, client.DryRunAll); err == nil {
			return fmt.Errorf("deleting a protected account was accepted")
		}
		return nil
	})
	err := env.Client.Delete(ctx, a)
	expectInvalid(t, err, "has spec.deletionProtection: true")
	if !strings.Contains(err.Error(), `kubectl patch account `+a.Name) {
		t.Fatalf("the message does not say how to confirm: %v", err)
	}

	a.Spec.DeletionProtection = ptr.To(false)
	if err := env.Client.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, a); err != nil {
		t.Fatalf("confirmed delete refused: %v", err)
	}
}

func TestSamplesAreAccepted(t *testing.T) {
	ctx := context.Background()
	for _, ns := range []string{"acct-acme", "acct-globex", "acct-acme--www", "acct-acme--docs"} {
		if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(env.Root, "config", "samples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	kinds := map[string]bool{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		objs, err := testenv.ReadObjects(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if err := env.Client.Create(ctx, o); err != nil {
				t.Errorf("%s: %s %s rejected: %v", filepath.Base(f), o.GetKind(), o.GetName(), err)
			}
			kinds[o.GetKind()] = true
		}
	}
	for _, k := range []string{"Plan", "SiteTemplate", "Account", "Membership", "Team", "Subscription", "CustomDomain", "Database"} {
		if !kinds[k] {
			t.Errorf("config/samples has no %s", k)
		}
	}
}
