package reliability_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// A tenant is one account with everything a customer has: a member, a site
// and a verified custom domain. Namespaced names are fixed; the account's is
// unique, so that tenants of different runs do not meet.
type tenant struct {
	// ns is the account namespace, site the site namespace.
	name, ns, site, host string
	account              *v1.Account
	paidThrough          time.Time
}

const (
	memberName = "dev"
	siteName   = "site"
	domainName = "www"
)

// newTenant creates, as a portal would, an Account, then (once its namespace
// exists) a Membership, a Subscription paid for 30 days from now and a
// primary CustomDomain whose TXT record is already published.
func newTenant(t testing.TB, prefix string, now time.Time) *tenant {
	t.Helper()
	fixtures(t)
	name := testenv.Name(prefix)
	tn := &tenant{name: name, ns: cfg.AccountNamespace(name), site: cfg.SiteNamespace(name, siteName), host: "www." + name + ".example", paidThrough: now.Add(30 * 24 * time.Hour)}
	tn.account = &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.AccountSpec{
		Owner:              v1.Subject{Kind: v1.SubjectUser, Name: "owner@" + name + ".example"},
		DeletionProtection: ptr.To(false),
	}}
	must(t, env.Client.Create(ctx, tn.account))
	dns.SetTXT(customdomain.RecordName(tn.host), customdomain.Token(string(tn.account.UID), tn.host))
	for _, obj := range []client.Object{
		&v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: memberName}, Spec: v1.MembershipSpec{
			Subject: v1.Subject{Kind: v1.SubjectUser, Name: "dev@" + name + ".example"}, Role: v1.RoleDeveloper}},
		&v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: siteName}, Spec: v1.SubscriptionSpec{
			Plan: planName, Site: v1.SiteSpec{Template: templateName},
			PaidThrough: &metav1.Time{Time: tn.paidThrough}, DeletionPolicy: v1.DeletionPolicyDelete}},
		&v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: tn.site, Name: domainName}, Spec: v1.CustomDomainSpec{
			Hostname: tn.host, Primary: true}},
	} {
		testenv.Eventually(t, wait, func() error { // the namespaces come first
			err := env.Client.Create(ctx, obj)
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		})
	}
	return tn
}

// Deadlines of the tenant's subscription.
func (tn *tenant) suspendAt() time.Time   { return tn.paidThrough.Add(grace) }
func (tn *tenant) terminateAt() time.Time { return tn.suspendAt().Add(retention) }

// remove deletes the tenant's account (everything goes with it) and waits
// until it and its namespace are gone.
func (tn *tenant) remove(t testing.TB) {
	t.Helper()
	if err := env.Client.Delete(ctx, &v1.Account{ObjectMeta: metav1.ObjectMeta{Name: tn.name}}); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		for _, obj := range []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.ns}}, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.site}},
			&v1.Account{ObjectMeta: metav1.ObjectMeta{Name: tn.name}}} {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
				b, _ := json.Marshal(obj)
				return fmt.Errorf("%T %s not gone yet (%v): %s", obj, obj.GetName(), err, b)
			}
		}
		return nil
	})
}

// discard deletes the tenant's objects by hand with no manager running:
// finalizers stripped, so that nothing is left for the next manager to do.
func (tn *tenant) discard(t testing.TB) {
	t.Helper()
	objs := []client.Object{
		&v1.CustomDomain{ObjectMeta: metav1.ObjectMeta{Namespace: tn.site, Name: domainName}},
		&v1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: siteName}},
		&v1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: memberName}},
		&v1.Account{ObjectMeta: metav1.ObjectMeta{Name: tn.name}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.site}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.ns}},
	}
	for _, obj := range objs {
		p := `{"metadata":{"finalizers":null}}`
		if _, ok := obj.(*v1.Subscription); ok { // confirm the deletion first
			p = `{"metadata":{"finalizers":null},"spec":{"deletionProtection":false}}`
		}
		err := env.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(p)))
		if client.IgnoreNotFound(err) != nil {
			t.Errorf("stripping the finalizers of %T %s: %v", obj, obj.GetName(), err)
		}
		if err := env.Client.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			t.Errorf("deleting %T %s: %v", obj, obj.GetName(), err)
		}
	}
}

func (tn *tenant) key(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: tn.ns, Name: name}
}

