package subscription

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/site"
)

// setStatus computes the status from what this reconcile found; small,
// I/O-free, one function per condition.
func setStatus(s *scope) {
	st := &s.sub.Status
	s.statusComputed = true
	setLifecycleStatus(s)
	st.EffectiveLimits = v1.Limits{}
	if s.limits != nil {
		st.EffectiveLimits = *s.limits
	}
	st.Site = v1.SiteStatus{}
	if s.siteNSReady && s.life.Phase != v1.PhaseTerminated {
		st.Site.Namespace = s.siteNS
		st.Site.StoppedWorkloads = s.stoppedWorkloads
	}
	if s.deployment != nil && s.life.Phase != v1.PhaseTerminated {
		st.Site.URL = s.url
		st.Site.Template = s.deployment.Annotations[site.TemplateAnnotation]
		st.Site.Ready = available(s.deployment)
	}

	setOverQuota(s)
	setLimitsApplied(s)
	setSiteReady(s)
	setRouted(s)
	setReady(s)
}

// setLifecycleStatus sets what the lifecycle alone decides: the phase, its
// deadlines and the Suspended and RenewalDue conditions. A reconcile that
// failed later still reports these.
func setLifecycleStatus(s *scope) {
	st := &s.sub.Status
	st.Phase = s.life.Phase
	switch {
	case s.life.Since != nil:
		st.PhaseSince = &metav1.Time{Time: *s.life.Since}
	case s.old.Phase == st.Phase && s.old.PhaseSince != nil:
		// The phase began at an event the spec does not date (a suspension
		// was set): keep the time it was first seen.
		st.PhaseSince = s.old.PhaseSince
	default:
		st.PhaseSince = &metav1.Time{Time: s.now}
	}
	st.RenewalDueAt = mtime(s.life.RenewalDueAt)
	st.SuspendAt = mtime(s.life.SuspendAt)
	st.TerminateAt = mtime(s.life.TerminateAt)
	setSuspended(s)
	setRenewalDue(s)
}

func mtime(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	return &metav1.Time{Time: *t}
}

func available(d *appsv1.Deployment) bool {
	return d.Spec.Replicas != nil && *d.Spec.Replicas > 0 &&
		d.Status.ObservedGeneration >= d.Generation &&
		d.Status.UpdatedReplicas >= 1 && d.Status.AvailableReplicas >= 1
}

func set(s *scope, typ string, ok bool, reason, msg string) {
	kernel.SetCondition(s.sub, typ, ok, reason, msg)
}

// setRouted says whether the site's default hostname is routed; without the
// Gateway API it cannot be, and the condition says how to install it.
func setRouted(s *scope) {
	switch {
	case s.routesMissing:
		set(s, v1.ConditionRouted, false, v1.ReasonGatewayAPIMissing,
			"the Gateway API CRDs (gateway.networking.k8s.io/v1 HTTPRoute, ReferenceGrant) are not installed, so the site has no route; "+
				"install them (make install-gateway-api, or the Gateway API standard-install manifest): Landlord writes the route without a restart")
	case s.problem != nil && s.deployment == nil, s.life.Phase == v1.PhaseTerminated, s.life.Phase == v1.PhasePending, s.taken != "":
		meta.RemoveStatusCondition(&s.sub.Status.Conditions, v1.ConditionRouted)
	default:
		set(s, v1.ConditionRouted, true, v1.ReasonReconciled, "")
	}
}

func setSuspended(s *scope) {
	switch s.life.Phase {
	case v1.PhaseSuspended:
		msg := "the site is suspended"
		switch {
		case s.life.Reason == v1.ReasonAccountSuspended:
			msg = "the account is suspended"
			if m := s.account.Spec.Suspension.Message; m != "" {
				msg += ": " + m
			}
		case s.sub.Spec.Suspension != nil && string(s.sub.Spec.Suspension.Reason) == s.life.Reason:
			if m := s.sub.Spec.Suspension.Message; m != "" {
				msg += ": " + m
			}
		default:
			msg = "the grace period after paidThrough has ended; a payment lifts the suspension"
		}
		set(s, v1.ConditionSuspended, true, s.life.Reason, msg)
	case v1.PhaseCancelled:
		set(s, v1.ConditionSuspended, true, v1.ReasonCancelled, "cancelled at the end of the period")
	default:
		set(s, v1.ConditionSuspended, false, v1.ReasonNotSuspended, "")
	}
}

