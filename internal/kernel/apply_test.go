package kernel_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/applyutil"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/routing"
	"github.com/landlord-dev/landlord/internal/site"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// droppedFieldCases are children whose desired form loses a field Landlord
// used to set: the applier must apply them again (so that server-side apply
// removes the field), and must leave the earlier form alone.
func droppedFieldCases() []struct {
	name        string
	before, now client.Object
	// gone reports whether the field is absent from a live object.
	gone func(client.Object) bool
} {
	ingress := platform.Default()
	ingress.RouteKind = platform.RouteIngress
	route := routing.Route{Name: "cd-www", Namespace: "acct-a", Hostnames: []string{"www.example.com"}, Backend: routing.SiteBackend("www")}
	redirecting, tls := route, route
	redirecting.RedirectTo = "example.com"
	tls.TLSSecretName = "cd-www-tls"

	sub := &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Name: "www", Namespace: "acct-a", UID: "u1"}}
	withEnv := &v1.SiteTemplate{ObjectMeta: metav1.ObjectMeta{Name: "t"}, Spec: v1.SiteTemplateSpec{
		Image: "nginx:1", Port: 8080, DataPath: "/data", Env: []v1.TemplateEnvVar{{Name: "MODE", Value: "prod"}}}}
	noEnv := withEnv.DeepCopy()
	noEnv.Spec.Env = nil
	limits := v1.Limits{Storage: ptr.To(resource.MustParse("1Gi")), CPU: ptr.To(resource.MustParse("500m")), Memory: ptr.To(resource.MustParse("256Mi"))}
	deployment := func(tmpl *v1.SiteTemplate) client.Object {
		return site.Deployment(site.Site{Config: platform.Default(), Account: "a", Subscription: sub, Template: tmpl, Limits: limits, Serving: true})
	}
	return []struct {
		name        string
		before, now client.Object
		gone        func(client.Object) bool
	}{
		{"the redirect annotation after a domain stops redirecting", routing.Build(ingress, redirecting), routing.Build(ingress, route),
			func(o client.Object) bool {
				for k := range o.GetAnnotations() {
					if k != v1.AppliedAnnotation {
						return false
					}
				}
				return true
			}},
		{"spec.tls after TLS is disabled", routing.Build(ingress, tls), routing.Build(ingress, route),
			func(o client.Object) bool { return len(o.(*networkingv1.Ingress).Spec.TLS) == 0 }},
		{"an emptied template env", deployment(withEnv), deployment(noEnv),
			func(o client.Object) bool {
				return len(o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Env) == 0
			}},
	}
}

// stored is the object as the API server keeps it after Landlord applied
// desired: the apply patch, read back as the typed kind.
func stored(t *testing.T, desired client.Object) client.Object {
	t.Helper()
	u, err := kernel.ApplyForm(testenv.Scheme(), desired)
	if err != nil {
		t.Fatal(err)
	}
	out := desired.DeepCopyObject().(client.Object)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApplyFormRemovesDroppedFields(t *testing.T) {
	for _, tc := range droppedFieldCases() {
		live := stored(t, tc.before)
		if tc.gone(live) {
			t.Fatalf("%s: the earlier form lacks the field; the case tests nothing", tc.name)
		}
		same, err := kernel.ApplyForm(testenv.Scheme(), tc.before)
		if err != nil {
			t.Fatal(err)
		}
		if !applyutil.Holds(live, same) {
			t.Errorf("%s: the unchanged desired object would be applied again (a write for nothing)", tc.name)
		}
		now, err := kernel.ApplyForm(testenv.Scheme(), tc.now)
		if err != nil {
			t.Fatal(err)
		}
		if applyutil.Holds(live, now) {
			t.Errorf("%s: the object is not applied again, so the dropped field would stay", tc.name)
		}
	}
}

func TestApplyFormHash(t *testing.T) {
	svc := func(port int32) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "n"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: port}}}}
	}
	a, _ := kernel.ApplyForm(testenv.Scheme(), svc(80))
	b, _ := kernel.ApplyForm(testenv.Scheme(), svc(80))
	c, _ := kernel.ApplyForm(testenv.Scheme(), svc(81))
	ha, hb, hc := a.GetAnnotations()[v1.AppliedAnnotation], b.GetAnnotations()[v1.AppliedAnnotation], c.GetAnnotations()[v1.AppliedAnnotation]
	if ha == "" || ha != hb || ha == hc {
		t.Errorf("hashes: same desired %q and %q, other desired %q", ha, hb, hc)
	}
	if a.GetKind() != "Service" || a.GetAPIVersion() != "v1" {
		t.Errorf("apply form of a typed object without TypeMeta: kind %q apiVersion %q", a.GetKind(), a.GetAPIVersion())
	}
	// Re-hashing an object that already carries a hash gives the same hash.
	again := svc(80)
	again.Annotations = map[string]string{v1.AppliedAnnotation: ha}
	d, _ := kernel.ApplyForm(testenv.Scheme(), again)
	if d.GetAnnotations()[v1.AppliedAnnotation] != ha {
		t.Errorf("the hash depends on an earlier hash")
	}
}