// siteKey is the key of a site object (the site namespace's).
func (tn *tenant) siteKey(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: tn.site, Name: name}
}

// ready returns an error unless obj's Ready condition is True for its
// current generation.
func ready(obj client.Object, conds []metav1.Condition) error {
	c := meta.FindStatusCondition(conds, v1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != obj.GetGeneration() {
		return fmt.Errorf("%T %s not ready: %+v", obj, obj.GetName(), c)
	}
	return nil
}

// provisioned: what the customer sees once everything is set up — the
// account, the membership and the site are Ready, and the domain is Active.
func (tn *tenant) provisioned() error {
	a := &v1.Account{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: tn.name}, a); err != nil {
		return err
	}
	if err := ready(a, a.Status.Conditions); err != nil {
		return err
	}
	m := &v1.Membership{}
	if err := env.Client.Get(ctx, tn.key(memberName), m); err != nil {
		return err
	}
	if err := ready(m, m.Status.Conditions); err != nil {
		return err
	}
	if err := tn.sitePhase(v1.PhaseActive); err != nil {
		return err
	}
	s := &v1.Subscription{}
	if err := env.Client.Get(ctx, tn.key(siteName), s); err != nil {
		return err
	}
	if err := ready(s, s.Status.Conditions); err != nil {
		return err
	}
	return tn.domainPhase(v1.DomainActive)
}

// sitePhase returns an error unless the subscription reports phase for its
// current generation.
func (tn *tenant) sitePhase(phase v1.SubscriptionPhase) error {
	s := &v1.Subscription{}
	if err := env.Client.Get(ctx, tn.key(siteName), s); err != nil {
		return err
	}
	if s.Status.Phase != phase || s.Status.ObservedGeneration != s.Generation {
		return fmt.Errorf("subscription phase %q (generation %d observed %d), want %s", s.Status.Phase, s.Generation, s.Status.ObservedGeneration, phase)
	}
	return nil
}

func (tn *tenant) domainPhase(phase v1.DomainPhase) error {
	d := &v1.CustomDomain{}
	if err := env.Client.Get(ctx, tn.siteKey(domainName), d); err != nil {
		return err
	}
	if d.Status.Phase != phase || d.Status.ObservedGeneration != d.Generation {
		return fmt.Errorf("domain phase %q, want %s: %v", d.Status.Phase, phase, d.Status.Conditions)
	}
	return nil
}

// replicas returns an error unless the site's Deployment asks for n replicas.
func (tn *tenant) replicas(n int32) error {
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, tn.siteKey(platform.SiteName(siteName)), d); err != nil {
		return err
	}
	if ptr.Deref(d.Spec.Replicas, 1) != n {
		return fmt.Errorf("site has %d replicas, want %d", ptr.Deref(d.Spec.Replicas, 1), n)
	}
	return nil
}

// volumeKept returns an error unless the site's volume exists and is not
// being deleted.
func (tn *tenant) volumeKept() error {
	pvc := &corev1.PersistentVolumeClaim{}
	if err := env.Client.Get(ctx, tn.siteKey(platform.SiteVolumeName(siteName)), pvc); err != nil {
		return fmt.Errorf("site volume: %w", err)
	}
	if !pvc.DeletionTimestamp.IsZero() {
		return errors.New("site volume is being deleted")
	}
	return nil
}

// gone returns an error unless obj does not exist.
func gone(obj client.Object) error {
	err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%T %s still exists", obj, obj.GetName())
}

// all returns the first error of checks.
func all(checks ...func() error) func() error {
	return func() error {
		for _, c := range checks {
			if err := c(); err != nil {
				return err
			}
		}
		return nil
	}
}

