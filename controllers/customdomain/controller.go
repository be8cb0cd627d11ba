// Package customdomain is the CustomDomain controller: it normalises the
// hostname, claims it atomically with a cluster-scoped DomainClaim, verifies
// control in DNS, applies the plan gate, routes the hostname to the site (or
// redirects it to the site's primary domain) and requests its certificate,
// then re-verifies periodically.
package customdomain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/hostname"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/metrics"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/resolver"
)

// Reconciler reconciles CustomDomains.
type Reconciler struct {
	client.Client
	// APIReader reads uncached, where a decision must see the latest writes
	// (the claim that won, the site's other domains for the plan gate).
	APIReader client.Reader
	Config    platform.Config
	Clock     clock.Clock
	Resolver  resolver.Resolver
	Recorder  events.EventRecorder
	// APIs says whether the Gateway API and cert-manager's API are served
	// now (both may be installed after Landlord starts); nil: both are.
	APIs kernel.APIs
	// Optional caches the kinds of those APIs (HTTPRoute, Certificate),
	// Landlord's objects only.
	Optional cache.Cache
}

// routesServed reports whether the kind of route Landlord writes is served.
func (r *Reconciler) routesServed() bool {
	return r.Config.RouteKind == platform.RouteIngress || r.APIs == nil || r.APIs.Served(HTTPRouteGVK)
}

// certManagerServed reports whether cert-manager's Certificate is served.
func (r *Reconciler) certManagerServed() bool {
	return r.APIs == nil || r.APIs.Served(CertificateGVK)
}

// routeReader is where routes are read from.
func (r *Reconciler) routeReader() client.Reader {
	if r.Config.RouteKind == platform.RouteIngress || r.Optional == nil {
		return r.Client
	}
	return r.Optional
}

// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=customdomains,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=customdomains/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=customdomains/finalizers,verbs=update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=domainclaims,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=accounts;subscriptions;plans,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=listenersets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cert-manager.io,resources=certificates,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// scope is one reconcile of one CustomDomain.
type scope struct {
	cd      *hostingv1alpha1.CustomDomain
	log     logr.Logger
	account *hostingv1alpha1.Account
	// siblings are the CustomDomains of the same site, self included.
	siblings []hostingv1alpha1.CustomDomain
	obs      observed
	// gone: the domain is being deleted.
	gone bool
}

// Stopped: every phase of a domain runs (each decides from what the ones
// before observed).
func (s *scope) Stopped() bool { return false }

// eligible reports whether the domain may hold its hostname at all.
func (s *scope) eligible() bool {
	r, _ := s.obs.failed()
	return r == ""
}

// Reconcile: get → finalizer → one deferred status patch → deletion → phases.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	log := ctrl.LoggerFrom(ctx).WithValues("domain", klog.KRef(req.Namespace, req.Name))
	ctx = ctrl.LoggerInto(ctx, log)

	cd := &hostingv1alpha1.CustomDomain{}
	if err := r.Get(ctx, req.NamespacedName, cd); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading custom domain %s: %w", req.NamespacedName, err)
		}
		// What is left of a domain that is gone (deleted without
		// Landlord's finalizer, say): what Landlord made for it goes.
		return ctrl.Result{}, r.cleanupGone(ctx, req.NamespacedName)
	}
	if kernel.Behind(cd) {
		return kernel.CatchUp(), nil // the cache has not seen Landlord's last write yet
	}
	s := &scope{cd: cd, log: log, obs: observed{
		generation: cd.Generation,
		now:        r.Clock.Now(),
		baseDomain: r.Config.BaseDomain,
	}}
	p := kernel.NewPatcher(r.Client, cd)
	defer func() {
		if s.gone {
			// Written only when the deletion cannot finish (retErr says
			// why) or finalizers of others hold the domain.
			if retErr == nil && !kernel.SetDeletionStatus(cd, "its routes, listeners, certificate, plan slot and hostname claim") {
				return
			}
			if _, err := p.Patch(ctx, cd, retErr); err != nil {
				retErr = errors.Join(retErr, err)
			}
			return
		}
		s.obs.SetStatus(&cd.Status) // dropped by the patch helper while paused
		if _, err := p.Patch(ctx, cd, retErr); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()
	if kernel.Paused(cd) {
		return ctrl.Result{}, nil
	}
	if !cd.DeletionTimestamp.IsZero() {
		s.gone = true
		return ctrl.Result{}, r.reconcileDelete(ctx, s)
	}
	if err := kernel.EnsureFinalizer(ctx, r.Client, cd); err != nil {
		return ctrl.Result{}, err
	}
	res, err := kernel.Run(ctx, s,
		r.reconcileHostname,
		r.reconcileOwner,
		r.reconcileClaim,
		r.reconcileVerification,
		r.reconcileGate,
		r.reconcileCertificate,
		r.reconcileRoute,
	)
	if err != nil {
		s.obs.err = err // the other conditions stay as they were
		return ctrl.Result{}, err
	}
	if s.obs.lookupErr != nil {
		// Retried with the work queue's backoff; Verified and Ready say so.
		return ctrl.Result{}, kernel.Fail(hostingv1alpha1.ReasonLookupFailed, fmt.Errorf("verifying %s: %w", s.obs.record, s.obs.lookupErr))
	}
	return res, nil
}

