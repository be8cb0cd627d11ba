package customdomain

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// claimState is what the reconciler found about the hostname's DomainClaim.
type claimState int

const (
	claimNone      claimState = iota // not claimed (not eligible)
	claimHeld                        // this domain holds the claim
	claimElsewhere                   // another domain holds it
	claimOverCap                     // beyond the account's cap: nothing claimed
)

// certState is what the reconciler found about the certificate.
type certState int

const (
	certNone        certState = iota // not asked for yet (not routed)
	certDisabled                     // spec.tls.mode Disabled
	certUnavailable                  // the cert-manager API is not installed
	certPending                      // the Certificate exists, not ready
	certReady                        // the Certificate is ready
)

// observed is what one reconcile saw of the world; the status is computed
// from it alone by the pure functions below.
type observed struct {
	generation int64
	now        time.Time
	baseDomain string

	host      string
	hostErr   error
	platform  bool
	noAccount bool
	// noSite says why the namespace is no live site's ("" when it is one).
	noSite string
	// sub is the site's Subscription (nil when the namespace is no site's).
	sub         *hostingv1alpha1.Subscription
	claim       claimState
	claimMsg    string
	claimReason string // Claimed=False reason when not ClaimedElsewhere
	dns         dnsState
	deadline    time.Time
	lookupErr   error
	record      string
	siteWaiting bool // the subscription has no site to route to yet
	admitted    bool
	limit       int32
	inUse       int32
	routed      bool
	suspended   bool
	redirectTo  string
	// routesMissing: the Gateway API is not served, so no route was written.
	routesMissing bool
	cert          certState
	certMsg       string
	// err is a failure that stopped the reconcile; the other conditions are
	// then left as they were, only Ready says so.
	err error
}

// failed reports why the domain cannot be served at all, as a reason and a
// message, or "" when it can.
func (o *observed) failed() (reason, message string) {
	switch {
	case o.hostErr != nil:
		return hostingv1alpha1.ReasonInvalidHostname, o.hostErr.Error()
	case o.platform:
		return hostingv1alpha1.ReasonPlatformDomain, fmt.Sprintf("%s is under the platform's domain %s; sites already have a hostname there", o.host, o.baseDomain)
	case o.noAccount:
		return hostingv1alpha1.ReasonNoAccount, "the site's Account does not exist or is being deleted"
	case o.sub == nil:
		msg := o.noSite
		if msg == "" {
			msg = "the namespace is no site's namespace"
		}
		return hostingv1alpha1.ReasonNoSite, msg
	case o.sub.Status.Phase == hostingv1alpha1.PhaseTerminated:
		return hostingv1alpha1.ReasonTerminated, "the subscription was terminated; the hostname was released"
	}
	return "", ""
}

// Phase is the domain's phase from what was observed.
func (o *observed) Phase() hostingv1alpha1.DomainPhase {
	if r, _ := o.failed(); r != "" {
		return hostingv1alpha1.DomainFailed
	}
	switch {
	case o.claim == claimElsewhere:
		return hostingv1alpha1.DomainConflict
	case o.routed && o.dns == dnsLapsed:
		return hostingv1alpha1.DomainLapsed
	case o.routed:
		return hostingv1alpha1.DomainActive
	case o.dns == dnsVerified:
		return hostingv1alpha1.DomainVerified
	}
	return hostingv1alpha1.DomainPendingVerification
}

func cond(typ string, ok bool, reason, msg string) metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg}
}

func (o *observed) claimedCondition() metav1.Condition {
	if r, m := o.failed(); r != "" {
		return cond(hostingv1alpha1.ConditionClaimed, false, r, m)
	}
	switch o.claim {
	case claimHeld:
		return cond(hostingv1alpha1.ConditionClaimed, true, hostingv1alpha1.ReasonReconciled, fmt.Sprintf("this domain holds the claim on %s", o.host))
	case claimElsewhere:
		reason := hostingv1alpha1.ReasonClaimedElsewhere
		if o.claimReason != "" {
			reason = o.claimReason
		}
		return cond(hostingv1alpha1.ConditionClaimed, false, reason, o.claimMsg)
	case claimOverCap:
		return cond(hostingv1alpha1.ConditionClaimed, false, hostingv1alpha1.ReasonAccountDomainLimitReached, o.claimMsg)
	}
	return cond(hostingv1alpha1.ConditionClaimed, false, hostingv1alpha1.ReasonProgressing, "claiming the hostname")
}

// blocked is the Claimed condition's reason when the domain is not claimed.
func (o *observed) blocked() (reason, message string, ok bool) {
	c := o.claimedCondition()
	return c.Reason, c.Message, c.Status == metav1.ConditionTrue
}

