package customdomain

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// cert-manager's Certificate, used without importing cert-manager.
const (
	certGroup   = "cert-manager.io"
	certVersion = "v1"
	certKind    = "Certificate"
)

// CertificateName names a domain's Certificate; CertificateSecretName its Secret.
func CertificateName(cd *hostingv1alpha1.CustomDomain) string {
	return platform.DomainRouteName(cd.Name)
}

// CertificateSecretName is the Secret cert-manager writes the certificate to.
func CertificateSecretName(cd *hostingv1alpha1.CustomDomain) string {
	return platform.DomainRouteName(cd.Name) + "-tls"
}

// tlsAuto reports whether the domain asks for a certificate.
func tlsAuto(cd *hostingv1alpha1.CustomDomain) bool {
	return cd.Spec.TLS == nil || cd.Spec.TLS.Mode == "" || cd.Spec.TLS.Mode == hostingv1alpha1.TLSAuto
}

// BuildCertificate is the cert-manager Certificate for a routed domain with
// TLS Auto, issued by the configured issuer, controlled by the CustomDomain.
func BuildCertificate(cfg platform.Config, cd *hostingv1alpha1.CustomDomain, host, account, subscription string) *unstructured.Unstructured {
	u := emptyCertificate(cd)
	labels := map[string]any{}
	for k, v := range platform.SiteLabels(account, subscription) {
		labels[k] = v
	}
	_ = unstructured.SetNestedMap(u.Object, labels, "metadata", "labels")
	ref := ownerRef(cd)
	u.SetOwnerReferences([]metav1.OwnerReference{ref})
	u.Object["spec"] = map[string]any{
		"secretName": CertificateSecretName(cd),
		"dnsNames":   []any{host},
		"issuerRef": map[string]any{
			"group": certGroup,
			"kind":  cfg.CertIssuerKind,
			"name":  cfg.CertIssuerName,
		},
	}
	return u
}

func emptyCertificate(cd *hostingv1alpha1.CustomDomain) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(certGroup + "/" + certVersion)
	u.SetKind(certKind)
	u.SetName(CertificateName(cd))
	u.SetNamespace(cd.Namespace)
	return u
}

// certificateReady reads a Certificate's Ready condition.
func certificateReady(u *unstructured.Unstructured) (ready bool, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		msg, _ := m["message"].(string)
		return m["status"] == "True", msg
	}
	return false, "cert-manager has not reported on the certificate yet"
}