// after is a requeue at t (at least a second from now).
func after(now, t time.Time) ctrl.Result {
	return ctrl.Result{RequeueAfter: max(t.Sub(now), time.Second)}
}

// reconcileDelete unroutes and releases the hostname, whether or not
// Landlord's finalizer is still on the domain, then lets the CustomDomain go.
func (r *Reconciler) reconcileDelete(ctx context.Context, s *scope) error {
	return kernel.Finalize(ctx, r.Client, s.cd, func(ctx context.Context) error {
		if err := r.unroute(ctx, s.cd); err != nil {
			return err
		}
		if err := r.releaseSlots(ctx, r.APIReader, s.cd); err != nil {
			return err
		}
		if err := r.deleteCertificate(ctx, s.cd); err != nil {
			return err
		}
		if host, err := hostname.Canonical(s.cd.Spec.Hostname); err == nil {
			return r.releaseClaim(ctx, s.cd, host)
		}
		return nil
	})
}

// reconcileHostname computes the canonical hostname and refuses the
// platform's own domain.
func (r *Reconciler) reconcileHostname(_ context.Context, s *scope) (ctrl.Result, error) {
	host, err := hostname.Canonical(s.cd.Spec.Hostname)
	if err != nil {
		s.obs.hostErr = err
		return ctrl.Result{}, nil
	}
	s.obs.host = host
	s.obs.record = RecordName(host)
	s.obs.platform = hostname.IsUnder(host, r.Config.BaseDomain)
	return ctrl.Result{}, nil
}

// reconcileOwner finds the domain's site: the account and subscription of
// its namespace (from the namespace's labels and name, never from a field).
// A domain in a namespace that is no site's holds nothing and says so.
func (r *Reconciler) reconcileOwner(ctx context.Context, s *scope) (ctrl.Result, error) {
	acct, sub, err := kernel.SiteOf(ctx, r.Client, r.Config, s.cd.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	switch {
	case acct == nil:
		return ctrl.Result{}, r.whyNoSite(ctx, s)
	case !acct.DeletionTimestamp.IsZero():
		s.obs.noAccount = true
	case !sub.DeletionTimestamp.IsZero():
		s.obs.noSite = fmt.Sprintf("the subscription %s of this site is being deleted", sub.Name)
	default:
		s.account, s.obs.sub = acct, sub
	}
	return ctrl.Result{}, nil
}

// whyNoSite tells a domain whose namespace is no live site's why: a site
// namespace whose Account is gone is NoAccount; one whose Subscription is
// gone, or any other namespace, is NoSite.
func (r *Reconciler) whyNoSite(ctx context.Context, s *scope) error {
	s.obs.noSite = kernel.NoSiteMessage(r.Config, s.cd.Namespace)
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: s.cd.Namespace}, ns); err != nil {
		return client.IgnoreNotFound(err)
	}
	account, sub := platform.SiteOfNamespace(ns.Labels)
	if account == "" || r.Config.SiteNamespace(account, sub) != ns.Name {
		return nil
	}
	err := r.Get(ctx, client.ObjectKey{Name: account}, &hostingv1alpha1.Account{})
	switch {
	case apierrors.IsNotFound(err):
		s.obs.noAccount = true
	case err != nil:
		return fmt.Errorf("reading account %s: %w", account, err)
	default:
		s.obs.noSite = fmt.Sprintf("namespace %s is the site namespace of the Subscription %s/%s, which does not exist", ns.Name, r.Config.AccountNamespace(account), sub)
	}
	return nil
}

