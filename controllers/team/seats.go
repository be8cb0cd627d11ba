package team

import (
	"context"
	"errors"
	"fmt"
	"slices"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/tenancy"
)

// Seats. A site has limits.seats seats (plan plus add-ons); a person with
// access to the site through any of the account's Teams holds one. Seat i of
// subscription S is a Lease "landlord-seat-S-i" in the account namespace,
// holderIdentity = the subject's key: creating it is atomic through the API
// server's name uniqueness, so two teams reconciled at once by different
// workers can never both take the last seat. Rules:
//   - A subject holding a seat of S (any index) keeps it while a team wants
//     it in S, even above the limit after a downgrade (OverSeats).
//   - New seats are taken only at indices below the limit, and only while no
//     seat at or above the limit exists and fewer people than the limit hold
//     one: then every person with access holds an index below the limit, so
//     at most limit people have access. A holder above the limit moves down
//     (takes a free lower index first, then gives back the higher one).
//   - A waiting subject tries only when its place in the queue (queue(),
//     the longest waiting first) is within the free seats.
//   - A seat goes back (releaseSeats) when no Team wants its holder in S and
//     no Team binding in S's namespace names the holder, both read from the
//     API server: a seat is free only once its holder's access is gone.

// seatsOf lists, from the API server, the seats of site in the account
// namespace namespace (every site's when site is "").
func (r *Reconciler) seatsOf(ctx context.Context, namespace, site string) ([]coordinationv1.Lease, error) {
	opts := []client.ListOption{client.InNamespace(namespace)}
	if site != "" {
		opts = append(opts, client.MatchingLabels{hostingv1alpha1.SeatLabel: site})
	} else {
		opts = append(opts, client.HasLabels{hostingv1alpha1.SeatLabel})
	}
	list := &coordinationv1.LeaseList{}
	if err := r.APIReader.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("listing the seats in %s: %w", namespace, err)
	}
	out := list.Items[:0]
	for _, l := range list.Items {
		if _, ok := tenancy.SeatIndex(l.Labels[hostingv1alpha1.SeatLabel], l.Name); ok && l.DeletionTimestamp.IsZero() && l.Spec.HolderIdentity != nil {
			out = append(out, l)
		}
	}
	return out, nil
}

// takeSeats decides which of the team's members are bound in st, taking
// free seats for those whose turn it is.
func (r *Reconciler) takeSeats(ctx context.Context, s *scope, st *siteState) error {
	log := ctrl.LoggerFrom(ctx)
	leases, err := r.seatsOf(ctx, s.team.Namespace, st.name)
	if err != nil {
		return err
	}
	held := map[string][]*coordinationv1.Lease{}
	used := map[int32]bool{}
	high := false
	for i := range leases {
		l := &leases[i]
		idx, _ := tenancy.SeatIndex(st.name, l.Name)
		used[idx] = true
		if idx >= st.seats {
			high = true
		}
		held[*l.Spec.HolderIdentity] = append(held[*l.Spec.HolderIdentity], l)
	}
	st.inUse = int32(len(held))
	st.over = st.inUse > st.seats || high
	free := func() (int32, bool) {
		for i := range st.seats {
			if !used[i] {
				return i, true
			}
		}
		return 0, false
	}
	var waiting []member
	for _, m := range s.members {
		if m.expired(s.now) {
			continue
		}
		mine := held[m.key]
		if len(mine) == 0 {
			waiting = append(waiting, m)
			continue
		}
		st.bound[m.key] = true
		if err := r.moveDown(ctx, s, st, m, mine, used, free); err != nil {
			return err
		}
	}
	if len(waiting) == 0 || high || st.inUse >= st.seats {
		return nil
	}
	holders := map[string]bool{}
	for k := range held {
		holders[k] = true
	}
	q := queue(s.teams, st.name, holders, s.now)
	room := int(st.seats - st.inUse)
	for _, m := range waiting {
		rank := slices.Index(q, m.key)
		if rank < 0 {
			// Not in the cache's view of this team yet: after the others.
			rank = len(q)
		}
		if rank >= room {
			continue
		}
		for {
			i, ok := free()
			if !ok {
				return nil
			}
			used[i] = true
			err := r.Create(ctx, buildSeat(s.account.Name, s.team.Namespace, st.name, i, m.key))
			if apierrors.IsAlreadyExists(err) {
				continue // another team took it first
			}
			if err != nil {
				return fmt.Errorf("taking seat %d of %s: %w", i, st.name, err)
			}
			log.Info("took a seat", "subscription", st.name, "seat", i, "subject", m.key)
			st.bound[m.key] = true
			st.inUse++
			break
		}
	}
	return nil
}

