package customdomain

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// BuildClaim is the DomainClaim that locks host for the CustomDomain cd of
// account: named after the canonical hostname, owned by the Account, so the
// garbage collector releases it with the account.
func BuildClaim(host string, account *hostingv1alpha1.Account, cd *hostingv1alpha1.CustomDomain) *hostingv1alpha1.DomainClaim {
	return &hostingv1alpha1.DomainClaim{
		TypeMeta: metav1.TypeMeta{APIVersion: hostingv1alpha1.GroupVersion.String(), Kind: "DomainClaim"},
		ObjectMeta: metav1.ObjectMeta{
			Name:   host,
			Labels: platform.AccountLabels(account.Name),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: hostingv1alpha1.GroupVersion.String(),
				Kind:       "Account",
				Name:       account.Name,
				UID:        account.UID,
			}},
		},
		Spec: hostingv1alpha1.DomainClaimSpec{
			Hostname:     host,
			Account:      account.Name,
			AccountUID:   string(account.UID),
			Namespace:    cd.Namespace,
			CustomDomain: cd.Name,
		},
	}
}

// heldBy reports whether claim names the CustomDomain cd (of the account with
// accountUID, when given).
func heldBy(claim *hostingv1alpha1.DomainClaim, cd *hostingv1alpha1.CustomDomain, accountUID string) bool {
	return claim.Spec.Namespace == cd.Namespace && claim.Spec.CustomDomain == cd.Name &&
		(accountUID == "" || claim.Spec.AccountUID == accountUID)
}