// reconcileClaim creates the DomainClaim named after the hostname; the API
// server's name uniqueness makes the first claim win. A domain that may not
// hold its hostname (invalid, platform domain, no account, site gone or
// terminated) releases the claim it holds.
func (r *Reconciler) reconcileClaim(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !s.eligible() {
		if s.obs.host != "" {
			return ctrl.Result{}, r.releaseClaim(ctx, s.cd, s.obs.host)
		}
		return ctrl.Result{}, nil
	}
	want := BuildClaim(s.obs.host, s.account, s.cd)
	if cached := (&hostingv1alpha1.DomainClaim{}); r.Get(ctx, client.ObjectKeyFromObject(want), cached) == nil &&
		cached.DeletionTimestamp.IsZero() && heldBy(cached, s.cd, string(s.account.UID)) {
		// Held already: no create (a converged domain writes nothing). A
		// release since is an event that brings this domain back here.
		s.obs.claim = claimHeld
		return ctrl.Result{}, nil
	}
	if over, msg, err := r.overAccountCap(ctx, s); err != nil {
		return ctrl.Result{}, err
	} else if over {
		// Beyond the account's cap nothing new is claimed; a claim held
		// already is kept (a downgrade takes nothing away).
		existing := &hostingv1alpha1.DomainClaim{}
		err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(want), existing)
		if err == nil && existing.DeletionTimestamp.IsZero() && heldBy(existing, s.cd, string(s.account.UID)) {
			s.obs.claim = claimHeld
			return ctrl.Result{}, nil
		}
		s.obs.claim, s.obs.claimMsg = claimOverCap, msg
		return ctrl.Result{RequeueAfter: 10 * time.Minute}, nil
	}
	if proven, msg, err := r.provenElsewhere(ctx, s); err != nil {
		return ctrl.Result{}, err
	} else if proven {
		existing := &hostingv1alpha1.DomainClaim{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(want), existing); err == nil && existing.DeletionTimestamp.IsZero() {
			if heldBy(existing, s.cd, string(s.account.UID)) {
				s.obs.claim = claimHeld
				return ctrl.Result{}, nil
			}
			s.obs.claim, s.obs.claimMsg = claimElsewhere, msg
			if existing.Annotations[hostingv1alpha1.ClaimTakenFromAnnotation] == string(s.cd.UID) {
				s.obs.claimReason, s.obs.claimMsg = hostingv1alpha1.ReasonClaimExpired, claimExpiredMessage(r.Config, s.obs.host, existing)
			}
		} else {
			s.obs.claim, s.obs.claimMsg = claimElsewhere, msg
		}
		return after(s.obs.now, s.obs.now.Add(r.Config.ReverifyInterval)), nil
	}
	want.Annotations = map[string]string{hostingv1alpha1.ClaimedAtAnnotation: s.obs.now.UTC().Format(time.RFC3339)}
	var recheck time.Time
	// expiredHolder is the domain whose expired claim this reconcile
	// released: if it takes the hostname again between the delete and the
	// create (its own reconcile, woken by the release, racing this one), its
	// new claim is the same unverified one and is released again, up to
	// maxTakeovers times.
	var expiredHolder *hostingv1alpha1.CustomDomain
	const maxTakeovers = 3
	for attempt := 0; ; attempt++ {
		err := r.Create(ctx, want.DeepCopy())
		if err == nil {
			s.log.Info("claimed the hostname", "hostname", s.obs.host)
			s.obs.claim = claimHeld
			return ctrl.Result{}, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, fmt.Errorf("claiming %s: %w", s.obs.host, err)
		}
		existing := &hostingv1alpha1.DomainClaim{}
		if err := r.APIReader.Get(ctx, client.ObjectKey{Name: s.obs.host}, existing); err != nil {
			if apierrors.IsNotFound(err) && attempt == 0 {
				continue // released in between: try again
			}
			return ctrl.Result{}, fmt.Errorf("reading the claim on %s: %w", s.obs.host, err)
		}
		if heldBy(existing, s.cd, string(s.account.UID)) {
			s.obs.claim = claimHeld
			return ctrl.Result{}, nil
		}
		// A claim whose holder no longer exists is stale (its finalizer was
		// removed by hand, say), and another account's claim its holder did
		// not verify within the claim TTL has expired: release it and try
		// again, once (or again if the expired holder raced back).
		retake := expiredHolder != nil && attempt < maxTakeovers && heldBy(existing, expiredHolder, existing.Spec.AccountUID)
		if (attempt == 0 || retake) && existing.DeletionTimestamp.IsZero() {
			holder, err := r.claimHolder(ctx, existing)
			if err != nil {
				return ctrl.Result{}, err
			}
			expired := false
			if holder != nil && existing.Spec.AccountUID != string(s.account.UID) {
				expired, recheck = ClaimExpiry(existing, holder, s.obs.now, r.Config.DomainClaimTTL, r.Config.LapseGrace)
				if retake && holder.UID == expiredHolder.UID {
					if state, _ := State(holder.Status.Verification, s.obs.now, r.Config.LapseGrace); !state.routable() {
						expired = true
					}
				}
			}
			if holder == nil || expired {
				s.log.Info("releasing a stale or expired claim", "hostname", s.obs.host, "holder", klog.KRef(existing.Spec.Namespace, existing.Spec.CustomDomain), "expired", expired)
				if expired {
					want.Annotations[hostingv1alpha1.ClaimTakenFromAnnotation] = string(holder.UID)
					expiredHolder = holder
				}
				if err := r.deleteClaim(ctx, existing); err != nil {
					return ctrl.Result{}, err
				}
				continue
			}
		}
		s.obs.claim = claimElsewhere
		s.obs.claimMsg = fmt.Sprintf("%s is claimed by another account", s.obs.host)
		if existing.Spec.AccountUID == string(s.account.UID) {
			s.obs.claimMsg = fmt.Sprintf("%s is claimed by this account's CustomDomain %s/%s", s.obs.host, existing.Spec.Namespace, existing.Spec.CustomDomain)
		}
		if existing.Annotations[hostingv1alpha1.ClaimTakenFromAnnotation] == string(s.cd.UID) {
			s.obs.claimReason, s.obs.claimMsg = hostingv1alpha1.ReasonClaimExpired, claimExpiredMessage(r.Config, s.obs.host, existing)
		}
		if recheck.IsZero() {
			// Look again when the holder's verification is next due.
			recheck = s.obs.now.Add(r.Config.ReverifyInterval)
		}
		return after(s.obs.now, recheck), nil
	}
}