func setRenewalDue(s *scope) {
	if s.life.RenewalDue {
		set(s, v1.ConditionRenewalDue, true, v1.ReasonRenewalDue, fmt.Sprintf("paid through %s", s.life.PeriodEnd.UTC().Format("2006-01-02 15:04 MST")))
		return
	}
	set(s, v1.ConditionRenewalDue, false, v1.ReasonNotDue, "")
}

func setOverQuota(s *scope) {
	if s.limits == nil {
		set(s, v1.ConditionOverQuota, false, v1.ReasonWithinLimits, "")
		return
	}
	u := site.Usage{CustomDomains: s.sub.Status.Usage.CustomDomains}
	if s.volume != nil {
		u.Storage = site.RequestOf(s.volume)
	}
	if over := site.Over(*s.limits, u); len(over) > 0 {
		set(s, v1.ConditionOverQuota, true, v1.ReasonOverQuota, site.OverMessage(over))
		return
	}
	set(s, v1.ConditionOverQuota, false, v1.ReasonWithinLimits, "")
}

func setLimitsApplied(s *scope) {
	switch {
	case s.problem != nil:
		set(s, v1.ConditionLimitsApplied, false, s.problem.reason, s.problem.message)
	case s.life.Phase == v1.PhaseTerminated:
		set(s, v1.ConditionLimitsApplied, false, v1.ReasonTerminated, "the site was removed")
	case s.resizePending != "":
		set(s, v1.ConditionLimitsApplied, false, v1.ReasonProgressing, s.resizePending)
	default:
		set(s, v1.ConditionLimitsApplied, true, v1.ReasonReconciled, "")
	}
}

func setSiteReady(s *scope) {
	switch {
	case s.life.Phase == v1.PhaseTerminated:
		set(s, v1.ConditionSiteReady, false, v1.ReasonTerminated, "the site was removed")
	case s.problem != nil && s.deployment == nil:
		set(s, v1.ConditionSiteReady, false, s.problem.reason, s.problem.message)
	case s.taken != "":
		set(s, v1.ConditionSiteReady, false, v1.ReasonSiteObjectTaken, s.taken)
	case !s.serving():
		set(s, v1.ConditionSiteReady, false, v1.ReasonScaledDown, "scaled to zero; visitors see the suspended page; the data is kept")
	case s.deployment != nil && available(s.deployment):
		set(s, v1.ConditionSiteReady, true, v1.ReasonReconciled, "")
	default:
		set(s, v1.ConditionSiteReady, false, v1.ReasonProgressing, "waiting for the site's Deployment to become available")
	}
}

func setReady(s *scope) {
	switch {
	case s.problem != nil:
		msg := s.problem.message
		if s.deployment != nil {
			msg += "; the existing site is left as it is"
		}
		set(s, v1.ConditionReady, false, s.problem.reason, msg)
	case s.life.Phase == v1.PhaseTerminated:
		set(s, v1.ConditionReady, false, v1.ReasonTerminated, "terminated: the site and its routes were removed; this is final")
	case !s.serving():
		c := meta.FindStatusCondition(s.sub.Status.Conditions, v1.ConditionSuspended)
		set(s, v1.ConditionReady, false, c.Reason, c.Message)
	default:
		for _, typ := range []string{v1.ConditionLimitsApplied, v1.ConditionSiteReady, v1.ConditionRouted} {
			if c := meta.FindStatusCondition(s.sub.Status.Conditions, typ); c != nil && c.Status != metav1.ConditionTrue {
				set(s, v1.ConditionReady, false, c.Reason, c.Message)
				return
			}
		}
		set(s, v1.ConditionReady, true, v1.ReasonReconciled, "")
	}
}

func readyCondition(sub *v1.Subscription) *metav1.Condition {
	return meta.FindStatusCondition(sub.Status.Conditions, v1.ConditionReady)
}
