package subscription_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	crds, err := testenv.GatewayAPICRDs()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testenv.Main(m, &env, testenv.Options{Kwok: true, ExtraCRDPaths: crds})
}

const wait = 45 * time.Second

var t0 = time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)

var setupOnce sync.Once

// start runs the manager with a fake clock at t0 for the test, after the
// cluster-wide fixtures: the operator namespace and a default StorageClass
// that allows expansion (as a cloud's would).
func start(t *testing.T, mod ...func(*platform.Config)) (*clock.Fake, platform.Config) {
	t.Helper()
	clk, cfg, _ := startManager(t, mod...)
	return clk, cfg
}

// startManager is start, also returning the manager (stopped at cleanup).
func startManager(t *testing.T, mod ...func(*platform.Config)) (*clock.Fake, platform.Config, *testenv.Manager) {
	t.Helper()
	ctx := context.Background()
	cfg := platform.Default()
	for _, m := range mod {
		m(&cfg)
	}
	setupOnce.Do(func() {
		must(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.OperatorNamespace}}))
		must(t, env.Client.Create(ctx, &storagev1.StorageClass{
			ObjectMeta:           metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
			Provisioner:          "example.com/none",
			AllowVolumeExpansion: ptr.To(true),
		}))
	})
	clk := clock.NewFake(t0)
	mgr, err := env.StartManager(cfg, clk, manager.SubscriptionController)
	must(t, err)
	t.Cleanup(func() { _ = mgr.Stop() })
	return clk, cfg, mgr
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func q(s string) *resource.Quantity { return ptr.To(resource.MustParse(s)) }

// newAccount creates an Account and its namespace, as the Account controller
// would, and returns the account's name and namespace.
func newAccount(t *testing.T, cfg platform.Config) (string, string) {
	t.Helper()
	ctx := context.Background()
	name := testenv.Name("acme")
	acct := &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.AccountSpec{
		Owner: v1.Subject{Kind: v1.SubjectUser, Name: "owner@example.com"}, DeletionProtection: ptr.To(false)}}
	must(t, env.Client.Create(ctx, acct))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.AccountNamespace(name), Labels: platform.AccountLabels(name)}}
	must(t, env.Client.Create(ctx, ns))
	return name, ns.Name
}

func newPlan(t *testing.T, mod func(*v1.PlanSpec)) string {
	t.Helper()
	p := &v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("plan")}, Spec: v1.PlanSpec{
		Limits:          v1.Limits{Storage: q("1Gi"), CPU: q("500m"), Memory: q("256Mi"), CustomDomains: ptr.To[int32](1)},
		GracePeriod:     &metav1.Duration{Duration: 24 * time.Hour},
		RetentionPeriod: &metav1.Duration{Duration: 48 * time.Hour},
		RenewalNotice:   &metav1.Duration{Duration: 24 * time.Hour},
	}}
	if mod != nil {
		mod(&p.Spec)
	}
	must(t, env.Client.Create(context.Background(), p))
	return p.Name
}

func newTemplate(t *testing.T, image string) string {
	t.Helper()
	st := &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("tmpl")}, Spec: v1.SiteTemplateSpec{
		Image: image, Port: 8080, DataPath: "/srv", ReadinessPath: "/"}}
	must(t, env.Client.Create(context.Background(), st))
	return st.Name
}

func newSubscription(t *testing.T, ns, plan, template string, mod func(*v1.SubscriptionSpec)) *v1.Subscription {
	t.Helper()
	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.Name("site")}, Spec: v1.SubscriptionSpec{
		Plan: plan, Site: v1.SiteSpec{Template: template}, PaidThrough: &metav1.Time{Time: t0.Add(30 * 24 * time.Hour)}}}
	if mod != nil {
		mod(&sub.Spec)
	}
	must(t, env.Client.Create(context.Background(), sub))
	return sub
}

// update reads, changes and writes a Subscription's spec, retrying conflicts.
func update(t *testing.T, sub *v1.Subscription, change func(*v1.Subscription)) {
	t.Helper()
	testenv.Eventually(t, wait, func() error {
		cur := &v1.Subscription{}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sub), cur); err != nil {
			return err
		}
		change(cur)
		return env.Client.Update(context.Background(), cur)
	})
}