// releaseClaim deletes the claim on host if cd holds it.
func (r *Reconciler) releaseClaim(ctx context.Context, cd *hostingv1alpha1.CustomDomain, host string) error {
	claim := &hostingv1alpha1.DomainClaim{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: host}, claim); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading the claim on %s: %w", host, err)
	}
	if !heldBy(claim, cd, "") {
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("releasing the hostname", "hostname", host)
	return r.deleteClaim(ctx, claim)
}

// deleteClaim deletes exactly that claim (a UID precondition, so a newer
// claim by someone else is never deleted).
func (r *Reconciler) deleteClaim(ctx context.Context, claim *hostingv1alpha1.DomainClaim) error {
	err := r.Delete(ctx, claim, client.Preconditions{UID: &claim.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("releasing the claim on %s: %w", claim.Name, err)
	}
	return nil
}

// reconcileVerification looks the TXT record up when it is due and records
// the outcome in status.verification; the state (pending, verified, lapsed)
// follows from those recorded lookups and the clock.
func (r *Reconciler) reconcileVerification(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.obs.claim != claimHeld {
		return ctrl.Result{}, nil
	}
	host, now := s.obs.host, s.obs.now
	token := Token(string(s.account.UID), host)
	v := &s.cd.Status.Verification
	if v.Value != token || v.RecordName != s.obs.record {
		*v = hostingv1alpha1.Verification{RecordName: s.obs.record, RecordType: "TXT", Value: token}
	}
	s.cd.Status.Instructions = Instructions(r.Config, host, token)

	if next := NextCheck(*v, s.cd.CreationTimestamp.Time, r.Config.ReverifyInterval); !now.Before(next) {
		values, err := r.Resolver.LookupTXT(ctx, s.obs.record)
		if err != nil {
			s.obs.lookupErr = err
			metrics.DNSVerificationFailures.WithLabelValues(hostingv1alpha1.ReasonLookupFailed).Inc()
		} else {
			wasFound := foundAtLastCheck(*v)
			checked := metav1Time(now)
			v.LastCheckedAt = &checked
			found := Matches(values, token)
			if found {
				v.VerifiedAt = &checked
			} else {
				metrics.DNSVerificationFailures.WithLabelValues(hostingv1alpha1.ReasonRecordMissing).Inc()
			}
			switch {
			case found && !wasFound:
				r.Recorder.Eventf(s.cd, nil, corev1.EventTypeNormal, "Verified", "Verify", "the TXT record %s holds the account's token", s.obs.record)
			case !found && wasFound:
				_, deadline := State(*v, now, r.Config.LapseGrace)
				r.Recorder.Eventf(s.cd, nil, corev1.EventTypeWarning, hostingv1alpha1.ReasonLapsed, "Verify",
					"the TXT record %s is missing; %s is unrouted at %s unless it returns", s.obs.record, host, deadline.UTC().Format(time.RFC3339))
			}
		}
	}
	s.obs.dns, s.obs.deadline = State(*v, now, r.Config.LapseGrace)
	res := after(now, NextCheck(*v, s.cd.CreationTimestamp.Time, r.Config.ReverifyInterval))
	if s.obs.dns == dnsLapsed {
		res = kernel.Earliest(res, after(now, s.obs.deadline))
	}
	return res, nil
}

// routableSite reports whether the subscription has a site to route to, and
// whether it is suspended (its domains then show the suspended page).
func routableSite(sub *hostingv1alpha1.Subscription) (routable, suspended bool) {
	switch sub.Status.Phase {
	case hostingv1alpha1.PhaseActive, hostingv1alpha1.PhaseTrialing, hostingv1alpha1.PhasePastDue:
		return true, false
	case hostingv1alpha1.PhaseSuspended, hostingv1alpha1.PhaseCancelled:
		return true, true
	}
	return false, false
}

// reconcileGate lists the site's domains (every CustomDomain of the site
// namespace) and applies the plan's customDomains limit.
func (r *Reconciler) reconcileGate(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.obs.claim != claimHeld || !s.obs.dns.routable() {
		return ctrl.Result{}, nil
	}
	routable, suspended := routableSite(s.obs.sub)
	s.obs.siteWaiting, s.obs.suspended = !routable, suspended
	if !routable {
		return ctrl.Result{}, nil
	}
	list := &hostingv1alpha1.CustomDomainList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(s.cd.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the site's custom domains: %w", err)
	}
	for _, d := range list.Items {
		if d.DeletionTimestamp.IsZero() {
			s.siblings = append(s.siblings, d)
		}
	}
	var plan *hostingv1alpha1.Plan
	if s.obs.sub.Status.EffectiveLimits.CustomDomains == nil {
		p := &hostingv1alpha1.Plan{}
		err := r.Get(ctx, client.ObjectKey{Name: s.obs.sub.Spec.Plan}, p)
		if err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("getting plan %s: %w", s.obs.sub.Spec.Plan, err)
		}
		if err == nil {
			plan = p
		}
	}
	s.obs.limit = Limit(s.obs.sub, plan)
	var err error
	s.obs.admitted, s.obs.inUse, err = r.admit(ctx, s, s.obs.limit)
	return ctrl.Result{}, err
}

