package site

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

func q(s string) *resource.Quantity { return ptr.To(resource.MustParse(s)) }

var plan = &v1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "business"}, Spec: v1.PlanSpec{
	Limits: v1.Limits{Storage: q("20Gi"), CPU: q("1"), Memory: q("1Gi"), CustomDomains: ptr.To[int32](5)},
	AddOns: []v1.PlanAddOn{
		{Name: "extra-storage", Limits: v1.Limits{Storage: q("10Gi")}},
		{Name: "extra-domains", Limits: v1.Limits{CustomDomains: ptr.To[int32](5)}},
		{Name: "performance", Limits: v1.Limits{CPU: q("500m"), Memory: q("1Gi")}},
		{Name: "scratch", Limits: v1.Limits{EphemeralStorage: q("1Gi"), Objects: &v1.ObjectLimits{Pods: ptr.To[int32](5), Secrets: ptr.To[int32](10),
			Deployments: ptr.To[int32](2), CronJobs: ptr.To[int32](1)}}},
	},
}}

func TestEffectiveLimitsEphemeralAndObjects(t *testing.T) {
	l, err := EffectiveLimits(plan, []v1.AddOnRef{{Name: "scratch", Quantity: 2}})
	if err != nil {
		t.Fatal(err)
	}
	o := l.Objects
	if l.EphemeralStorage.Cmp(resource.MustParse("4Gi")) != 0 || *o.Pods != DefaultPods+10 || *o.Secrets != DefaultSecrets+20 ||
		*o.Services != DefaultServices || *o.ConfigMaps != DefaultConfigMaps || *o.PersistentVolumeClaims != DefaultPersistentVolumeClaims ||
		*o.Deployments != DefaultDeployments+4 || *o.CronJobs != DefaultCronJobs+2 ||
		*o.StatefulSets != DefaultStatefulSets || *o.Jobs != DefaultJobs || *o.NetworkPolicies != DefaultNetworkPolicies ||
		*o.CustomDomains != DefaultWaitingCustomDomains {
		t.Fatalf("ephemeral %v, objects %+v", l.EphemeralStorage, *o)
	}
	if plan.Spec.Limits.Objects != nil || plan.Spec.AddOns[3].Limits.Objects.Pods == nil || *plan.Spec.AddOns[3].Limits.Objects.Pods != 5 {
		t.Fatal("EffectiveLimits changed the plan")
	}
	zero, _ := EffectiveLimits(&v1.Plan{Spec: v1.PlanSpec{Limits: v1.Limits{Objects: &v1.ObjectLimits{Pods: ptr.To[int32](0)}}}}, nil)
	if *zero.Objects.Pods != 0 || *zero.Objects.Services != DefaultServices {
		t.Fatalf("an explicit 0 must stay 0 and the rest default: %+v", *zero.Objects)
	}
}

func TestEffectiveLimits(t *testing.T) {
	for _, c := range []struct {
		name              string
		plan              *v1.Plan
		addOns            []v1.AddOnRef
		storage, cpu, mem string
		domains           int32
		err               string
	}{
		{"plan only", plan, nil, "20Gi", "1", "1Gi", 5, ""},
		{"storage x2", plan, []v1.AddOnRef{{Name: "extra-storage", Quantity: 2}}, "40Gi", "1", "1Gi", 5, ""},
		{"domains and performance", plan, []v1.AddOnRef{{Name: "extra-domains", Quantity: 3}, {Name: "performance", Quantity: 1}}, "20Gi", "1500m", "2Gi", 20, ""},
		{"not offered", plan, []v1.AddOnRef{{Name: "gold"}}, "", "", "", 0, `does not offer the add-on "gold"`},
		{"defaults", &v1.Plan{}, nil, "1Gi", "500m", "512Mi", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := EffectiveLimits(c.plan, c.addOns)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || l.Storage.Cmp(resource.MustParse(c.storage)) != 0 || l.CPU.Cmp(resource.MustParse(c.cpu)) != 0 ||
				l.Memory.Cmp(resource.MustParse(c.mem)) != 0 || *l.CustomDomains != c.domains {
				t.Fatalf("got %v %v/%v/%v/%d", err, l.Storage, l.CPU, l.Memory, *l.CustomDomains)
			}
		})
	}
	if plan.Spec.Limits.Storage.Cmp(resource.MustParse("20Gi")) != 0 {
		t.Fatal("EffectiveLimits changed the plan")
	}
}