// guardVolume fails the test if the site volume starts being deleted before
// allow is called (the test calls it just before moving the clock past
// terminateAt). It watches the claim, so even a deletion a later reconcile
// would undo is seen.
func (tn *tenant) guardVolume(t testing.TB) (allow func(), stop func()) {
	t.Helper()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	must(t, err)
	wctx, cancel := context.WithCancel(ctx)
	allowed := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for wctx.Err() == nil {
			w, err := wc.Watch(wctx, &corev1.PersistentVolumeClaimList{}, client.InNamespace(tn.site))
			if err != nil {
				continue
			}
			for ev := range w.ResultChan() {
				pvc, ok := ev.Object.(*corev1.PersistentVolumeClaim)
				if !ok || pvc.Name != platform.SiteVolumeName(siteName) {
					continue
				}
				if ev.Type == watch.Deleted || !pvc.DeletionTimestamp.IsZero() {
					select {
					case <-allowed:
					default:
						t.Errorf("the site volume of %s was deleted before terminateAt", tn.name)
					}
				}
			}
			w.Stop()
		}
	}()
	var once bool
	return func() {
			if !once {
				once = true
				close(allowed)
			}
		}, func() {
			cancel()
			<-done
		}
}

// ---- snapshots ----

// listed are the kinds a snapshot holds: everything Landlord creates, listed
// in the account namespace whatever its labels (an unlabelled orphan counts
// too), plus the account's objects elsewhere, found by its label.
var listed = []struct {
	kind string
	list func() client.ObjectList
}{
	{"RoleBinding", func() client.ObjectList { return &rbacv1.RoleBindingList{} }},
	{"NetworkPolicy", func() client.ObjectList { return &networkingv1.NetworkPolicyList{} }},
	{"Ingress", func() client.ObjectList { return &networkingv1.IngressList{} }},
	{"LimitRange", func() client.ObjectList { return &corev1.LimitRangeList{} }},
	{"ResourceQuota", func() client.ObjectList { return &corev1.ResourceQuotaList{} }},
	{"Service", func() client.ObjectList { return &corev1.ServiceList{} }},
	{"PersistentVolumeClaim", func() client.ObjectList { return &corev1.PersistentVolumeClaimList{} }},
	{"Deployment", func() client.ObjectList { return &appsv1.DeploymentList{} }},
	{"CronJob", func() client.ObjectList { return &batchv1.CronJobList{} }},
	{"Job", func() client.ObjectList { return &batchv1.JobList{} }},
	{"HTTPRoute", func() client.ObjectList { return &gatewayv1.HTTPRouteList{} }},
	{"ReferenceGrant", func() client.ObjectList { return &gatewayv1.ReferenceGrantList{} }},
	{"Membership", func() client.ObjectList { return &v1.MembershipList{} }},
	{"Subscription", func() client.ObjectList { return &v1.SubscriptionList{} }},
	{"CustomDomain", func() client.ObjectList { return &v1.CustomDomainList{} }},
	{"DomainClaim", func() client.ObjectList { return &v1.DomainClaimList{} }},
	{"Account", func() client.ObjectList { return &v1.AccountList{} }},
	{"Namespace", func() client.ObjectList { return &corev1.NamespaceList{} }},
}

// snapshot is the tenant's state as a user would compare it: object key →
// normalised JSON.
type snapshot map[string]string

// snapshot reads every object of the tenant, normalised: server-set metadata
// (UIDs, resourceVersions, timestamps), the status of built-in kinds (the
// cluster's controllers write them) and condition transition times go; the
// account's name, UID and verification token become placeholders, so that
// tenants of different runs compare equal.
func (tn *tenant) snapshot() (snapshot, error) {
	a := &v1.Account{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: tn.name}, a); client.IgnoreNotFound(err) != nil {
		return nil, err
	}
	objs, err := tn.objects()
	if err != nil {
		return nil, err
	}
	out := snapshot{}
	for key, o := range objs {
		norm, err := normalise(o.kind, o.obj)
		if err != nil {
			return nil, err
		}
		out[tn.placeholders(key)] = tn.placeholders(norm)
	}
	return out, nil
}

// placeholders replaces in s the account's name, UID and verification
// token with placeholders, so that tenants of different runs compare equal.
func (tn *tenant) placeholders(s string) string {
	return strings.NewReplacer(
		customdomain.Token(string(tn.account.UID), tn.host), "<token>",
		string(tn.account.UID), "<account-uid>",
		tn.name, "<account>",
	).Replace(s)
}

type object struct {
	kind string
	obj  client.Object
}