// routable reports whether the domain is to be routed: claimed, verified
// (or lapsed within the grace), admitted by the plan gate, its site there.
func (s *scope) routable() bool {
	o := &s.obs
	return o.claim == claimHeld && o.dns.routable() && !o.siteWaiting && o.admitted
}

// reconcileRoute applies the domain's route when it is routable, otherwise
// the route must not exist. With Gateway API routing the domain's listeners
// in the site's ListenerSet follow in the same reconcile: HTTP always, HTTPS
// once the certificate is ready (HTTP then redirects to HTTPS except ACME
// challenges). Listeners are added before the routes that use them and
// removed after.
func (r *Reconciler) reconcileRoute(ctx context.Context, s *scope) (ctrl.Result, error) {
	o := &s.obs
	if !s.routable() {
		if err := r.unroute(ctx, s.cd); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, r.releaseSlots(ctx, r.Client, s.cd)
	}
	in := RouteInput{Host: o.host, Account: s.account.Name, Subscription: o.sub.Name, Suspended: o.suspended}
	if !o.suspended {
		in.RedirectTo = RedirectTarget(s.cd, s.siblings)
	}
	if r.certManagerServed() && tlsAuto(s.cd) {
		in.TLSSecretName = CertificateSecretName(s.cd)
	}
	if !r.routesServed() {
		o.routesMissing = true
		return ctrl.Result{}, nil
	}
	if !r.listenerSetsServed() {
		if _, err := kernel.Apply(ctx, r.Client, r.routeReader(), BuildRoute(r.Config, s.cd, in)); err != nil {
			return ctrl.Result{}, err
		}
		o.routed, o.redirectTo = true, in.RedirectTo
		return ctrl.Result{}, nil
	}
	in.Listeners = true
	in.TLSReady = o.cert == certReady
	listeners := BuildListeners(s.cd, o.host, in.TLSReady)
	if err := r.syncListeners(ctx, s, listeners, true); err != nil {
		return ctrl.Result{}, err
	}
	if _, err := kernel.Apply(ctx, r.Client, r.routeReader(), BuildRoute(r.Config, s.cd, in)); err != nil {
		return ctrl.Result{}, err
	}
	if redirect := BuildRedirectRoute(r.Config, s.cd, in); redirect != nil {
		if _, err := kernel.Apply(ctx, r.Client, r.routeReader(), redirect); err != nil {
			return ctrl.Result{}, err
		}
	} else if err := r.deleteRedirectRoute(ctx, s.cd); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.syncListeners(ctx, s, listeners, false); err != nil {
		return ctrl.Result{}, err
	}
	o.routed, o.redirectTo = true, in.RedirectTo
	return ctrl.Result{}, nil
}