func (o *observed) verifiedCondition() metav1.Condition {
	const t = hostingv1alpha1.ConditionVerified
	if r, m, ok := o.blocked(); !ok {
		return cond(t, false, r, m)
	}
	if o.lookupErr != nil {
		c := cond(t, o.dns == dnsVerified, hostingv1alpha1.ReasonLookupFailed, fmt.Sprintf("the DNS lookup of %s failed and is retried: %v", o.record, o.lookupErr))
		if o.dns != dnsVerified {
			c.Status = metav1.ConditionUnknown
		}
		return c
	}
	switch o.dns {
	case dnsVerified:
		return cond(t, true, hostingv1alpha1.ReasonReconciled, fmt.Sprintf("the TXT record %s holds this account's token", o.record))
	case dnsLapsed:
		return cond(t, false, hostingv1alpha1.ReasonLapsed, fmt.Sprintf("the TXT record %s is missing; the hostname stays routed until %s unless it returns", o.record, o.deadline.UTC().Format(time.RFC3339)))
	case dnsExpired:
		return cond(t, false, hostingv1alpha1.ReasonLapsed, fmt.Sprintf("the TXT record %s has been missing since before %s; the route was removed; add the record again (see status.instructions)", o.record, o.deadline.UTC().Format(time.RFC3339)))
	}
	return cond(t, false, hostingv1alpha1.ReasonRecordMissing, fmt.Sprintf("the TXT record %s was not found with this account's token; add the records in status.instructions", o.record))
}

func (o *observed) routedCondition() metav1.Condition {
	const t = hostingv1alpha1.ConditionRouted
	if r, m, ok := o.blocked(); !ok {
		return cond(t, false, r, m)
	}
	if o.routed {
		// The same whether the site serves or is suspended (the route then
		// shows the suspended page, and the Subscription says so): a
		// suspension costs no status write per domain.
		if o.redirectTo != "" {
			return cond(t, true, hostingv1alpha1.ReasonReconciled, fmt.Sprintf("%s redirects permanently to the primary domain %s (the suspended page while the site is suspended)", o.host, o.redirectTo))
		}
		return cond(t, true, hostingv1alpha1.ReasonReconciled, fmt.Sprintf("%s is routed to the site %s (the suspended page while the site is suspended)", o.host, o.sub.Name))
	}
	if o.routesMissing {
		return cond(t, false, hostingv1alpha1.ReasonGatewayAPIMissing,
			"the Gateway API CRDs (gateway.networking.k8s.io/v1 HTTPRoute) are not installed, so the hostname cannot be routed; "+
				"install them (make install-gateway-api, or the Gateway API standard-install manifest): Landlord routes it without a restart")
	}
	if !o.dns.routable() {
		v := o.verifiedCondition()
		return cond(t, false, v.Reason, "the hostname is routed once its TXT record is verified")
	}
	if o.siteWaiting {
		return cond(t, false, hostingv1alpha1.ReasonProgressing, "waiting for the subscription's site to be provisioned")
	}
	if !o.admitted {
		return cond(t, false, hostingv1alpha1.ReasonDomainLimitReached, fmt.Sprintf("the plan allows %d custom domains for this site and %d are in use", o.limit, o.inUse))
	}
	return cond(t, false, hostingv1alpha1.ReasonProgressing, "routing the hostname")
}

func (o *observed) certificateCondition() metav1.Condition {
	const t = hostingv1alpha1.ConditionCertificateReady
	switch o.cert {
	case certDisabled:
		return cond(t, false, hostingv1alpha1.ReasonTLSDisabled, "spec.tls.mode is Disabled")
	case certUnavailable:
		return cond(t, false, hostingv1alpha1.ReasonCertManagerMissing, "TLS is not available: the cert-manager API (cert-manager.io/v1 Certificate) is not installed in the cluster")
	case certReady:
		return cond(t, true, hostingv1alpha1.ReasonReconciled, "the certificate is issued")
	case certPending:
		return cond(t, false, hostingv1alpha1.ReasonProgressing, "cert-manager is issuing the certificate: "+o.certMsg)
	}
	return cond(t, false, hostingv1alpha1.ReasonProgressing, "a certificate is requested once the hostname is routed")
}

// readyCondition summarises: Ready when the hostname is routed and TLS is as
// good as the platform and the spec allow (issued, disabled, or unavailable
// because cert-manager is not installed).
func (o *observed) readyCondition(routed, cert metav1.Condition) metav1.Condition {
	const t = hostingv1alpha1.ConditionReady
	if routed.Status != metav1.ConditionTrue {
		return cond(t, false, routed.Reason, routed.Message)
	}
	if o.cert == certPending || o.cert == certNone {
		return cond(t, false, cert.Reason, cert.Message)
	}
	if o.dns == dnsLapsed {
		v := o.verifiedCondition()
		return cond(t, false, v.Reason, v.Message)
	}
	return cond(t, true, hostingv1alpha1.ReasonReconciled, routed.Message)
}

// SetStatus writes the status computed from o into st.
func (o *observed) SetStatus(st *hostingv1alpha1.CustomDomainStatus) {
	if o.host != "" {
		st.Hostname = o.host
	}
	set := func(c metav1.Condition) {
		c.ObservedGeneration = o.generation
		meta.SetStatusCondition(&st.Conditions, c)
	}
	if o.err != nil {
		return // the kernel's patch helper says on Ready why the reconcile failed
	}
	st.Phase = o.Phase()
	if o.claim != claimHeld {
		st.Verification = hostingv1alpha1.Verification{}
		st.Instructions = ""
	}
	routed, cert := o.routedCondition(), o.certificateCondition()
	set(o.claimedCondition())
	set(o.verifiedCondition())
	set(routed)
	set(cert)
	set(o.readyCondition(routed, cert))
}