func TestOver(t *testing.T) {
	l := v1.Limits{Storage: q("10Gi"), CustomDomains: ptr.To[int32](1)}
	for _, c := range []struct {
		name string
		u    Usage
		want int
	}{
		{"within", Usage{Storage: q("10Gi"), CustomDomains: 1}, 0},
		{"no volume yet", Usage{}, 0},
		{"storage over", Usage{Storage: q("20Gi")}, 1},
		{"both over", Usage{Storage: q("20Gi"), CustomDomains: 2}, 2},
	} {
		if got := Over(l, c.u); len(got) != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}

func testSite(serving bool, kind platform.RouteKind) Site {
	cfg := platform.Default()
	cfg.RouteKind = kind
	limits, _ := EffectiveLimits(plan, nil)
	return Site{
		Config: cfg, Account: "acme", Namespace: "acct-acme--www", Serving: serving, Limits: limits,
		Subscription: &v1.Subscription{ObjectMeta: metav1.ObjectMeta{Name: "www", Namespace: "acct-acme", UID: "u1"}},
		Template: &v1.SiteTemplate{Spec: v1.SiteTemplateSpec{Image: "nginx:1", Port: 8080, DataPath: "/srv", ReadinessPath: "/healthz",
			Env: []v1.TemplateEnvVar{{Name: "A", Value: "b"}}}},
	}
}

func pvc(size string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}}}}
}

func TestVolume(t *testing.T) {
	for _, c := range []struct {
		name     string
		existing *corev1.PersistentVolumeClaim
		want     string
	}{
		{"new claim gets the plan's storage", nil, "20Gi"},
		{"grows", pvc("5Gi"), "20Gi"},
		{"never shrinks", pvc("50Gi"), "50Gi"},
	} {
		v := Volume(testSite(true, platform.RouteHTTPRoute), c.existing)
		if got := v.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse(c.want)) != 0 {
			t.Errorf("%s: %s, want %s", c.name, got.String(), c.want)
		}
		if v.Name != "www-data" || v.Namespace != "acct-acme--www" || len(v.OwnerReferences) != 0 || v.Labels[v1.SubscriptionLabel] != "www" || v.Labels[v1.AccountLabel] != "acme" {
			t.Errorf("%s: metadata %+v", c.name, v.ObjectMeta)
		}
	}
}

func TestDeployment(t *testing.T) {
	for _, c := range []struct {
		name     string
		serving  bool
		replicas int32
	}{{"serving", true, 1}, {"suspended", false, 0}} {
		d := Deployment(testSite(c.serving, platform.RouteHTTPRoute))
		check(t, c.name, d, c.replicas)
	}
}

func TestDeploymentRestartRequest(t *testing.T) {
	for _, c := range []struct {
		name, value string
		want        bool
	}{{"a time rolls the pods", "2030-01-02T03:04:05Z", true}, {"not a time: ignored", "now please", false}, {"none", "", false}} {
		s := testSite(true, platform.RouteHTTPRoute)
		if c.value != "" {
			s.Subscription.Annotations = map[string]string{v1.RestartRequestedAtAnnotation: c.value}
		}
		got, ok := Deployment(s).Spec.Template.Annotations[v1.RestartRequestedAtAnnotation]
		if ok != c.want || (ok && got != c.value) {
			t.Errorf("%s: pod template annotation %q (%v)", c.name, got, ok)
		}
	}
}