// unroute deletes the domain's routes, then its listeners.
func (r *Reconciler) unroute(ctx context.Context, cd *hostingv1alpha1.CustomDomain) error {
	if err := r.deleteRoute(ctx, cd); err != nil {
		return err
	}
	if err := r.deleteRedirectRoute(ctx, cd); err != nil {
		return err
	}
	return r.removeListeners(ctx, cd)
}

func (r *Reconciler) deleteRoute(ctx context.Context, cd *hostingv1alpha1.CustomDomain) error {
	if !r.routesServed() {
		return nil // no route can exist
	}
	_, err := kernel.Delete(ctx, r.Client, r.routeReader(), emptyRoute(r.Config, cd))
	return err
}

func (r *Reconciler) deleteRedirectRoute(ctx context.Context, cd *hostingv1alpha1.CustomDomain) error {
	if r.Config.RouteKind == platform.RouteIngress || !r.routesServed() {
		return nil // only Gateway API routing has one
	}
	_, err := kernel.Delete(ctx, r.Client, r.routeReader(), emptyRedirectRoute(cd))
	return err
}

// reconcileCertificate requests a certificate for a routable hostname with
// TLS Auto when cert-manager's API is installed, and reads its readiness
// (which decides the domain's HTTPS listener and redirect).
func (r *Reconciler) reconcileCertificate(ctx context.Context, s *scope) (ctrl.Result, error) {
	o := &s.obs
	switch {
	case !tlsAuto(s.cd):
		o.cert = certDisabled
	case !r.certManagerServed():
		o.cert = certUnavailable
		return ctrl.Result{}, nil
	case !s.routable() || !r.routesServed():
		o.cert = certNone
	}
	if o.cert != certNone || !s.routable() || !r.routesServed() {
		return ctrl.Result{}, r.deleteCertificate(ctx, s.cd)
	}
	live, err := kernel.Apply(ctx, r.Client, r.Optional, BuildCertificate(r.Config, s.cd, o.host, s.account.Name, o.sub.Name))
	if err != nil {
		return ctrl.Result{}, err
	}
	ready, msg := certificateReady(live.(*unstructured.Unstructured))
	o.cert, o.certMsg = certPending, msg
	if ready {
		o.cert = certReady
	}
	return ctrl.Result{}, nil
}

func (r *Reconciler) deleteCertificate(ctx context.Context, cd *hostingv1alpha1.CustomDomain) error {
	if !r.certManagerServed() {
		return nil // no certificate can exist
	}
	_, err := kernel.Delete(ctx, r.Client, r.Optional, emptyCertificate(cd))
	return err
}

// CertificateGVK is cert-manager's Certificate.
var CertificateGVK = schema.GroupVersionKind{Group: certGroup, Version: certVersion, Kind: certKind}
