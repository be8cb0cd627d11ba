package customdomain

import (
	"strings"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// subscriptionOf is a stop-gap until the controller resolves the site from
// its namespace (issue-11-cd): the part after "--" of the namespace.
func subscriptionOf(cd *hostingv1alpha1.CustomDomain) string {
	_, sub, _ := strings.Cut(cd.Namespace, "--")
	return sub
}
