package subscription

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/lifecycle"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/rbacbind"
	"github.com/landlord-dev/landlord/internal/site"
	"github.com/landlord-dev/landlord/internal/suspension"
	"github.com/landlord-dev/landlord/internal/tenancy"
)

// resolveAccount finds the account from the namespace (kernel.AccountOf,
// never from a field); without one the subscription stays Pending and
// nothing is touched.
func (r *Reconciler) resolveAccount(ctx context.Context, s *scope) (ctrl.Result, error) {
	acct, err := kernel.AccountOf(ctx, r.Client, r.Config, s.sub.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	if acct != nil {
		s.account, s.accountName = acct, acct.Name
		s.siteNS = r.Config.SiteNamespace(acct.Name, s.sub.Name)
		s.url = site.URL(r.Config, s.sub.Name, acct.Name)
		return ctrl.Result{}, nil
	}
	s.problem = &problem{v1.ReasonNoAccount, kernel.NoAccountMessage(r.Config, s.sub.Namespace)}
	s.life = lifecycle.Result{Phase: v1.PhasePending, Reason: v1.ReasonNoAccount}
	if s.sub.DeletionTimestamp.IsZero() {
		setStatus(s)
	}
	s.stop = true
	return ctrl.Result{}, nil
}

// resolveSpec looks up the plan and template, checks that they go together
// and computes the effective limits. A problem is recorded, not returned.
func (r *Reconciler) resolveSpec(ctx context.Context, s *scope) (ctrl.Result, error) {
	spec := s.sub.Spec
	plan := &v1.Plan{}
	found, err := r.get(ctx, client.ObjectKey{Name: spec.Plan}, plan)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !found {
		s.problem = &problem{v1.ReasonPlanNotFound, fmt.Sprintf("plan %q does not exist", spec.Plan)}
		return ctrl.Result{}, nil
	}
	s.plan = plan
	tmpl := &v1.SiteTemplate{}
	if found, err = r.get(ctx, client.ObjectKey{Name: spec.Site.Template}, tmpl); err != nil {
		return ctrl.Result{}, err
	}
	switch {
	case !found:
		s.problem = &problem{v1.ReasonTemplateNotFound, fmt.Sprintf("site template %q does not exist", spec.Site.Template)}
		return ctrl.Result{}, nil
	case len(plan.Spec.SiteTemplates) > 0 && !slices.Contains(plan.Spec.SiteTemplates, spec.Site.Template):
		s.problem = &problem{v1.ReasonTemplateNotAllowed, fmt.Sprintf("plan %q does not allow the site template %q (allowed: %v)", plan.Name, spec.Site.Template, plan.Spec.SiteTemplates)}
		return ctrl.Result{}, nil
	}
	s.template = tmpl
	limits, err := site.EffectiveLimits(plan, spec.AddOns)
	var notOffered *site.AddOnNotOfferedError
	if errors.As(err, &notOffered) {
		s.problem = &problem{v1.ReasonAddOnNotOffered, err.Error()}
		return ctrl.Result{}, nil
	}
	s.limits = &limits
	return ctrl.Result{}, nil
}

// computeLifecycle computes the phase. With a problem in the spec the
// subscription is Pending and its site is left as it is, unless it was
// already terminated (final).
func (r *Reconciler) computeLifecycle(_ context.Context, s *scope) (ctrl.Result, error) {
	var acctSuspension *v1.Suspension
	if s.account != nil {
		acctSuspension = s.account.Spec.Suspension
	}
	s.life = lifecycle.Compute(r.lifecycleInput(s.sub, s.plan, acctSuspension, s.now))
	if s.problem != nil && lifecycle.FactsOf(s.sub.Annotations).TerminatedAt == nil {
		// Nothing is decided from a spec that does not resolve: no
		// termination on the defaults' periods because of a typo.
		s.life = lifecycle.Result{Phase: v1.PhasePending, Reason: s.problem.reason}
	}
	return ctrl.Result{}, nil
}

// lifecycleInput is the lifecycle input of sub with the platform's
// termination floor.
func (r *Reconciler) lifecycleInput(sub *v1.Subscription, plan *v1.Plan, acctSuspension *v1.Suspension, now time.Time) lifecycle.Input {
	in := lifecycle.InputFor(sub, plan, acctSuspension, now)
	in.Floor = r.Config.TerminationFloor
	return in
}

// recordFacts records, once, the facts the phase function found
// (cancellation, termination, the first observation of a suspension) as
// annotations on the Subscription, and forgets the observation of a
// suspension once the site is back in service. The patch runs while the
// site is applied (nothing there reads these annotations): joinFacts waits
// for it before the status is computed, so a suspension costs one round
// trip less.
func (r *Reconciler) recordFacts(ctx context.Context, s *scope) (ctrl.Result, error) {
	add := s.life.Record.Annotations()
	for k, v := range add {
		// Recorded once; an observation of a suspension is replaced.
		if old, ok := s.sub.Annotations[k]; ok && (k != lifecycle.SuspendedAtAnnotation || old == v) {
			delete(add, k)
		}
	}
	_, observed := s.sub.Annotations[lifecycle.SuspendedAtAnnotation]
	forget := s.life.ForgetSuspendedAt && observed
	if len(add) == 0 && !forget {
		return ctrl.Result{}, nil
	}
	patch := client.MergeFrom(s.sub.DeepCopy())
	patched := s.sub.DeepCopy()
	if patched.Annotations == nil {
		patched.Annotations = map[string]string{}
	}
	for k, v := range add {
		patched.Annotations[k] = v
	}
	if forget {
		delete(patched.Annotations, lifecycle.SuspendedAtAnnotation)
	}
	done := make(chan error, 1)
	go func() {
		rv := patched.ResourceVersion
		err := r.Client.Patch(ctx, patched, patch)
		if err == nil {
			kernel.Wrote(patched, rv)
		}
		done <- err
	}()
	s.facts = func() error {
		s.facts = nil
		if err := <-done; err != nil {
			return fmt.Errorf("recording %v (forgetting the suspension: %v): %w", add, forget, err)
		}
		s.sub.ObjectMeta = patched.ObjectMeta // the status computed so far stays
		return nil
	}
	return ctrl.Result{}, nil
}

// joinFacts waits for the facts recordFacts is writing.
func (r *Reconciler) joinFacts(_ context.Context, s *scope) (ctrl.Result, error) {
	if s.facts == nil {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, s.facts()
}

// reconcileSiteNamespace creates or adopts the site namespace (not after
// termination, which removes it). A namespace of that name that is not
// labelled for this account and site is left untouched and named in the
// status.
func (r *Reconciler) reconcileSiteNamespace(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.life.Phase == v1.PhaseTerminated {
		return ctrl.Result{}, nil
	}
	ns, found, err := r.getNamespace(ctx, s.siteNS)
	if err != nil {
		return ctrl.Result{}, err
	}
	switch {
	case found && !ownsSiteNamespace(ns, s.accountName, s.sub.Name):
		s.problem = &problem{v1.ReasonSiteNamespaceTaken, fmt.Sprintf(
			"namespace %s exists and is not this site's (it must be labelled %s=%s and %s=%s to be adopted); rename or remove it",
			s.siteNS, v1.AccountLabel, s.accountName, v1.SubscriptionLabel, s.sub.Name)}
		s.life = lifecycle.Result{Phase: v1.PhasePending, Reason: v1.ReasonSiteNamespaceTaken}
		setStatus(s)
		s.stop = true
		return ctrl.Result{}, nil
	case found && !ns.DeletionTimestamp.IsZero():
		// A site namespace being deleted (a subscription deleted and
		// re-created under the same name): wait for it to go.
		s.stop = true
		return ctrl.Result{RequeueAfter: terminatingRetry}, nil
	}
	desired := tenancy.BuildSiteNamespace(s.account, s.sub, r.Config)
	// Labelled while nothing may run (config/admission/suspension.yaml);
	// Pending leaves the site, and so the label, as it is.
	if stopsWorkloads(s.life.Phase) || s.life.Phase == v1.PhasePending && found && ns.Labels[suspension.NamespaceLabel] == "true" {
		desired.WithLabels(map[string]string{suspension.NamespaceLabel: "true"})
	}
	if _, err := kernel.Apply(ctx, r.Client, nil, desired); err != nil {
		return ctrl.Result{}, err
	}
	s.siteNSReady = true
	return ctrl.Result{}, nil
}

// terminatingRetry is how often a terminating site namespace is looked at
// again; its deletion event normally comes first.
const terminatingRetry = 5 * time.Second

// ownsSiteNamespace: Landlord may use ns for this site only when it carries
// the account and subscription labels of this site.
func ownsSiteNamespace(ns *corev1.Namespace, account, subscription string) bool {
	a, sub := platform.SiteOfNamespace(ns.Labels)
	return a == account && sub == subscription
}

// getNamespace reads a namespace: from the cache when Landlord labels it,
// else from the API server. found is false when it does not exist.
func (r *Reconciler) getNamespace(ctx context.Context, name string) (*corev1.Namespace, bool, error) {
	ns := &corev1.Namespace{}
	found, err := r.get(ctx, client.ObjectKey{Name: name}, ns)
	if err == nil && !found && r.APIReader != nil {
		found, err = kernel.Get(ctx, r.APIReader, client.ObjectKey{Name: name}, ns)
	}
	return ns, found, err
}

// applyGuardRails applies what makes the site namespace a tenant's: the
// default-deny NetworkPolicy, the LimitRange, the ResourceQuota of this site
// (compute zero while not serving), the owner's RoleBinding and the
// suspended-page plumbing.
func (r *Reconciler) applyGuardRails(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !s.siteNSReady {
		return ctrl.Result{}, nil
	}
	t := tenancy.SiteTarget(s.accountName, s.sub.Name, r.Config)
	// Independent objects: applied at once (kernel.Concurrently).
	steps := []func(context.Context) error{
		func(ctx context.Context) error {
			if _, err := kernel.Apply(ctx, r.Client, nil, tenancy.BuildNetworkPolicyIn(t, r.Config)); err != nil {
				return fmt.Errorf("applying the NetworkPolicy of %s: %w", s.siteNS, err)
			}
			return nil
		},
		func(ctx context.Context) error {
			if _, err := kernel.Apply(ctx, r.Client, nil, tenancy.BuildLimitRange(t)); err != nil {
				return fmt.Errorf("applying the LimitRange of %s: %w", s.siteNS, err)
			}
			return nil
		},
		func(ctx context.Context) error { return r.applyQuota(ctx, s) },
		func(ctx context.Context) error {
			if err := rbacbind.Apply(ctx, r.Client, tenancy.BuildOwnerBindingIn(s.account, t)); err != nil {
				return fmt.Errorf("binding the owner in %s: %w", s.siteNS, err)
			}
			return nil
		},
	}
	if r.routesServed() {
		steps = append(steps, func(ctx context.Context) error {
			return r.apply(ctx, site.SuspendedPlumbing(r.Config, s.siteNS, s.accountName, s.sub.Name))
		})
	}
	return ctrl.Result{}, kernel.Concurrently(ctx, steps...)
}

// applyQuota applies the site's ResourceQuota: its effective limits, compute
// zero while not serving. A spec that does not resolve keeps the quota the
// site has, or gets one without compute when it has none (nothing runs
// until the spec resolves).
func (r *Reconciler) applyQuota(ctx context.Context, s *scope) error {
	if s.limits != nil {
		return r.apply(ctx, site.Quota(r.site(s)))
	}
	found, err := r.get(ctx, client.ObjectKey{Namespace: s.siteNS, Name: platform.QuotaName}, &corev1.ResourceQuota{})
	if err != nil || found {
		return err
	}
	return r.apply(ctx, site.NoComputeQuota(s.siteNS, s.accountName, s.sub.Name))
}

// site is what the site objects are built from.
func (r *Reconciler) site(s *scope) site.Site {
	st := site.Site{Config: r.Config, Account: s.accountName, Namespace: s.siteNS, Subscription: s.sub, Template: s.template, Serving: s.serving()}
	if s.limits != nil {
		st.Limits = *s.limits
	}
	return st
}

// applySite applies the guard rails and the site objects: at once for a
// site that has its quota already (a suspension's quota, scale-down and
// route change cost one round trip), the quota first for a new site (its
// volume is admitted against it).
func (r *Reconciler) applySite(ctx context.Context, s *scope) (ctrl.Result, error) {
	found := false
	if s.siteNSReady {
		var err error
		if found, err = r.get(ctx, client.ObjectKey{Namespace: s.siteNS, Name: platform.QuotaName}, &corev1.ResourceQuota{}); err != nil {
			return ctrl.Result{}, err
		}
	}
	if !found {
		res, err := r.applyGuardRails(ctx, s)
		if err != nil {
			return res, err
		}
		site, err := r.reconcileSite(ctx, s)
		return kernel.Earliest(res, site), err
	}
	// The two touch disjoint parts of the scope.
	var guard, site ctrl.Result
	err := kernel.Concurrently(ctx,
		func(ctx context.Context) (err error) { guard, err = r.applyGuardRails(ctx, s); return err },
		func(ctx context.Context) (err error) { site, err = r.reconcileSite(ctx, s); return err },
	)
	return kernel.Earliest(guard, site), err
}

// reconcileSite applies the site objects for the phase: serving (Trialing,
// Active, PastDue), scaled to zero behind the suspended page (Suspended,
// Cancelled), or removed (Terminated). Pending leaves the site as it is.
func (r *Reconciler) reconcileSite(ctx context.Context, s *scope) (ctrl.Result, error) {
	if err := r.readSite(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	switch s.life.Phase {
	case v1.PhasePending:
		return ctrl.Result{}, nil
	case v1.PhaseTerminated:
		return ctrl.Result{}, r.removeSite(ctx, s)
	}
	if taken, err := r.takenSiteObjects(ctx, s); err != nil || len(taken) > 0 {
		if err != nil {
			return ctrl.Result{}, err
		}
		// adopt.go: reported, nothing applied; looked at again (the
		// tenant's objects are not watched).
		s.taken = takenMessage(s.siteNS, s.accountName, s.sub.Name, taken)
		return ctrl.Result{RequeueAfter: takenRetry}, nil
	}
	st := r.site(s)

	vol := site.Volume(st, s.volume)
	if s.volume != nil && s.volume.Status.Phase != corev1.ClaimBound {
		// A claim can grow only once bound: keep its size until then.
		if want := site.RequestOf(vol); want.Cmp(*site.RequestOf(s.volume)) > 0 {
			s.resizePending = fmt.Sprintf("the volume grows to %s once it is bound", want.String())
			vol.Spec.Resources.Requests[corev1.ResourceStorage] = *site.RequestOf(s.volume)
		}
	}
	if s.deployment != nil {
		s.deploymentRead = s.deployment.ResourceVersion
	}
	// The volume first (a new site's workload finds its claim); then the
	// rest at once (kernel.Concurrently): a suspension's scale-down and
	// route change cost one round trip (its volume holds: no write).
	volErr := r.apply(ctx, vol)
	steps := []func(context.Context) error{
		func(ctx context.Context) error {
			live, err := kernel.Apply(ctx, r.Client, r.readerFor(&appsv1.Deployment{}), site.Deployment(st))
			if err == nil {
				s.appliedDeployment, err = asDeployment(live)
			}
			return err
		},
		func(ctx context.Context) error { return r.apply(ctx, site.Service(st)) },
	}
	if r.routesServed() {
		steps = append(steps, func(ctx context.Context) error { return r.apply(ctx, site.Route(st)) })
	} else {
		s.routesMissing = true
	}
	if err := kernel.Concurrently(ctx, steps...); err != nil {
		return ctrl.Result{}, err
	}
	var res ctrl.Result
	if volErr != nil {
		if !apierrors.IsForbidden(volErr) {
			return ctrl.Result{}, volErr
		}
		// Quota admission refuses the claim until the quota controller has
		// caught up with the quota just raised: retry soon, backing off while
		// it keeps refusing, and do not hold the rest of the site back.
		s.resizePending = fmt.Sprintf("waiting for the namespace quota: %v", volErr)
		res.RequeueAfter = r.quotaBackoff.When(s.sub.UID)
	} else {
		r.quotaBackoff.Forget(s.sub.UID)
	}
	return res, nil
}

// routesServed reports whether the kind of route Landlord writes is served:
// Ingress always is; the Gateway API may be installed after Landlord starts.
func (r *Reconciler) routesServed() bool {
	return r.Config.RouteKind == platform.RouteIngress || r.APIs == nil || r.APIs.Served(HTTPRouteGVK)
}

// readSite reads the site's Deployment and volume into the scope.
func (r *Reconciler) readSite(ctx context.Context, s *scope) error {
	s.deployment, s.volume = &appsv1.Deployment{}, &corev1.PersistentVolumeClaim{}
	if !s.siteNSReady {
		s.deployment, s.volume = nil, nil
		return nil
	}
	found, err := r.get(ctx, client.ObjectKey{Namespace: s.siteNS, Name: platform.SiteName(s.sub.Name)}, s.deployment)
	if err != nil {
		return err
	}
	if !found {
		s.deployment = nil
	}
	if found, err = r.get(ctx, client.ObjectKey{Namespace: s.siteNS, Name: platform.SiteVolumeName(s.sub.Name)}, s.volume); err != nil {
		return err
	}
	if !found {
		s.volume = nil
	}
	return nil
}

// removeSite deletes the workload first (the site stops serving before
// anything else goes), then its route and the suspended-page grant, keeps
// the volume's data under deletionPolicy Retain (its PersistentVolume is set
// to be retained), and last deletes the site namespace with everything in
// it.
func (r *Reconciler) removeSite(ctx context.Context, s *scope) error {
	s.siteNSReady = false
	if s.siteNS == "" {
		return nil
	}
	ns, found, err := r.getNamespace(ctx, s.siteNS)
	if err != nil || !found || !ownsSiteNamespace(ns, s.accountName, s.sub.Name) {
		return err // gone, or not this site's: never touched
	}
	if ns.DeletionTimestamp.IsZero() {
		key := metav1.ObjectMeta{Namespace: s.siteNS, Name: platform.SiteName(s.sub.Name)}
		if err := r.remove(ctx, &appsv1.Deployment{ObjectMeta: key}); err != nil {
			return err
		}
		if r.Config.RouteKind == platform.RouteIngress {
			if err := r.remove(ctx, &networkingv1.Ingress{ObjectMeta: key}); err != nil {
				return err
			}
		} else if r.routesServed() {
			if err := r.remove(ctx, &gatewayv1.HTTPRoute{ObjectMeta: key}); err != nil {
				return err
			}
		}
		if s.sub.Spec.DeletionPolicy == v1.DeletionPolicyRetain {
			if err := r.retainVolume(ctx, s); err != nil {
				return err
			}
		}
	}
	if r.Config.RouteKind != platform.RouteIngress && r.routesServed() {
		if err := r.remove(ctx, site.SuspendedPlumbing(r.Config, s.siteNS, s.accountName, s.sub.Name)); err != nil {
			return err
		}
	}
	if ns.DeletionTimestamp.IsZero() {
		if _, err := kernel.Delete(ctx, r.Client, nil, ns); err != nil {
			return fmt.Errorf("deleting site namespace %s: %w", s.siteNS, err)
		}
	}
	return nil
}

// retainVolume keeps the data of the site's volume after the site namespace
// goes: the PersistentVolume bound to the claim gets reclaim policy Retain
// and Landlord's labels, so that the provider can find it and bind it
// again. A claim bound to no volume holds no data.
func (r *Reconciler) retainVolume(ctx context.Context, s *scope) error {
	pvc := &corev1.PersistentVolumeClaim{}
	found, err := r.get(ctx, client.ObjectKey{Namespace: s.siteNS, Name: platform.SiteVolumeName(s.sub.Name)}, pvc)
	if err != nil || !found || pvc.Spec.VolumeName == "" {
		return err
	}
	pv := &corev1.PersistentVolume{}
	found, err = kernel.Get(ctx, r.APIReader, client.ObjectKey{Name: pvc.Spec.VolumeName}, pv)
	if err != nil || !found {
		return err
	}
	want := site.RetainedVolumeLabels(s.accountName, s.sub.Name)
	if pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRetain && hasLabels(pv.Labels, want) {
		return nil
	}
	patch := client.MergeFrom(pv.DeepCopy())
	pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	if pv.Labels == nil {
		pv.Labels = map[string]string{}
	}
	maps.Copy(pv.Labels, want)
	if err := r.Client.Patch(ctx, pv, patch); err != nil {
		return fmt.Errorf("retaining volume %s of %s: %w", pv.Name, s.siteNS, err)
	}
	return nil
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// observe reads what the status reports from the world: the Deployment's
// availability and the custom domains holding a route, then sets status.
func (r *Reconciler) observe(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.life.Phase != v1.PhaseTerminated {
		if err := r.readSite(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
		// The Deployment this reconcile applied, while the cache does not
		// show it yet: the status reports it now, not in a second write.
		if d := s.appliedDeployment; d != nil && (s.deployment == nil || s.deployment.ResourceVersion == s.deploymentRead) {
			s.deployment = d
		}
	}
	var domains v1.CustomDomainList
	if s.siteNSReady {
		if err := r.Client.List(ctx, &domains, client.InNamespace(s.siteNS)); err != nil {
			return ctrl.Result{}, fmt.Errorf("listing custom domains: %w", err)
		}
	}
	var inUse int32
	for _, d := range domains.Items {
		if d.Status.Phase == v1.DomainActive || d.Status.Phase == v1.DomainLapsed {
			inUse++
		}
	}
	s.sub.Status.Usage.CustomDomains = inUse
	// Seats: the distinct holders of the site's seats (controllers/team).
	var seats coordinationv1.LeaseList
	if err := r.Client.List(ctx, &seats, client.InNamespace(s.sub.Namespace), client.MatchingLabels{v1.SeatLabel: s.sub.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the seats: %w", err)
	}
	holders := map[string]bool{}
	for _, l := range seats.Items {
		if l.Spec.HolderIdentity != nil && l.DeletionTimestamp.IsZero() {
			holders[*l.Spec.HolderIdentity] = true
		}
	}
	s.sub.Status.Usage.Seats = int32(len(holders))
	setStatus(s)
	return untilNext(s.now, s.life.Next), nil
}

// asDeployment is the Deployment kernel.Apply returned: typed when read
// from the cache, unstructured as the API server answered an apply.
func asDeployment(o client.Object) (*appsv1.Deployment, error) {
	switch d := o.(type) {
	case *appsv1.Deployment:
		return d, nil
	case *unstructured.Unstructured:
		out := &appsv1.Deployment{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(d.Object, out); err != nil {
			return nil, fmt.Errorf("reading the applied Deployment: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("kernel.Apply returned %T for a Deployment", o)
}
