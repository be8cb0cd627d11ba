package reliability_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// Stripped finalizers come back: without them a deleted Account,
// Subscription or CustomDomain would skip its clean-up.
func TestStrippedFinalizersComeBack(t *testing.T) {
	h := newHarness(t)
	h.manager(0, "")
	tn := h.tenant("fin")
	objs := []client.Object{
		&v1.Account{ObjectMeta: metav1.ObjectMeta{Name: tn.name}},
		&v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: siteName}},
		&v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: tn.site, Name: domainName}},
	}
	for _, obj := range objs {
		must(t, env.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))))
	}
	for _, obj := range objs {
		testenv.Eventually(t, wait, func() error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
			if !slices.Contains(obj.GetFinalizers(), v1.Finalizer) {
				return fmt.Errorf("%T %s has finalizers %v", obj, obj.GetName(), obj.GetFinalizers())
			}
			return nil
		})
	}
}

// A drift is a hand change to an object Landlord owns, of a field it sets.
type drift struct {
	name   string
	obj    func() client.Object
	change func(client.Object)
}

func drifts(tn *tenant) []drift {
	key := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: tn.ns, Name: name} }
	siteKey := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: tn.site, Name: name} }
	intruder := func(o client.Object) { o.(*rbacv1.RoleBinding).Subjects[0].Name = "intruder@example.com" }
	evilHost := func(o client.Object) { o.(*gatewayv1.HTTPRoute).Spec.Hostnames = []gatewayv1.Hostname{"evil.example"} }
	return []drift{
		{"owner RoleBinding", func() client.Object { return &rbacv1.RoleBinding{ObjectMeta: key(platform.OwnerBindingName)} }, intruder},
		{"member RoleBinding", func() client.Object {
			return &rbacv1.RoleBinding{ObjectMeta: key(platform.MembershipBindingName(memberName))}
		}, intruder},
		{"NetworkPolicy", func() client.Object { return &networkingv1.NetworkPolicy{ObjectMeta: key(platform.NetworkPolicyName)} },
			func(o client.Object) {
				o.(*networkingv1.NetworkPolicy).Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
			}}, // allow all
		{"site owner RoleBinding", func() client.Object { return &rbacv1.RoleBinding{ObjectMeta: siteKey(platform.OwnerBindingName)} }, intruder},
		{"site NetworkPolicy", func() client.Object {
			return &networkingv1.NetworkPolicy{ObjectMeta: siteKey(platform.NetworkPolicyName)}
		},
			func(o client.Object) {
				o.(*networkingv1.NetworkPolicy).Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
			}}, // allow all
		{"ResourceQuota", func() client.Object { return &corev1.ResourceQuota{ObjectMeta: siteKey(platform.QuotaName)} },
			func(o client.Object) {
				for k := range o.(*corev1.ResourceQuota).Spec.Hard {
					o.(*corev1.ResourceQuota).Spec.Hard[k] = resource.MustParse("1000")
				}
			}},
		{"site route", func() client.Object { return &gatewayv1.HTTPRoute{ObjectMeta: siteKey(platform.SiteName(siteName))} }, evilHost},
		{"domain route", func() client.Object {
			return &gatewayv1.HTTPRoute{ObjectMeta: siteKey(platform.DomainRouteName(domainName))}
		}, evilHost},
		{"Deployment", func() client.Object { return &appsv1.Deployment{ObjectMeta: siteKey(platform.SiteName(siteName))} },
			func(o client.Object) {
				d := o.(*appsv1.Deployment)
				d.Spec.Template.Spec.Containers[0].Image = "evil:latest"
				d.Spec.Replicas = ptr.To[int32](5)
			}},
	}
}

// Drift: a writer changes the tenant's RoleBindings, NetworkPolicy,
// ResourceQuota, routes and Deployment every 100 ms for 10 s, each one again
// as soon as Landlord has put it back. Every change is corrected (each
// object goes through several change-and-correction rounds), afterwards the
// tenant is exactly as before, and the reconcile errors stay below one per
// change: no error loop.
func TestDriftIsCorrected(t *testing.T) {
	h := newHarness(t)
	h.manager(0, "")
	tn := h.tenant("drift")
	settled(t, tn)
	want, err := tn.snapshot()
	must(t, err)
	// desired: obj is as in the settled snapshot.
	desired := func(obj client.Object) (bool, error) {
		kind := reflect.TypeOf(obj).Elem().Name()
		norm, err := normalise(kind, obj)
		if err != nil {
			return false, err
		}
		return tn.placeholders(norm) == want[tn.placeholders(kind+" "+obj.GetNamespace()+"/"+obj.GetName())], nil
	}

	errorsBefore := metricSum(t, reconcileErrorsMetric)
	rounds := make([]int, len(drifts(tn)))
	var mu sync.Mutex
	var writerErr error
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-dctx.Done():
				return
			case <-tick.C:
			}
			for i, d := range drifts(tn) {
				obj := d.obj()
				if err := env.Client.Get(dctx, client.ObjectKeyFromObject(obj), obj); err != nil {
					continue // being re-created
				}
				ok, err := desired(obj)
				if err != nil {
					mu.Lock()
					writerErr = err
					mu.Unlock()
					return
				}
				if !ok {
					continue // not corrected yet
				}
				d.change(obj)
				err = env.Client.Update(dctx, obj, client.FieldOwner("intruder"))
				if err == nil {
					mu.Lock()
					rounds[i]++
					mu.Unlock()
				}
			}
		}
	}()
	wg.Wait()
	must(t, writerErr)

	// Every object is back as it was, and stays so.
	testenv.Eventually(t, wait, func() error {
		got, err := tn.snapshot()
		if err != nil {
			return err
		}
		if d := diff(want, got); d != "" {
			return fmt.Errorf("not back to desired:\n%s", d)
		}
		return nil
	})
	changes := 0
	for i, d := range drifts(tn) {
		changes += rounds[i]
		// Landlord corrects in milliseconds: in 10 s each object is changed
		// (and so was corrected) many times. One round would mean the first
		// change was never corrected while the writer ran.
		if rounds[i] < 2 {
			t.Errorf("%s: changed %d times in 10 s; each change must be corrected before the next", d.name, rounds[i])
		}
	}
	errs := metricSum(t, reconcileErrorsMetric) - errorsBefore
	t.Logf("%d changes (by object %v), %v reconcile errors", changes, rounds, errs)
	if errs > float64(changes) {
		t.Errorf("%v reconcile errors for %d changes: an error loop", errs, changes)
	}
	settledErrs := metricSum(t, reconcileErrorsMetric)
	testenv.Consistently(t, 3*time.Second, func() error {
		if n := metricSum(t, reconcileErrorsMetric) - settledErrs; n != 0 {
			return fmt.Errorf("%v reconcile errors after the drift stopped", n)
		}
		return nil
	})
}
