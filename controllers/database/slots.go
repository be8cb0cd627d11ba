package database

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// The plan gate: at most limits.databases Databases of a site exist on the
// server, under any interleaving of workers, restarts and simultaneous
// creates. It is the custom domains' mechanism (controllers/customdomain,
// gate.go): name-unique slot objects. Slot i of a site is a Lease named
// <subscription>-database-slot-<i> in the site namespace, controlled by the
// Database holding it; a Database creates anything on the server only after
// it holds a slot, and takes one by creating it (the API server lets exactly
// one of simultaneous creates of one name succeed), so no slot ≥ L is ever
// created under a limit L and no two Databases hold the same slot. A slot is
// given back only after the database was dropped (or retained) on the
// server. A Database holding a slot keeps it when the limit is lowered (a
// downgrade deletes no data); no new one is admitted while a slot ≥ L is
// held. Waiting Databases compete by (creationTimestamp, name).

// SlotName is the name of slot i of a subscription's databases. It never
// parses as a custom-domain slot (<subscription>-slot-<i>).
func SlotName(subscription string, i int32) string {
	return fmt.Sprintf("%s-database-slot-%d", subscription, i)
}

func slotIndex(subscription, name string) (int32, bool) {
	rest, ok := strings.CutPrefix(name, subscription+"-database-slot-")
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(rest, 10, 32)
	if err != nil || i < 0 || strconv.FormatInt(i, 10) != rest {
		return 0, false
	}
	return int32(i), true
}

// BuildSlot is slot i of db's site, held by db.
func BuildSlot(db *v1.Database, account, subscription string, i int32) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       db.Namespace,
			Name:            SlotName(subscription, i),
			Labels:          platform.SiteLabels(account, subscription),
			OwnerReferences: []metav1.OwnerReference{ownerRef(db)},
		},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(db.Name)},
	}
}

func ownerRef(db *v1.Database) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: v1.GroupVersion.String(), Kind: "Database", Name: db.Name, UID: db.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

func slotHolder(l *coordinationv1.Lease) string {
	if ref := metav1.GetControllerOf(l); ref != nil && ref.Kind == "Database" {
		return string(ref.UID)
	}
	return ""
}

// Slot is one slot of a site as read from the API server.
type Slot struct {
	Index  int32
	Holder string
}

// Decision is the gate's answer for one Database.
type Decision struct {
	// Held are the slots self holds, lowest first.
	Held []int32
	// Try are the free slots self may take, in order.
	Try []int32
	// InUse is how many Databases hold a slot.
	InUse int32
}

// Gate decides from the site's slots, its Databases and the limit what self
// holds and which free slots it may try to take.
func Gate(self *v1.Database, siblings []v1.Database, slots []Slot, limit int32) Decision {
	var d Decision
	taken := map[int32]bool{}
	holders := map[string]bool{}
	over := false
	for _, sl := range slots {
		taken[sl.Index] = true
		holders[sl.Holder] = true
		if sl.Holder == string(self.UID) {
			d.Held = append(d.Held, sl.Index)
		} else if sl.Index >= limit {
			over = true
		}
	}
	d.InUse = int32(len(holders))
	slices.Sort(d.Held)
	var free []int32
	for i := int32(0); i < limit; i++ {
		if !taken[i] {
			free = append(free, i)
		}
	}
	if len(d.Held) > 0 {
		if d.Held[0] >= limit {
			d.Try = free // move down
		}
		return d
	}
	if over || len(free) == 0 {
		return d
	}
	ahead := 0
	for i := range siblings {
		sib := &siblings[i]
		if sib.UID != self.UID && !holders[string(sib.UID)] && before(sib, self) {
			ahead++
		}
	}
	if ahead < len(free) {
		d.Try = free
	}
	return d
}