// objects reads every object of the tenant, by "kind namespace/name".
func (tn *tenant) objects() (map[string]object, error) {
	out := map[string]object{}
	for _, l := range listed {
		list := l.list()
		if err := env.Client.List(ctx, list); err != nil {
			return nil, fmt.Errorf("listing %s: %w", l.kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			obj := item.(client.Object)
			if tn.holds(obj) {
				out[l.kind+" "+obj.GetNamespace()+"/"+obj.GetName()] = object{l.kind, obj}
			}
		}
	}
	return out, nil
}

// resourceVersions are the resourceVersions of the tenant's objects.
func (tn *tenant) resourceVersions() (map[string]string, error) {
	objs, err := tn.objects()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, o := range objs {
		out[k] = o.obj.GetResourceVersion()
	}
	return out, nil
}

// holds reports whether obj belongs to the tenant.
func (tn *tenant) holds(obj client.Object) bool {
	switch o := obj.(type) {
	case *corev1.Namespace:
		return o.Name == tn.ns || o.Name == tn.site
	case *v1.Account:
		return o.Name == tn.name
	case *v1.DomainClaim:
		return o.Labels[v1.AccountLabel] == tn.name || o.Spec.Namespace == tn.site || o.Name == tn.host
	}
	return obj.GetNamespace() == tn.ns || obj.GetNamespace() == tn.site || obj.GetLabels()[v1.AccountLabel] == tn.name
}

// annotations the cluster's own controllers set.
var clusterAnnotations = []string{"pv.kubernetes.io/", "volume.kubernetes.io/", "volume.beta.kubernetes.io/", "deployment.kubernetes.io/"}

func normalise(kind string, obj client.Object) (string, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "", err
	}
	md := map[string]any{"name": obj.GetName(), "namespace": obj.GetNamespace(), "labels": obj.GetLabels(), "finalizers": obj.GetFinalizers()}
	if !obj.GetDeletionTimestamp().IsZero() {
		md["deleting"] = true
	}
	ann := map[string]string{}
	for k, v := range obj.GetAnnotations() {
		if !slices.ContainsFunc(clusterAnnotations, func(p string) bool { return strings.HasPrefix(k, p) }) {
			ann[k] = v
		}
	}
	// The applied hash covers the tenant's own names and UIDs, which differ
	// from life to life; what it hashes is compared field by field anyway.
	if _, ok := ann[v1.AppliedAnnotation]; ok {
		ann[v1.AppliedAnnotation] = "<hash>"
	}
	md["annotations"] = ann
	var owners []string
	for _, o := range obj.GetOwnerReferences() {
		owners = append(owners, fmt.Sprintf("%s/%s controller=%v blockOwnerDeletion=%v", o.Kind, o.Name, ptr.Deref(o.Controller, false), ptr.Deref(o.BlockOwnerDeletion, false)))
	}
	sort.Strings(owners)
	md["owners"] = owners
	u["metadata"] = md
	// Typed lists of custom resources carry their type, typed Gets do not.
	delete(u, "apiVersion")
	delete(u, "kind")
	switch obj.(type) {
	case *v1.Account, *v1.Membership, *v1.Subscription, *v1.CustomDomain, *v1.DomainClaim:
		if st, ok := u["status"].(map[string]any); ok {
			if conds, ok := st["conditions"].([]any); ok {
				for _, c := range conds {
					delete(c.(map[string]any), "lastTransitionTime")
				}
			}
		}
	default:
		delete(u, "status")
	}
	if spec, ok := u["spec"].(map[string]any); ok {
		switch kind {
		case "Service":
			delete(spec, "clusterIP")
			delete(spec, "clusterIPs")
		case "PersistentVolumeClaim":
			delete(spec, "volumeName")
		}
	}
	b, err := json.MarshalIndent(u, "", " ")
	return string(b), err
}

// diff describes how got differs from want ("" when equal).
func diff(want, got snapshot) string {
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			fmt.Fprintf(&b, "missing %s\n", k)
		case !inWant:
			fmt.Fprintf(&b, "extra %s:\n%s\n", k, g)
		case w != g:
			fmt.Fprintf(&b, "differs %s:\n%s\n", k, lineDiff(w, g))
		}
	}
	return b.String()
}

// lineDiff lists the lines of want and got that the other lacks.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range wl {
		if !slices.Contains(gl, l) {
			fmt.Fprintf(&b, "  - %s\n", l)
		}
	}
	for _, l := range gl {
		if !slices.Contains(wl, l) {
			fmt.Fprintf(&b, "  + %s\n", l)
		}
	}
	return b.String()
}
