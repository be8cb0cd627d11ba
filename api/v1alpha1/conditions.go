package v1alpha1

// Condition types. Every kind has Ready, the summary a person or a GitOps tool
// looks at first; the others explain it.
const (
	// ConditionReady summarises the object: True when everything it asks for is in place.
	ConditionReady = "Ready"

	// ConditionNamespaceReady (Account): the account namespace and its guard
	// rails (NetworkPolicy, LimitRange, Pod Security labels) are in place.
	ConditionNamespaceReady = "NamespaceReady"

	// ConditionSuspended (Account, Subscription): True while suspended.
	ConditionSuspended = "Suspended"

	// ConditionSiteReady (Subscription): the site's Deployment is available.
	ConditionSiteReady = "SiteReady"
	// ConditionLimitsApplied (Subscription): the plan's limits are applied to
	// the site and the namespace quota.
	ConditionLimitsApplied = "LimitsApplied"
	// ConditionRenewalDue (Subscription): paidThrough is within renewalNotice, or past.
	ConditionRenewalDue = "RenewalDue"
	// ConditionOverQuota (Subscription): current use exceeds the limits (after a downgrade).
	ConditionOverQuota = "OverQuota"

	// ConditionClaimed (CustomDomain): this domain holds the hostname's DomainClaim.
	ConditionClaimed = "Claimed"
	// ConditionVerified (CustomDomain): the TXT record proves control of the hostname.
	ConditionVerified = "Verified"
	// ConditionRouted (CustomDomain): the hostname is routed to the site.
	ConditionRouted = "Routed"
	// ConditionCertificateReady (CustomDomain): the TLS certificate is issued.
	ConditionCertificateReady = "CertificateReady"
)

// Condition reasons shared by several kinds.
const (
	// ReasonReconciled: everything asked for is in place.
	ReasonReconciled = "Reconciled"
	// ReasonProgressing: Landlord is creating or waiting for something.
	ReasonProgressing = "Progressing"
	// ReasonNoAccount: the namespace belongs to no Account.
	ReasonNoAccount = "NoAccount"
	// ReasonSiteNamespaceTaken: a namespace with the site namespace's name
	// exists and is not labelled for this site; it is never adopted.
	ReasonSiteNamespaceTaken = "SiteNamespaceTaken"
	// ReasonSiteObjectTaken: an object under one of the site's names (its
	// Deployment, Service, volume claim or default route) exists in the site
	// namespace and was not made by Landlord for this site; it is never
	// adopted, and no site object is applied until it is gone (SiteReady
	// and Ready say which).
	ReasonSiteObjectTaken = "SiteObjectTaken"
	// ReasonNoSite: the object's namespace is no site namespace.
	ReasonNoSite = "NoSite"
	// ReasonAccountSuspended: the account is suspended.
	ReasonAccountSuspended = "AccountSuspended"
	// ReasonDeleting: the object is being deleted.
	ReasonDeleting = "Deleting"
)

// Account reasons.
const (
	// ReasonNamespaceNotOwned: a namespace of that name exists without the account label.
	ReasonNamespaceNotOwned = "NamespaceNotOwned"
	// ReasonNamespaceTerminating: the account namespace is being deleted; it is
	// re-created once it is gone (or, for a deleted account, the account goes).
	ReasonNamespaceTerminating = "NamespaceTerminating"
	// ReasonNotSuspended (Suspended=False): the account or subscription is not
	// suspended. While it is, the Suspended condition's reason is the
	// suspension reason (NonPayment, Manual, Fraud, Abuse).
	ReasonNotSuspended = "NotSuspended"
)

// Membership reasons.
const (
	// ReasonExpired: spec.expiresAt has passed; the binding is removed.
	ReasonExpired = "Expired"
	// ReasonDuplicateSubject: another Membership of this account names the same subject.
	ReasonDuplicateSubject = "DuplicateSubject"
	// ReasonNotSupportGroup: a Support membership names another subject
	// than the provider's support group (--support-group); it grants nothing.
	ReasonNotSupportGroup = "NotSupportGroup"
	// ReasonSupportTooLong: a Support membership's expiresAt is further from
	// now than --support-max-duration; it grants nothing.
	ReasonSupportTooLong = "SupportTooLong"
)