func before(a, b *v1.Database) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// Limit is the site's databases limit: the Subscription's effective limits,
// else the plan's; absent means none.
func Limit(sub *v1.Subscription, plan *v1.Plan) int32 {
	if l := sub.Status.EffectiveLimits.Databases; l != nil {
		return *l
	}
	if plan != nil && plan.Spec.Limits.Databases != nil {
		return *plan.Spec.Limits.Databases
	}
	return 0
}

// listSlots reads the site's database slots from the API server.
func listSlots(ctx context.Context, reader client.Reader, namespace, subscription string) ([]coordinationv1.Lease, error) {
	list := &coordinationv1.LeaseList{}
	if err := reader.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{
		v1.SubscriptionLabel: subscription,
		v1.ManagedByLabel:    v1.ManagedByValue,
	}); err != nil {
		return nil, fmt.Errorf("listing the database slots of %s: %w", subscription, err)
	}
	out := list.Items[:0]
	for _, l := range list.Items {
		if _, ok := slotIndex(subscription, l.Name); ok && l.DeletionTimestamp.IsZero() {
			out = append(out, l)
		}
	}
	return out, nil
}

// admit reads the site's slots (uncached), releases those whose holder is
// gone, and takes a free one when Gate lets self try. admitted: self holds
// a slot now.
func (r *Reconciler) admit(ctx context.Context, s *scope, limit int32) (admitted bool, inUse int32, err error) {
	db, sub := s.db, s.sub.Name
	leases, err := listSlots(ctx, r.APIReader, db.Namespace, sub)
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
		if holder != string(db.UID) && !live[holder] {
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
	d := Gate(db, s.siblings, slots, limit)
	held := len(d.Held) > 0
	for _, i := range d.Try {
		err := r.Create(ctx, BuildSlot(db, s.account.Name, sub, i))
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return held, d.InUse, fmt.Errorf("taking database slot %d: %w", i, err)
		}
		if !held {
			s.log.Info("took a database slot", "slot", i)
			return true, d.InUse + 1, nil
		}
		for _, j := range d.Held {
			if err := r.deleteSlot(ctx, byIndex[j]); err != nil {
				return true, d.InUse, err
			}
		}
		return true, d.InUse, nil
	}
	for _, j := range d.Held[min(1, len(d.Held)):] {
		if err := r.deleteSlot(ctx, byIndex[j]); err != nil {
			return true, d.InUse, err
		}
	}
	return held, d.InUse, nil
}

// slotHolderGone reports whether the Database a slot names no longer exists
// (read after the slot, so a live holder is always found). A holder being
// deleted still holds its slot: its database is on the server until its
// finalizer drops it.
func (r *Reconciler) slotHolderGone(ctx context.Context, l *coordinationv1.Lease, holder string) (bool, error) {
	name := ptr.Deref(l.Spec.HolderIdentity, "")
	if holder == "" || name == "" {
		return true, nil
	}
	db := &v1.Database{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: l.Namespace, Name: name}, db)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("reading the holder of slot %s: %w", l.Name, err)
	}
	return string(db.UID) != holder, nil
}

// releaseSlots gives back every slot db holds (after its database is gone
// from the server).
func (r *Reconciler) releaseSlots(ctx context.Context, db *v1.Database) error {
	list := &coordinationv1.LeaseList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(db.Namespace), client.MatchingLabels{
		v1.ManagedByLabel: v1.ManagedByValue,
	}); err != nil {
		return fmt.Errorf("listing the slots of %s: %w", db.Name, err)
	}
	for i := range list.Items {
		l := &list.Items[i]
		if _, ok := slotIndex(l.Labels[v1.SubscriptionLabel], l.Name); ok && slotHolder(l) == string(db.UID) {
			if err := r.deleteSlot(ctx, l); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Reconciler) deleteSlot(ctx context.Context, l *coordinationv1.Lease) error {
	err := r.Delete(ctx, l, client.Preconditions{UID: &l.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("releasing slot %s: %w", l.Name, err)
	}
	return nil
}
