package account

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
)

// setStatus computes the account's status from what this reconcile observed
// (never from the old status).
func setStatus(s *scope) {
	acct := s.account
	st := &acct.Status
	st.Namespace = ""
	if s.nsState == nsReady || s.nsState == nsTerminating {
		st.Namespace = s.namespace
	}
	st.Subscriptions = s.counts
	st.Members = s.members
	setNamespaceReadyCondition(s)
	setSuspendedCondition(acct)
	setReadyCondition(s)
	st.Phase = phase(acct)
}

func setCondition(acct *hostingv1alpha1.Account, typ string, ok bool, reason, msg string) {
	kernel.SetCondition(acct, typ, ok, reason, msg)
}

func setNamespaceReadyCondition(s *scope) {
	acct := s.account
	switch {
	case s.nsState == nsNotOwned:
		setCondition(acct, hostingv1alpha1.ConditionNamespaceReady, false, hostingv1alpha1.ReasonNamespaceNotOwned,
			fmt.Sprintf("namespace %s exists without the label %s=%s; Landlord does not touch it. Label it to adopt it, or delete it",
				s.namespace, hostingv1alpha1.AccountLabel, acct.Name))
	case s.nsState == nsTerminating && !acct.DeletionTimestamp.IsZero():
		setCondition(acct, hostingv1alpha1.ConditionNamespaceReady, false, hostingv1alpha1.ReasonDeleting,
			fmt.Sprintf("namespace %s is being deleted with the account", s.namespace))
	case s.nsState == nsTerminating:
		setCondition(acct, hostingv1alpha1.ConditionNamespaceReady, false, hostingv1alpha1.ReasonNamespaceTerminating,
			fmt.Sprintf("namespace %s is terminating; it is re-created when it is gone", s.namespace))
	case s.nsState == nsReady && s.guardRails:
		setCondition(acct, hostingv1alpha1.ConditionNamespaceReady, true, hostingv1alpha1.ReasonReconciled,
			fmt.Sprintf("namespace %s with its NetworkPolicy, ResourceQuota and Pod Security labels is in place", s.namespace))
	case !acct.DeletionTimestamp.IsZero():
		setCondition(acct, hostingv1alpha1.ConditionNamespaceReady, false, hostingv1alpha1.ReasonDeleting,
			"the account is being deleted")
	default:
		setCondition(acct, hostingv1alpha1.ConditionNamespaceReady, false, hostingv1alpha1.ReasonProgressing,
			fmt.Sprintf("setting up namespace %s", s.namespace))
	}
}

func setSuspendedCondition(acct *hostingv1alpha1.Account) {
	if sus := acct.Spec.Suspension; sus != nil {
		msg := "the account is suspended: members are read-only"
		if sus.Message != "" {
			msg += ": " + sus.Message
		}
		setCondition(acct, hostingv1alpha1.ConditionSuspended, true, string(sus.Reason), msg)
		return
	}
	setCondition(acct, hostingv1alpha1.ConditionSuspended, false, hostingv1alpha1.ReasonNotSuspended, "the account is not suspended")
}

func setReadyCondition(s *scope) {
	acct := s.account
	nsReady := meta.FindStatusCondition(acct.Status.Conditions, hostingv1alpha1.ConditionNamespaceReady)
	switch {
	case !acct.DeletionTimestamp.IsZero():
		setCondition(acct, hostingv1alpha1.ConditionReady, false, hostingv1alpha1.ReasonDeleting,
			"the account is being deleted with its namespace; its domain claims are released")
	case nsReady.Status != metav1.ConditionTrue:
		setCondition(acct, hostingv1alpha1.ConditionReady, false, nsReady.Reason, nsReady.Message)
	case !s.ownerBound:
		setCondition(acct, hostingv1alpha1.ConditionReady, false, hostingv1alpha1.ReasonProgressing, "binding the owner")
	default:
		setCondition(acct, hostingv1alpha1.ConditionReady, true, hostingv1alpha1.ReasonReconciled,
			"the namespace, its guard rails and the owner's access are in place")
	}
}

// phase summarises the account from its conditions just computed.
func phase(acct *hostingv1alpha1.Account) hostingv1alpha1.AccountPhase {
	switch {
	case !acct.DeletionTimestamp.IsZero():
		return hostingv1alpha1.AccountTerminating
	case !meta.IsStatusConditionTrue(acct.Status.Conditions, hostingv1alpha1.ConditionReady):
		return hostingv1alpha1.AccountPending
	case acct.Spec.Suspension != nil:
		return hostingv1alpha1.AccountSuspended
	default:
		return hostingv1alpha1.AccountActive
	}
}
