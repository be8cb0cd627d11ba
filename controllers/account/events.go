package account

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// recordTransitions emits an Event for each change of phase and of the
// NamespaceReady condition between before and after this reconcile. A new
// account's first phase, Active, is no change: its status and Ready
// condition say it, and an Event would be one more write per account.
func (r *Reconciler) recordTransitions(before, after *hostingv1alpha1.Account) {
	born := before.Status.Phase == "" && after.Status.Phase == hostingv1alpha1.AccountActive
	if before.Status.Phase != after.Status.Phase && !born {
		typ := corev1.EventTypeNormal
		if after.Status.Phase == hostingv1alpha1.AccountPending && before.Status.Phase != "" {
			typ = corev1.EventTypeWarning
		}
		note := "account is " + string(after.Status.Phase)
		if c := meta.FindStatusCondition(after.Status.Conditions, hostingv1alpha1.ConditionReady); c != nil && c.Message != "" {
			note += ": " + c.Message
		}
		if after.Status.Phase == hostingv1alpha1.AccountSuspended {
			note = "account is Suspended (" + string(after.Spec.Suspension.Reason) + "): members are read-only"
		}
		r.Recorder.Eventf(after, nil, typ, string(after.Status.Phase), "Reconcile", "%s", note)
	}
	old := meta.FindStatusCondition(before.Status.Conditions, hostingv1alpha1.ConditionNamespaceReady)
	cur := meta.FindStatusCondition(after.Status.Conditions, hostingv1alpha1.ConditionNamespaceReady)
	if cur != nil && (old == nil || old.Reason != cur.Reason) && cur.Reason == hostingv1alpha1.ReasonNamespaceNotOwned {
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, cur.Reason, "Adopt", "%s", cur.Message)
	}
}