func get(t *testing.T, sub *v1.Subscription) *v1.Subscription {
	t.Helper()
	cur := &v1.Subscription{}
	must(t, env.Client.Get(context.Background(), client.ObjectKeyFromObject(sub), cur))
	return cur
}

// condition returns an error unless the subscription's condition typ has the
// given status and reason (reason "" = any).
func condition(sub *v1.Subscription, typ string, status metav1.ConditionStatus, reason string) error {
	c := meta.FindStatusCondition(sub.Status.Conditions, typ)
	switch {
	case c == nil:
		return fmt.Errorf("no %s condition", typ)
	case c.Status != status || (reason != "" && c.Reason != reason):
		return fmt.Errorf("%s is %s/%s (%s), want %s/%s", typ, c.Status, c.Reason, c.Message, status, reason)
	case c.ObservedGeneration != sub.Generation:
		return fmt.Errorf("%s observed generation %d, object at %d", typ, c.ObservedGeneration, sub.Generation)
	}
	return nil
}

// deleted returns an error unless obj is gone or being deleted (a claim keeps
// its kubernetes.io/pvc-protection finalizer here: no controller removes it).
func deleted(obj client.Object) error {
	err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) || err == nil && !obj.GetDeletionTimestamp().IsZero() {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%T %s is not being deleted", obj, obj.GetName())
}

// absent returns an error unless obj does not exist.
func absent(obj client.Object) error {
	err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%T %s still exists", obj, obj.GetName())
}

// siteNS is the site namespace of sub (its account from the account
// namespace's name, as the tests create them).
func siteNS(cfg platform.Config, sub *v1.Subscription) string {
	return cfg.SiteNamespace(strings.TrimPrefix(sub.Namespace, cfg.NamespacePrefix), sub.Name)
}

// bindVolume provisions and binds a volume for a claim, as a provisioner
// would (none runs here), so that its pod can be scheduled and it can grow.
func bindVolume(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, wait, func() error {
		pvc := &corev1.PersistentVolumeClaim{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pvc); err != nil {
			return err
		}
		if pvc.Spec.VolumeName == "" {
			pv := &corev1.PersistentVolume{
				ObjectMeta: metav1.ObjectMeta{Name: "pv-" + ns + "-" + name},
				Spec: corev1.PersistentVolumeSpec{
					Capacity:                      pvc.Spec.Resources.Requests,
					AccessModes:                   pvc.Spec.AccessModes,
					StorageClassName:              ptr.Deref(pvc.Spec.StorageClassName, ""),
					PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
					ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: name, UID: pvc.UID},
					PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + name}},
				},
			}
			if err := env.Client.Create(ctx, pv); err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
			pv.Status.Phase = corev1.VolumeBound
			if err := env.Client.Status().Update(ctx, pv); err != nil {
				return err
			}
			pvc.Spec.VolumeName = pv.Name
			// What the scheduler takes as "bound" (the binder sets it).
			metav1.SetMetaDataAnnotation(&pvc.ObjectMeta, "pv.kubernetes.io/bind-completed", "yes")
			if err := env.Client.Update(ctx, pvc); err != nil {
				return err
			}
		}
		pvc.Status.Phase = corev1.ClaimBound
		pvc.Status.AccessModes = pvc.Spec.AccessModes
		pvc.Status.Capacity = pvc.Spec.Resources.Requests
		return env.Client.Status().Update(ctx, pvc)
	})
}

// hasEvent returns an error unless an Event with reason was recorded for obj.
func hasEvent(obj client.Object, reason string) error {
	n, err := eventsOf(obj, reason, "")
	if err == nil && n == 0 {
		err = fmt.Errorf("no %s event for %s", reason, obj.GetName())
	}
	return err
}

// countEvents is the number of Events with reason recorded for obj whose
// note contains note.
func countEvents(t *testing.T, obj client.Object, reason, note string) int {
	t.Helper()
	n, err := eventsOf(obj, reason, note)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func eventsOf(obj client.Object, reason, note string) (int, error) {
	var list eventsv1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(obj.GetNamespace())); err != nil {
		return 0, err
	}
	n := 0
	for _, e := range list.Items {
		if e.Regarding.Name == obj.GetName() && e.Reason == reason && strings.Contains(e.Note, note) {
			n++
		}
	}
	return n, nil
}