// moveDown moves a holder whose seats are all at or above the limit to a
// free seat below it, and gives back the extra seats of a holder holding
// more than one (an interrupted move).
func (r *Reconciler) moveDown(ctx context.Context, s *scope, st *siteState, m member, mine []*coordinationv1.Lease,
	used map[int32]bool, free func() (int32, bool)) error {
	slices.SortFunc(mine, func(a, b *coordinationv1.Lease) int {
		i, _ := tenancy.SeatIndex(st.name, a.Name)
		j, _ := tenancy.SeatIndex(st.name, b.Name)
		return int(i - j)
	})
	if lowest, _ := tenancy.SeatIndex(st.name, mine[0].Name); lowest >= st.seats {
		if i, ok := free(); ok {
			used[i] = true
			err := r.Create(ctx, buildSeat(s.account.Name, s.team.Namespace, st.name, i, m.key))
			switch {
			case apierrors.IsAlreadyExists(err):
				return nil // taken meanwhile: stay where it is
			case err != nil:
				return fmt.Errorf("moving a seat of %s down to %d: %w", st.name, i, err)
			}
			return r.deleteSeats(ctx, mine)
		}
		return nil
	}
	return r.deleteSeats(ctx, mine[1:])
}

func (r *Reconciler) deleteSeats(ctx context.Context, ls []*coordinationv1.Lease) error {
	var errs []error
	for _, l := range ls {
		if err := r.Delete(ctx, l, client.Preconditions{UID: &l.UID}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("giving back seat %s: %w", l.Name, err))
		}
	}
	return errors.Join(errs...)
}

// buildSeat is seat i of site, held by the subject key holder.
func buildSeat(account, namespace, site string, i int32, holder string) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace,
			Name:      tenancy.SeatName(site, i),
			Labels:    tenancy.SeatLabels(account, site),
		},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder)},
	}
}

// releaseSeats gives back, in the account namespace namespace, every seat
// whose holder no Team wants in its site any more and no Team binding of
// that site names. What the cache suggests is confirmed from the API server
// before a seat goes.
func (r *Reconciler) releaseSeats(ctx context.Context, namespace string) error {
	leases, err := r.seatsOf(ctx, namespace, "")
	if err != nil || len(leases) == 0 {
		return err
	}
	now := r.Clock.Now()
	cached := &hostingv1alpha1.TeamList{}
	if err := r.List(ctx, cached, client.InNamespace(namespace)); err != nil {
		return fmt.Errorf("listing the teams of %s: %w", namespace, err)
	}
	var candidates []*coordinationv1.Lease
	for i := range leases {
		l := &leases[i]
		if !wantedBy(cached.Items, *l.Spec.HolderIdentity, l.Labels[hostingv1alpha1.SeatLabel], now) {
			candidates = append(candidates, l)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	live := &hostingv1alpha1.TeamList{}
	if err := r.APIReader.List(ctx, live, client.InNamespace(namespace)); err != nil {
		return fmt.Errorf("listing the teams of %s: %w", namespace, err)
	}
	rbs, err := r.siteBindingsOf(ctx, r.APIReader, namespace, "")
	if err != nil {
		return err
	}
	acct, _ := r.Config.AccountOfNamespaceName(namespace)
	var gone []*coordinationv1.Lease
	for _, l := range candidates {
		holder, site := *l.Spec.HolderIdentity, l.Labels[hostingv1alpha1.SeatLabel]
		if wantedBy(live.Items, holder, site, now) || namedIn(rbs, r.Config.SiteNamespace(acct, site), holder) {
			continue
		}
		ctrl.LoggerFrom(ctx).Info("giving back a seat", "subscription", site, "seat", l.Name, "subject", holder)
		gone = append(gone, l)
	}
	return r.deleteSeats(ctx, gone)
}

// namedIn reports whether a binding among rbs in namespace names the
// subject key.
func namedIn(rbs []rbacv1.RoleBinding, namespace, key string) bool {
	for _, rb := range rbs {
		if rb.Namespace != namespace {
			continue
		}
		for _, s := range rb.Subjects {
			k := hostingv1alpha1.Subject{Kind: hostingv1alpha1.SubjectKind(s.Kind), Name: s.Name}
			if s.Kind == string(hostingv1alpha1.SubjectServiceAccount) {
				k.Namespace = s.Namespace
			}
			if tenancy.SubjectKey(k) == key {
				return true
			}
		}
	}
	return false
}