func check(t *testing.T, name string, d *appsv1.Deployment, replicas int32) {
	t.Helper()
	pod := d.Spec.Template.Spec
	ctr := pod.Containers[0]
	sc := ctr.SecurityContext
	switch {
	case *d.Spec.Replicas != replicas:
		t.Errorf("%s: replicas %d", name, *d.Spec.Replicas)
	case ctr.Image != "nginx:1" || ctr.Ports[0].ContainerPort != 8080 || ctr.Env[0].Name != "A":
		t.Errorf("%s: container %+v", name, ctr)
	case !ctr.Resources.Limits.Cpu().Equal(resource.MustParse("1")) || !ctr.Resources.Limits.Memory().Equal(resource.MustParse("1Gi")):
		t.Errorf("%s: limits %v", name, ctr.Resources.Limits)
	case !*pod.SecurityContext.RunAsNonRoot || !*sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation || sc.Capabilities.Drop[0] != "ALL" ||
		sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("%s: not restricted: %+v %+v", name, pod.SecurityContext, sc)
	case ctr.VolumeMounts[0].MountPath != "/srv" || pod.Volumes[0].PersistentVolumeClaim.ClaimName != "www-data":
		t.Errorf("%s: volume %+v %+v", name, ctr.VolumeMounts, pod.Volumes)
	case ctr.ReadinessProbe.HTTPGet.Path != "/healthz":
		t.Errorf("%s: probe %+v", name, ctr.ReadinessProbe)
	case d.Spec.Template.Labels[v1.SubscriptionLabel] != "www" || d.Spec.Selector.MatchLabels[v1.SubscriptionLabel] != "www":
		t.Errorf("%s: labels", name)
	}
}

func TestService(t *testing.T) {
	s := Service(testSite(true, platform.RouteHTTPRoute))
	if s.Name != "www" || s.Spec.Ports[0].Port != 80 || s.Spec.Ports[0].Name != "http" || s.Spec.Ports[0].TargetPort.StrVal != "http" || s.Spec.Selector[v1.SubscriptionLabel] != "www" {
		t.Fatalf("service %+v", s)
	}
}

func TestRoute(t *testing.T) {
	for _, c := range []struct {
		name    string
		serving bool
		kind    platform.RouteKind
		backend string
	}{
		{"httproute to the site", true, platform.RouteHTTPRoute, "/www"},
		{"httproute to the suspended page", false, platform.RouteHTTPRoute, "landlord-system/landlord-suspended-page"},
		{"ingress to the site", true, platform.RouteIngress, "www"},
		{"ingress to the suspended page", false, platform.RouteIngress, "landlord-suspended-page"},
	} {
		obj := Route(testSite(c.serving, c.kind))
		var got, host string
		switch r := obj.(type) {
		case *gatewayv1.HTTPRoute:
			ref := r.Spec.Rules[0].BackendRefs[0]
			ns := "" // the route's own
			if ref.Namespace != nil {
				ns = string(*ref.Namespace)
			}
			got, host = ns+"/"+string(ref.Name), string(r.Spec.Hostnames[0])
		case *networkingv1.Ingress:
			got, host = r.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name, r.Spec.Rules[0].Host
		}
		if got != c.backend || host != "www--acme.sites.landlord.localhost" || obj.GetName() != "www" || obj.GetNamespace() != "acct-acme--www" || len(obj.GetOwnerReferences()) != 0 {
			t.Errorf("%s: backend %s host %s", c.name, got, host)
		}
	}
}

