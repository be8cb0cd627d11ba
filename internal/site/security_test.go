package site

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/landlord-dev/landlord/internal/platform"
)

// The site pod's security context: the template's runAsUser as user, group
// and volume group; the unprivileged-port sysctl for a port below 1024; the
// rest of restricted unchanged.
func TestDeploymentSecurityContext(t *testing.T) {
	restricted := corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	with := func(f func(*corev1.PodSecurityContext)) corev1.PodSecurityContext {
		sc := *restricted.DeepCopy()
		f(&sc)
		return sc
	}
	as33 := func(sc *corev1.PodSecurityContext) {
		sc.RunAsUser, sc.RunAsGroup, sc.FSGroup = ptr.To[int64](33), ptr.To[int64](33), ptr.To[int64](33)
	}
	lowPort := func(sc *corev1.PodSecurityContext) {
		sc.Sysctls = []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}}
	}
	for _, c := range []struct {
		name      string
		runAsUser *int64
		port      int32
		want      corev1.PodSecurityContext
	}{
		{"no runAsUser, port 8080: unchanged", nil, 8080, restricted},
		{"runAsUser 33: user, group and fsGroup 33", ptr.To[int64](33), 8080, with(as33)},
		{"port 80: the sysctl", nil, 80, with(lowPort)},
		{"port 1023: the sysctl", nil, 1023, with(lowPort)},
		{"port 1024: none", nil, 1024, restricted},
		{"port unset (8080): none", nil, 0, restricted},
		{"WordPress: runAsUser 33 on port 80", ptr.To[int64](33), 80, with(func(sc *corev1.PodSecurityContext) { as33(sc); lowPort(sc) })},
	} {
		s := testSite(true, platform.RouteHTTPRoute)
		s.Template.Spec.RunAsUser, s.Template.Spec.Port = c.runAsUser, c.port
		d := Deployment(s)
		if got := *d.Spec.Template.Spec.SecurityContext; !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: pod security context %+v, want %+v", c.name, got, c.want)
		}
		if sc := d.Spec.Template.Spec.Containers[0].SecurityContext; sc.RunAsUser != nil || sc.Capabilities.Add != nil || sc.Capabilities.Drop[0] != "ALL" || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: container security context changed: %+v", c.name, sc)
		}
	}
}