// Subscription reasons.
const (
	// ReasonPlanNotFound: spec.plan names no Plan.
	ReasonPlanNotFound = "PlanNotFound"
	// ReasonTemplateNotFound: spec.site.template names no SiteTemplate.
	ReasonTemplateNotFound = "TemplateNotFound"
	// ReasonTemplateNotAllowed: the plan does not allow the template.
	ReasonTemplateNotAllowed = "TemplateNotAllowed"
	// ReasonAddOnNotOffered: spec.addOns names an add-on the plan does not offer.
	ReasonAddOnNotOffered = "AddOnNotOffered"
	// ReasonTerminated: the subscription was terminated; it is final.
	ReasonTerminated = "Terminated"
	// ReasonOverQuota: use exceeds the limits; nothing was deleted, nothing may grow.
	ReasonOverQuota = "OverQuota"
	// ReasonWithinLimits: use is within the limits.
	ReasonWithinLimits = "WithinLimits"
	// ReasonRenewalDue: paidThrough is near or past.
	ReasonRenewalDue = "RenewalDue"
	// ReasonNotDue: paidThrough is further away than renewalNotice.
	ReasonNotDue = "NotDue"
	// ReasonCancelled: cancelAtPeriodEnd and the period has ended.
	ReasonCancelled = "Cancelled"
	// ReasonScaledDown: the site is scaled to zero while suspended or cancelled.
	ReasonScaledDown = "ScaledDown"
	// Suspended also takes the suspension reasons (NonPayment, Manual, Fraud,
	// Abuse) and AccountSuspended as its reason.
)

// CustomDomain reasons.
const (
	// ReasonInvalidHostname: spec.hostname does not normalise to a valid hostname.
	ReasonInvalidHostname = "InvalidHostname"
	// ReasonPlatformDomain: the hostname is under the platform's own base domain.
	ReasonPlatformDomain = "PlatformDomain"
	// ReasonClaimedElsewhere: another CustomDomain holds the hostname.
	ReasonClaimedElsewhere = "ClaimedElsewhere"
	// ReasonRecordMissing: the TXT record was not found or holds another value.
	ReasonRecordMissing = "RecordMissing"
	// ReasonLookupFailed: the DNS lookup failed; it is retried with backoff.
	ReasonLookupFailed = "LookupFailed"
	// ReasonDomainLimitReached: the plan's customDomains limit is used up.
	ReasonDomainLimitReached = "DomainLimitReached"
	// ReasonLapsed: the record disappeared; the route is removed after the grace.
	ReasonLapsed = "Lapsed"
	// ReasonCertManagerMissing: TLS Auto but the cert-manager API is not installed.
	ReasonCertManagerMissing = "CertManagerMissing"
	// ReasonTLSDisabled: spec.tls.mode is Disabled.
	ReasonTLSDisabled = "TLSDisabled"
)

// More CustomDomain reasons.
const (
	// ReasonClaimExpired (Claimed=False): this domain's claim was not verified
	// within the claim TTL (--domain-claim-ttl) and another account's domain
	// waiting for the hostname took it.
	ReasonClaimExpired = "ClaimExpired"
	// ReasonAccountDomainLimitReached (Claimed=False): the account has more
	// CustomDomains than the sum of its sites' customDomains limits plus the
	// allowance for pending ones; the newest claim nothing.
	ReasonAccountDomainLimitReached = "AccountDomainLimitReached"
)

// Conditions and reasons every kind may carry.
const (
	// ConditionPaused: True while the object carries PausedAnnotation "true";
	// Landlord then writes nothing to it or its children.
	ConditionPaused = "Paused"
	// ReasonPaused: the object is paused (PausedAnnotation).
	ReasonPaused = "Paused"
	// ReasonNotPaused (Paused=False): the object is reconciled as usual.
	ReasonNotPaused = "NotPaused"
	// ReasonReconcileError (Ready=False): the last reconcile failed; the
	// message is the error. It is retried with backoff.
	ReasonReconcileError = "ReconcileError"
	// ReasonGatewayAPIMissing: routes cannot be written because the Gateway
	// API CRDs are not installed; they are written once they are.
	ReasonGatewayAPIMissing = "GatewayAPIMissing"
)
