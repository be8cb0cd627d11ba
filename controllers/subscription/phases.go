package subscription

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/lifecycle"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/site"
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
// suspension once the site is back in service.
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
	status := s.sub.Status.DeepCopy()
	patch := client.MergeFrom(s.sub.DeepCopy())
	if s.sub.Annotations == nil {
		s.sub.Annotations = map[string]string{}
	}
	for k, v := range add {
		s.sub.Annotations[k] = v
	}
	if forget {
		delete(s.sub.Annotations, lifecycle.SuspendedAtAnnotation)
	}
	if err := r.Client.Patch(ctx, s.sub, patch); err != nil {
		return ctrl.Result{}, fmt.Errorf("recording %v (forgetting the suspension: %v): %w", add, forget, err)
	}
	s.sub.Status = *status
	return ctrl.Result{}, nil
}

// applyQuota applies the namespace's ResourceQuota: the sum of the limits of
// the account's non-terminated subscriptions (a subscription whose spec does
// not resolve counts with the limits its site was built with), plus the
// storage of volumes retained after termination.
func (r *Reconciler) applyQuota(ctx context.Context, s *scope) (ctrl.Result, error) {
	var subs v1.SubscriptionList
	if err := r.Client.List(ctx, &subs, client.InNamespace(s.sub.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing subscriptions: %w", err)
	}
	var all []v1.Limits
	for i := range subs.Items {
		other := &subs.Items[i]
		if !other.DeletionTimestamp.IsZero() {
			continue
		}
		l, err := r.quotaShare(ctx, s, other)
		if err != nil {
			return ctrl.Result{}, err
		}
		if l != nil {
			all = append(all, *l)
		}
	}
	// Volumes kept after termination (Retain) still hold their storage.
	var vols corev1.PersistentVolumeClaimList
	if err := r.Client.List(ctx, &vols, client.InNamespace(s.sub.Namespace), client.HasLabels{v1.SubscriptionLabel}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing volumes: %w", err)
	}
	for i := range vols.Items {
		if v := &vols.Items[i]; len(v.OwnerReferences) == 0 && v.DeletionTimestamp.IsZero() && site.RequestOf(v) != nil {
			all = append(all, v1.Limits{Storage: site.RequestOf(v)})
		}
	}
	return ctrl.Result{}, r.apply(ctx, site.Quota(s.sub.Namespace, s.account, all))
}

// quotaShare is one subscription's part of the namespace quota (nil: none).
func (r *Reconciler) quotaShare(ctx context.Context, s *scope, other *v1.Subscription) (*v1.Limits, error) {
	if other.UID == s.sub.UID {
		if s.life.Phase == v1.PhaseTerminated {
			return nil, nil
		}
		if s.limits != nil {
			return s.limits, nil
		}
	} else {
		if lifecycle.FactsOf(other.Annotations).TerminatedAt != nil {
			return nil, nil
		}
		plan := &v1.Plan{}
		found, err := r.get(ctx, client.ObjectKey{Name: other.Spec.Plan}, plan)
		if err != nil {
			return nil, err
		}
		if found {
			var acctSuspension *v1.Suspension
			if s.account != nil {
				acctSuspension = s.account.Spec.Suspension
			}
			if lifecycle.Compute(r.lifecycleInput(other, plan, acctSuspension, s.now)).Phase == v1.PhaseTerminated {
				return nil, nil
			}
			if l, err := site.EffectiveLimits(plan, other.Spec.AddOns); err == nil {
				return &l, nil
			}
		}
	}
	return r.builtLimits(ctx, other)
}

// builtLimits are the limits a subscription's existing site was built with
// (nil when it has none).
func (r *Reconciler) builtLimits(ctx context.Context, sub *v1.Subscription) (*v1.Limits, error) {
	var l v1.Limits
	dep := &appsv1.Deployment{}
	found, err := r.get(ctx, client.ObjectKey{Namespace: sub.Namespace, Name: platform.SiteName(sub.Name)}, dep)
	if err != nil {
		return nil, err
	}
	if found && len(dep.Spec.Template.Spec.Containers) > 0 {
		lim := dep.Spec.Template.Spec.Containers[0].Resources.Limits
		if q, ok := lim[corev1.ResourceCPU]; ok {
			l.CPU = &q
		}
		if q, ok := lim[corev1.ResourceMemory]; ok {
			l.Memory = &q
		}
	}
	pvc := &corev1.PersistentVolumeClaim{}
	pvcFound, err := r.get(ctx, client.ObjectKey{Namespace: sub.Namespace, Name: platform.SiteVolumeName(sub.Name)}, pvc)
	if err != nil {
		return nil, err
	}
	if pvcFound {
		l.Storage = site.RequestOf(pvc)
	}
	if !found && !pvcFound {
		return nil, nil
	}
	return &l, nil
}

// applySuspendedPlumbing makes sure the namespace's routes can reach the
// suspended page (kept for as long as the account has subscriptions, so that
// a suspension, of this site or of a custom domain's, routes at once).
func (r *Reconciler) applySuspendedPlumbing(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !r.routesServed() {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.apply(ctx, site.SuspendedPlumbing(r.Config, s.sub.Namespace, s.account))
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
	st := site.Site{Config: r.Config, Account: s.accountName, Subscription: s.sub, Template: s.template, Limits: *s.limits, Serving: s.serving()}

	vol := site.Volume(st, s.volume)
	if s.volume != nil && s.volume.Status.Phase != corev1.ClaimBound {
		// A claim can grow only once bound: keep its size until then.
		if want := site.RequestOf(vol); want.Cmp(*site.RequestOf(s.volume)) > 0 {
			s.resizePending = fmt.Sprintf("the volume grows to %s once it is bound", want.String())
			vol.Spec.Resources.Requests[corev1.ResourceStorage] = *site.RequestOf(s.volume)
		}
	}
	var res ctrl.Result
	if err := r.apply(ctx, vol); err != nil {
		if !apierrors.IsForbidden(err) {
			return ctrl.Result{}, err
		}
		// Quota admission refuses the claim until the quota controller has
		// caught up with the quota just raised: retry soon, backing off while
		// it keeps refusing, and do not hold the rest of the site back.
		s.resizePending = fmt.Sprintf("waiting for the namespace quota: %v", err)
		res.RequeueAfter = r.quotaBackoff.When(s.sub.UID)
	} else {
		r.quotaBackoff.Forget(s.sub.UID)
	}
	if err := r.apply(ctx, site.Deployment(st)); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.apply(ctx, site.Service(st)); err != nil {
		return ctrl.Result{}, err
	}
	if !r.routesServed() {
		s.routesMissing = true
		return res, nil
	}
	if err := r.apply(ctx, site.Route(st)); err != nil {
		return ctrl.Result{}, err
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
	found, err := r.get(ctx, client.ObjectKey{Namespace: s.sub.Namespace, Name: platform.SiteName(s.sub.Name)}, s.deployment)
	if err != nil {
		return err
	}
	if !found {
		s.deployment = nil
	}
	if found, err = r.get(ctx, client.ObjectKey{Namespace: s.sub.Namespace, Name: platform.SiteVolumeName(s.sub.Name)}, s.volume); err != nil {
		return err
	}
	if !found {
		s.volume = nil
	}
	return nil
}

// removeSite deletes the workload first (the site stops serving before
// anything else goes), then its route and Service, and last the volume:
// deleted under deletionPolicy Delete, kept unowned under Retain.
func (r *Reconciler) removeSite(ctx context.Context, s *scope) error {
	key := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: s.sub.Namespace, Name: name}
	}
	name := platform.SiteName(s.sub.Name)
	for _, obj := range []client.Object{
		&appsv1.Deployment{ObjectMeta: key(name)},
		&gatewayv1.HTTPRoute{ObjectMeta: key(name)},
		&networkingv1.Ingress{ObjectMeta: key(name)},
		&corev1.Service{ObjectMeta: key(name)},
	} {
		if _, isRoute := obj.(*gatewayv1.HTTPRoute); isRoute && r.Config.RouteKind == platform.RouteIngress {
			continue
		}
		if _, isIngress := obj.(*networkingv1.Ingress); isIngress && r.Config.RouteKind != platform.RouteIngress {
			continue
		}
		if _, isRoute := obj.(*gatewayv1.HTTPRoute); isRoute && !r.routesServed() {
			continue
		}
		if err := r.remove(ctx, obj); err != nil {
			return err
		}
	}
	vol := &corev1.PersistentVolumeClaim{}
	found, err := r.get(ctx, client.ObjectKey{Namespace: s.sub.Namespace, Name: platform.SiteVolumeName(s.sub.Name)}, vol)
	if err != nil || !found || !vol.DeletionTimestamp.IsZero() {
		s.volume = nil
		return err
	}
	if s.sub.Spec.DeletionPolicy == v1.DeletionPolicyRetain {
		account := s.accountName
		if account == "" {
			account = vol.Labels[v1.AccountLabel]
		}
		s.volume = vol
		return r.apply(ctx, site.RetainedVolume(account, vol))
	}
	s.volume = nil
	return r.remove(ctx, vol)
}

// observe reads what the status reports from the world: the Deployment's
// availability and the custom domains holding a route, then sets status.
func (r *Reconciler) observe(ctx context.Context, s *scope) (ctrl.Result, error) {
	if s.life.Phase != v1.PhaseTerminated {
		if err := r.readSite(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
	}
	var domains v1.CustomDomainList
	if err := r.Client.List(ctx, &domains, client.InNamespace(s.sub.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing custom domains: %w", err)
	}
	var inUse int32
	for _, d := range domains.Items {
		if d.Spec.Subscription == s.sub.Name && (d.Status.Phase == v1.DomainActive || d.Status.Phase == v1.DomainLapsed) {
			inUse++
		}
	}
	s.sub.Status.Usage.CustomDomains = inUse
	setStatus(s)
	return untilNext(s.now, s.life.Next), nil
}
