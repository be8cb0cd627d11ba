package site

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// UnprivilegedPortStart is the sysctl below whose value binding a port
// needs CAP_NET_BIND_SERVICE (default 1024).
const UnprivilegedPortStart = "net.ipv4.ip_unprivileged_port_start"

// PodSecurityContext is the site pod's security context, within Pod
// Security "restricted": non-root, RuntimeDefault seccomp (the container
// also drops every capability). runAsUser (the template's, nil for the
// image's own user) is set as the pod's user and group and as the volume's
// group (fsGroup), so an image whose own user is root runs as that user and
// may write its data. A port below 1024 gets
// net.ipv4.ip_unprivileged_port_start=0, so the non-root user binds it with
// no capability: a namespaced sysctl (the pod's network namespace only), in
// the kubelet's safe set since Kubernetes 1.22 and allowed by Pod Security
// baseline and restricted at every version (k8s.io/pod-security-admission,
// policy/check_sysctls.go, sysctlsAllowedV1Dot0).
func PodSecurityContext(runAsUser *int64, port int32) *corev1.PodSecurityContext {
	sc := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if runAsUser != nil {
		sc.RunAsUser = ptr.To(*runAsUser)
		sc.RunAsGroup = ptr.To(*runAsUser)
		sc.FSGroup = ptr.To(*runAsUser)
	}
	if port < 1024 {
		sc.Sysctls = []corev1.Sysctl{{Name: UnprivilegedPortStart, Value: "0"}}
	}
	return sc
}