func TestQuota(t *testing.T) {
	for _, c := range []struct {
		name              string
		serving           bool
		kind              platform.RouteKind
		limits            v1.Limits
		storage, cpu, mem string
		ephemeral         string
		// pods, services, secrets, configmaps, persistentvolumeclaims,
		// deployments, statefulsets, jobs, cronjobs, networkpolicies,
		// customdomains
		counts [11]int64
	}{
		{"serving: the site's own limits, default counts", true, platform.RouteHTTPRoute,
			v1.Limits{Storage: q("20Gi"), CPU: q("1"), Memory: q("1Gi")}, "20Gi", "1", "1Gi", "2Gi", [11]int64{11, 6, 20, 21, 3, 6, 2, 20, 5, 11, 10}},
		{"suspended: no compute, storage and counts kept", false, platform.RouteHTTPRoute,
			v1.Limits{Storage: q("20Gi"), CPU: q("1"), Memory: q("1Gi")}, "20Gi", "0", "0", "2Gi", [11]int64{11, 6, 20, 21, 3, 6, 2, 20, 5, 11, 10}},
		{"the plan's counts plus the site's own; Ingress adds the suspended page's Service", true, platform.RouteIngress,
			v1.Limits{Storage: q("5Gi"), CPU: q("1"), Memory: q("1Gi"), EphemeralStorage: q("1Gi"), Objects: &v1.ObjectLimits{
				Pods: ptr.To[int32](0), Services: ptr.To[int32](2), Secrets: ptr.To[int32](3), ConfigMaps: ptr.To[int32](4), PersistentVolumeClaims: ptr.To[int32](0),
				Deployments: ptr.To[int32](0), StatefulSets: ptr.To[int32](1), Jobs: ptr.To[int32](2), CronJobs: ptr.To[int32](3),
				NetworkPolicies: ptr.To[int32](0), CustomDomains: ptr.To[int32](4)}, CustomDomains: ptr.To[int32](3)},
			"5Gi", "1", "1Gi", "1Gi", [11]int64{1, 4, 3, 5, 1, 1, 1, 2, 3, 1, 7}},
	} {
		s := testSite(c.serving, c.kind)
		s.Limits = c.limits
		rq := Quota(s)
		h := rq.Spec.Hard
		want := map[corev1.ResourceName]string{
			corev1.ResourceRequestsStorage: c.storage,
			corev1.ResourceRequestsCPU:     c.cpu, corev1.ResourceLimitsCPU: c.cpu,
			corev1.ResourceRequestsMemory: c.mem, corev1.ResourceLimitsMemory: c.mem,
			corev1.ResourceRequestsEphemeralStorage: c.ephemeral, corev1.ResourceLimitsEphemeralStorage: c.ephemeral,
			corev1.ResourceServicesNodePorts: "0", corev1.ResourceServicesLoadBalancers: "0",
			corev1.ResourceReplicationControllers: "0", corev1.ResourceQuotas: "1",
		}
		for i, res := range []corev1.ResourceName{corev1.ResourcePods, corev1.ResourceServices, corev1.ResourceSecrets,
			corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims,
			platform.CountDeployments, platform.CountStatefulSets, platform.CountJobs, platform.CountCronJobs,
			platform.CountNetworkPolicies, platform.CountCustomDomains} {
			want[res] = resource.NewQuantity(c.counts[i], resource.DecimalSI).String()
		}
		for res, w := range want {
			if got, ok := h[res]; !ok || !got.Equal(resource.MustParse(w)) {
				t.Errorf("%s: %s = %v, want %s", c.name, res, h[res], w)
			}
		}
		if len(h) != len(want) {
			t.Errorf("%s: %d resources, want %d: %v", c.name, len(h), len(want), h)
		}
		if rq.Name != platform.QuotaName || rq.Namespace != "acct-acme--www" || rq.Labels[v1.SubscriptionLabel] != "www" || rq.Labels[v1.AccountLabel] != "acme" {
			t.Errorf("%s: metadata %+v", c.name, rq.ObjectMeta)
		}
	}
}

func TestNoComputeQuota(t *testing.T) {
	h := NoComputeQuota("acct-acme--www", "acme", "www").Spec.Hard
	for _, res := range []corev1.ResourceName{corev1.ResourceRequestsCPU, corev1.ResourceLimitsMemory,
		corev1.ResourceLimitsEphemeralStorage, corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers} {
		if got, ok := h[res]; !ok || !got.IsZero() {
			t.Errorf("%s = %v, want 0", res, h[res])
		}
	}
}

func TestSuspendedPlumbing(t *testing.T) {
	cfg := platform.Default()
	if rg, ok := SuspendedPlumbing(cfg, "acct-acme--www", "acme", "www").(*gatewayv1.ReferenceGrant); !ok || rg.Namespace != "landlord-system" ||
		string(rg.Spec.From[0].Namespace) != "acct-acme--www" || rg.Labels[v1.SubscriptionLabel] != "www" {
		t.Errorf("httproute mode: %+v", rg)
	}
	cfg.RouteKind = platform.RouteIngress
	if svc, ok := SuspendedPlumbing(cfg, "acct-acme--www", "acme", "www").(*corev1.Service); !ok || svc.Namespace != "acct-acme--www" || svc.Spec.Type != corev1.ServiceTypeExternalName {
		t.Errorf("ingress mode: %+v", svc)
	}
}
