package customdomain

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;delete

// SlotName is the name of slot i of a subscription's custom domains (see the
// plan gate's comment in gate.go).
func SlotName(subscription string, i int32) string {
	return fmt.Sprintf("%s-slot-%d", subscription, i)
}

// BuildSlot is slot i of the site of cd (the site of its namespace, where
// the slot lives), held by cd.
func BuildSlot(cd *hostingv1alpha1.CustomDomain, account, subscription string, i int32) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       cd.Namespace,
			Name:            SlotName(subscription, i),
			Labels:          platform.SiteLabels(account, subscription),
			OwnerReferences: []metav1.OwnerReference{ownerRef(cd)},
		},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(cd.Name)},
	}
}

// slotIndex parses the index of a slot of subscription from its name.
func slotIndex(subscription, name string) (int32, bool) {
	rest, ok := strings.CutPrefix(name, subscription+"-slot-")
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(rest, 10, 32)
	if err != nil || i < 0 || strconv.FormatInt(i, 10) != rest {
		return 0, false
	}
	return int32(i), true
}

// slotHolder is the UID of the CustomDomain controlling a slot, or "".
func slotHolder(l *coordinationv1.Lease) string {
	if ref := metav1.GetControllerOf(l); ref != nil && ref.Kind == "CustomDomain" {
		return string(ref.UID)
	}
	return ""
}

// listSlots lists the slot objects of a site through reader.
func listSlots(ctx context.Context, reader client.Reader, namespace, subscription string) ([]coordinationv1.Lease, error) {
	list := &coordinationv1.LeaseList{}
	if err := reader.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{
		hostingv1alpha1.SubscriptionLabel: subscription,
		hostingv1alpha1.ManagedByLabel:    hostingv1alpha1.ManagedByValue,
	}); err != nil {
		return nil, fmt.Errorf("listing the slots of %s: %w", subscription, err)
	}
	out := list.Items[:0]
	for _, l := range list.Items {
		if _, ok := slotIndex(subscription, l.Name); ok && l.DeletionTimestamp.IsZero() {
			out = append(out, l)
		}
	}
	return out, nil
}

// admit is the plan gate's I/O: it reads the site's slots from the API server
// (not the cache: the decision must see every create that succeeded),
// releases slots whose holder is gone, and takes a free slot when Gate lets
// self try. admitted means self holds a slot now.
func (r *Reconciler) admit(ctx context.Context, s *scope, limit int32) (admitted bool, inUse int32, err error) {
	cd, sub := s.cd, s.obs.sub.Name
	leases, err := listSlots(ctx, r.APIReader, cd.Namespace, sub)
	if err != nil {
		return false, 0, err
	}
	live := map[string]bool{}
	for i := range s.siblings {
		live[string(s.siblings[i].UID)] = true
	}
	var slots []Slot
	byIndex := map[int32]*coordinationv1.Lease{}
	for i := range leases {
		l := &leases[i]
		idx, _ := slotIndex(sub, l.Name)
		holder := slotHolder(l)
		// A holder among the siblings (listed just before) counts; any other
		// is looked up, after the slot was read.
		if holder != string(cd.UID) && !live[holder] {
			gone, err := r.slotHolderGone(ctx, l, holder)
			if err != nil {
				return false, 0, err
			}
			if gone {
				if err := r.deleteSlot(ctx, l); err != nil {
					return false, 0, err
				}
				continue
			}
		}
		slots = append(slots, Slot{Index: idx, Holder: holder})
		byIndex[idx] = l
	}
	d := Gate(cd, s.siblings, slots, limit)
	held := len(d.Held) > 0
	for _, i := range d.Try {
		err := r.Create(ctx, BuildSlot(cd, s.account.Name, sub, i))
		if apierrors.IsAlreadyExists(err) {
			continue // another domain took it first
		}
		if err != nil {
			return held, d.InUse, fmt.Errorf("taking slot %d: %w", i, err)
		}
		if !held {
			s.log.Info("took a custom-domain slot", "slot", i)
			return true, d.InUse + 1, nil
		}
		// Moved down: give back the over-limit slots.
		for _, j := range d.Held {
			if err := r.deleteSlot(ctx, byIndex[j]); err != nil {
				return true, d.InUse, err
			}
		}
		return true, d.InUse, nil
	}
	// More than one held (an interrupted move): keep the lowest.
	for _, j := range d.Held[min(1, len(d.Held)):] {
		if err := r.deleteSlot(ctx, byIndex[j]); err != nil {
			return true, d.InUse, err
		}
	}
	return held, d.InUse, nil
}

// slotHolderGone reports whether the CustomDomain a slot names no longer
// exists (read after the slot, so a live holder is always found).
func (r *Reconciler) slotHolderGone(ctx context.Context, l *coordinationv1.Lease, holder string) (bool, error) {
	name := ptr.Deref(l.Spec.HolderIdentity, "")
	if holder == "" || name == "" {
		return true, nil
	}
	cd := &hostingv1alpha1.CustomDomain{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: l.Namespace, Name: name}, cd)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("reading the holder of slot %s: %w", l.Name, err)
	}
	return string(cd.UID) != holder, nil
}

// releaseSlots gives back every slot cd holds, after deleting its route (a
// delete the API server confirms, not the cache's word): a slot is free only
// once its domain's route is gone. reader is the cache on the hot path (a
// slot it does not show yet brings cd back here through the slot watch) and
// the API server when cd is being deleted. The slots are found by their
// holder, not by the site's name: a domain whose namespace is no longer a
// site's (or whose subscription is gone) still gives its slots back.
func (r *Reconciler) releaseSlots(ctx context.Context, reader client.Reader, cd *hostingv1alpha1.CustomDomain) error {
	list := &coordinationv1.LeaseList{}
	if err := reader.List(ctx, list, client.InNamespace(cd.Namespace), client.MatchingLabels{
		hostingv1alpha1.ManagedByLabel: hostingv1alpha1.ManagedByValue,
	}); err != nil {
		return fmt.Errorf("listing the slots of %s: %w", cd.Name, err)
	}
	var mine []*coordinationv1.Lease
	for i := range list.Items {
		l := &list.Items[i]
		if _, ok := slotIndex(l.Labels[hostingv1alpha1.SubscriptionLabel], l.Name); ok && l.DeletionTimestamp.IsZero() && slotHolder(l) == string(cd.UID) {
			mine = append(mine, l)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	if err := r.Delete(ctx, emptyRoute(r.Config, cd)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the route before releasing the slot: %w", err)
	}
	for _, l := range mine {
		ctrl.LoggerFrom(ctx).Info("releasing a custom-domain slot", "slot", l.Name)
		if err := r.deleteSlot(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// deleteSlot deletes exactly that slot object (UID precondition).
func (r *Reconciler) deleteSlot(ctx context.Context, l *coordinationv1.Lease) error {
	err := r.Delete(ctx, l, client.Preconditions{UID: &l.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("releasing slot %s: %w", l.Name, err)
	}
	return nil
}
