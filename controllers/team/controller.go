// Package team reconciles Teams: each gives its members one site-level role
// (a tenant ClusterRole) in the site namespaces of the Subscriptions it
// lists, and get on exactly those Subscriptions in the account namespace,
// within the seats of each site (seats.go). A Team's RoleBindings in site
// namespaces carry no owner reference (cross-namespace owners are invalid):
// the account and team labels identify them, and Landlord removes them when
// the Team is deleted, whether or not its finalizer is still on it, or gone.
// Its Role and RoleBinding in the account namespace are owned by it (and
// removed with the rest). No object whose labels do not name the team is
// deleted or changed.
package team

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/rbacbind"
	"github.com/landlord-dev/landlord/internal/site"
	"github.com/landlord-dev/landlord/internal/tenancy"
)

// The manager creates a Role granting get on subscriptions: RBAC lets it,
// without escalate, because it holds get on subscriptions itself (the
// subscriptions rule of its ClusterRole); it binds that Role for the same
// reason, and the tenant ClusterRoles through bind on their names.
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=teams,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=teams/finalizers,verbs=update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=teams/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=subscriptions,verbs=get;list;watch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=plans,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler reconciles Teams.
type Reconciler struct {
	client.Client
	// APIReader reads the seats and, before a seat is given back, the Teams
	// and their bindings from the API server: those decisions must see every
	// write that succeeded, not the cache's view.
	APIReader client.Reader
	Clock     clock.Clock
	Config    platform.Config
	Recorder  events.EventRecorder
}

// scope is what one reconcile observed and decided.
type scope struct {
	team      *hostingv1alpha1.Team
	account   *hostingv1alpha1.Account
	noAccount string
	now       time.Time
	members   []member
	sites     []*siteState
	// teams are the account's Teams (the cache's view), for the seat queue.
	teams []hostingv1alpha1.Team
	gone  bool
}

// Reconcile binds a Team's members in its sites, within the seats.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("team", klog.KRef(req.Namespace, req.Name)))
	t := &hostingv1alpha1.Team{}
	if err := r.Get(ctx, req.NamespacedName, t); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading team %s: %w", req.NamespacedName, err)
		}
		// Bindings and seats left behind by a team that is gone (deleted
		// without Landlord's finalizer, say): what is labelled for it goes.
		return ctrl.Result{}, r.cleanup(ctx, req.Namespace, req.Name)
	}
	if kernel.Behind(t) {
		return kernel.CatchUp(), nil // the cache has not seen Landlord's last write yet
	}

	s := &scope{team: t, now: r.Clock.Now()}
	p := kernel.NewPatcher(r.Client, t)
	defer func() {
		if s.gone {
			// Written only when the deletion cannot finish (retErr says
			// why) or finalizers of others hold the team.
			if retErr == nil && !kernel.SetDeletionStatus(t, "its RoleBindings in its sites, its access to their Subscriptions and the seats it held") {
				return
			}
			if _, err := p.Patch(ctx, t, retErr); err != nil {
				retErr = errors.Join(retErr, err)
			}
			return
		}
		setStatus(s) // dropped by the patch helper while paused
		if _, err := p.Patch(ctx, t, retErr); err != nil {
			retErr = errors.Join(retErr, err)
			return
		}
		r.recordTransitions(p.Before().(*hostingv1alpha1.Team), t)
	}()
	s.members = membersOf(t, s.now)
	if kernel.Paused(t) {
		return ctrl.Result{}, nil
	}
	if !t.DeletionTimestamp.IsZero() {
		s.gone = true
		return ctrl.Result{}, r.reconcileDelete(ctx, t)
	}
	if err := kernel.EnsureFinalizer(ctx, r.Client, t); err != nil {
		return ctrl.Result{}, err
	}

	acct, err := kernel.AccountOf(ctx, r.Client, r.Config, t.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	if acct == nil || !acct.DeletionTimestamp.IsZero() {
		s.account = acct
		s.noAccount = kernel.NoAccountMessage(r.Config, t.Namespace)
		// No access anywhere.
		return ctrl.Result{}, r.cleanup(ctx, t.Namespace, t.Name)
	}
	s.account = acct
	teams := &hostingv1alpha1.TeamList{}
	if err := r.List(ctx, teams, client.InNamespace(t.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the teams of %s: %w", t.Namespace, err)
	}
	s.teams = teams.Items
	if err := r.observeSites(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	for _, st := range s.sites {
		if st.reason == "" {
			if err := r.takeSeats(ctx, s, st); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	if err := r.applyBindings(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	// Only now, with this team's bindings in step, may seats go back.
	if err := r.releaseSeats(ctx, t.Namespace); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: nextExpiry(s.members, s.now)}, nil
}

// reconcileDelete removes the team's bindings in its site namespaces and
// its access in the account namespace, gives back the seats nobody else
// needs, then lets the Team go; whether or not Landlord's finalizer is still
// on it.
func (r *Reconciler) reconcileDelete(ctx context.Context, t *hostingv1alpha1.Team) error {
	return kernel.Finalize(ctx, r.Client, t, func(ctx context.Context) error { return r.cleanup(ctx, t.Namespace, t.Name) })
}

// cleanup removes everything labelled for the team of that name in the
// account namespace namespace: its bindings in the site namespaces, its Role
// and RoleBinding in the account namespace; then it gives back the seats
// nobody needs any more.
func (r *Reconciler) cleanup(ctx context.Context, namespace, team string) error {
	if err := r.removeSiteBindings(ctx, namespace, team, nil); err != nil {
		return err
	}
	if err := r.removeAccountAccess(ctx, namespace, team); err != nil {
		return err
	}
	return r.releaseSeats(ctx, namespace)
}

// observeSites reads each site of spec.sites: its Subscription, site
// namespace and seats.
func (r *Reconciler) observeSites(ctx context.Context, s *scope) error {
	for _, name := range slices.Compact(slices.Sorted(slices.Values(s.team.Spec.Sites))) {
		st := &siteState{name: name, bound: map[string]bool{}}
		s.sites = append(s.sites, st)
		sub := &hostingv1alpha1.Subscription{}
		found, err := kernel.Get(ctx, r.Client, client.ObjectKey{Namespace: s.team.Namespace, Name: name}, sub)
		if err != nil {
			return err
		}
		if !found || !sub.DeletionTimestamp.IsZero() {
			st.reason, st.message = hostingv1alpha1.ReasonSiteNotFound, fmt.Sprintf("no Subscription %s in account %s", name, s.account.Name)
			continue
		}
		st.exists = true
		nsName := r.Config.SiteNamespace(s.account.Name, name)
		ns := &corev1.Namespace{}
		found, err = kernel.Get(ctx, r.Client, client.ObjectKey{Name: nsName}, ns)
		if err != nil {
			return err
		}
		if a, sb := platform.SiteOfNamespace(ns.Labels); !found || a != s.account.Name || sb != name ||
			!ns.DeletionTimestamp.IsZero() || ns.Status.Phase == corev1.NamespaceTerminating {
			st.reason, st.message = hostingv1alpha1.ReasonSiteNotReady, fmt.Sprintf("the site namespace %s does not exist yet", nsName)
			continue
		}
		plan := &hostingv1alpha1.Plan{}
		found, err = kernel.Get(ctx, r.Client, client.ObjectKey{Name: sub.Spec.Plan}, plan)
		if err != nil {
			return err
		}
		if !found {
			st.reason, st.message = hostingv1alpha1.ReasonSiteNotReady, fmt.Sprintf("plan %s not found: the site's seats are unknown", sub.Spec.Plan)
			continue
		}
		limits, err := site.EffectiveLimits(plan, sub.Spec.AddOns)
		if err != nil {
			st.reason, st.message = hostingv1alpha1.ReasonSiteNotReady, err.Error()
			continue
		}
		st.namespace, st.seats = nsName, *limits.Seats
	}
	return nil
}

// applyBindings makes the team's RoleBindings in its site namespaces and its
// Role and RoleBinding in the account namespace match who is bound, and
// removes its bindings from every other namespace.
func (r *Reconciler) applyBindings(ctx context.Context, s *scope) error {
	suspended := s.account.Spec.Suspension != nil
	keep := map[string]bool{}
	var errs []error
	for _, st := range s.sites {
		if st.namespace == "" {
			continue
		}
		var subjects []hostingv1alpha1.Subject
		for _, m := range s.members {
			if st.bound[m.key] {
				subjects = append(subjects, m.subject)
			}
		}
		rb := tenancy.BuildTeamSiteBinding(s.team, tenancy.SiteTarget(s.account.Name, st.name, r.Config), suspended, subjects)
		if rb == nil {
			continue
		}
		if err := rbacbind.Apply(ctx, r.Client, rb); err != nil {
			errs = append(errs, fmt.Errorf("binding team %s in %s: %w", s.team.Name, st.namespace, err))
			continue
		}
		keep[st.namespace] = true
	}
	if err := r.removeSiteBindings(ctx, s.team.Namespace, s.team.Name, keep); err != nil {
		errs = append(errs, err)
	}
	if err := r.applyAccountAccess(ctx, s, s.sites); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// applyAccountAccess gives the members bound in at least one site get on the
// team's existing Subscriptions (a Role and a RoleBinding in the account
// namespace), or removes both.
func (r *Reconciler) applyAccountAccess(ctx context.Context, s *scope, sites []*siteState) error {
	var names []string
	var subjects []hostingv1alpha1.Subject
	for _, m := range s.members {
		for _, st := range sites {
			if st.bound[m.key] {
				subjects = append(subjects, m.subject)
				break
			}
		}
	}
	for _, st := range sites {
		if st.exists {
			names = append(names, st.name)
		}
	}
	account := ""
	if s.account != nil {
		account = s.account.Name
	}
	role := tenancy.BuildTeamSubscriptionRole(s.team, account, names)
	rb := tenancy.BuildTeamAccountBinding(s.team, account, subjects)
	if role == nil || rb == nil {
		return r.removeAccountAccess(ctx, s.team.Namespace, s.team.Name)
	}
	if _, err := kernel.Apply(ctx, r.Client, nil, role); err != nil {
		return fmt.Errorf("applying the subscriptions Role of team %s: %w", s.team.Name, err)
	}
	if err := rbacbind.Apply(ctx, r.Client, rb); err != nil {
		return fmt.Errorf("binding team %s in the account namespace: %w", s.team.Name, err)
	}
	return nil
}

// teamLabels are the labels that name the team of that name of account.
func teamLabels(account, team string) map[string]string {
	return map[string]string{hostingv1alpha1.AccountLabel: account, hostingv1alpha1.TeamLabel: tenancy.TeamLabelValue(team)}
}

// removeAccountAccess deletes the team's Role and RoleBinding in the account
// namespace namespace, if their labels name the team: an object of that name
// that is not labelled for it is left alone, and a namespace that is no
// account's namespace has none (a Team in a site namespace must not delete
// a real team's binding there).
func (r *Reconciler) removeAccountAccess(ctx context.Context, namespace, team string) error {
	account, ok := r.Config.AccountOfNamespaceName(namespace)
	if !ok {
		return nil
	}
	want := teamLabels(account, team)
	key := client.ObjectKey{Namespace: namespace, Name: tenancy.TeamObjectName(team)}
	rb := &rbacv1.RoleBinding{}
	if found, err := kernel.Get(ctx, r.Client, key, rb); err != nil {
		return err
	} else if found {
		if err := rbacbind.Delete(ctx, r.Client, rb, want); err != nil {
			return err
		}
	}
	role := &rbacv1.Role{}
	found, err := kernel.Get(ctx, r.Client, key, role)
	if err != nil || !found || !role.DeletionTimestamp.IsZero() || !rbacbind.For(role.Labels, want) {
		return err
	}
	uid := role.UID
	if err := r.Delete(ctx, role, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting the subscriptions Role of team %s/%s: %w", namespace, team, err)
	}
	return nil
}

// siteBindingsOf lists, through reader, the team RoleBindings of the account
// whose namespace is namespace in its site namespaces; team "" lists every
// team's.
func (r *Reconciler) siteBindingsOf(ctx context.Context, reader client.Reader, namespace, team string) ([]rbacv1.RoleBinding, error) {
	acct, ok := r.Config.AccountOfNamespaceName(namespace)
	if !ok {
		return nil, nil
	}
	sel := client.MatchingLabels{hostingv1alpha1.AccountLabel: acct}
	list := &rbacv1.RoleBindingList{}
	if err := reader.List(ctx, list, sel, client.HasLabels{hostingv1alpha1.TeamLabel}); err != nil {
		return nil, fmt.Errorf("listing the team bindings of %s: %w", namespace, err)
	}
	var out []rbacv1.RoleBinding
	for _, rb := range list.Items {
		if rb.Namespace == namespace || (team != "" && rb.Labels[hostingv1alpha1.TeamLabel] != tenancy.TeamLabelValue(team)) {
			continue
		}
		out = append(out, rb)
	}
	return out, nil
}

// removeSiteBindings deletes the team's bindings in its account's site
// namespaces but those of keep.
func (r *Reconciler) removeSiteBindings(ctx context.Context, namespace, team string, keep map[string]bool) error {
	rbs, err := r.siteBindingsOf(ctx, r.Client, namespace, team)
	if err != nil {
		return err
	}
	acct, _ := r.Config.AccountOfNamespaceName(namespace)
	var errs []error
	for _, rb := range rbs {
		if keep[rb.Namespace] {
			continue
		}
		if err := rbacbind.Delete(ctx, r.Client, &rb, teamLabels(acct, team)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SetupWithManager registers the controller: Teams, their bindings (by the
// team label), the account's Subscriptions, Plans, namespaces and seats
// (which can let a waiting member in), the Account (suspension) and the
// clock (expiry in tests).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	hasLabel := func(l string) predicate.Predicate {
		return predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetLabels()[l] != "" })
	}
	toAccountTeams := handler.EnqueueRequestsFromMapFunc(r.teamsOfLabelledAccount)
	b := ctrl.NewControllerManagedBy(mgr).
		For(&hostingv1alpha1.Team{}).
		Watches(&rbacv1.RoleBinding{}, handler.EnqueueRequestsFromMapFunc(r.teamOfBinding), builder.WithPredicates(hasLabel(hostingv1alpha1.TeamLabel))).
		Watches(&coordinationv1.Lease{}, toAccountTeams, builder.WithPredicates(hasLabel(hostingv1alpha1.SeatLabel))).
		Watches(&corev1.Namespace{}, toAccountTeams, builder.WithPredicates(hasLabel(hostingv1alpha1.SubscriptionLabel))).
		Watches(&hostingv1alpha1.Subscription{}, handler.EnqueueRequestsFromMapFunc(r.teamsOfNamespace)).
		Watches(&hostingv1alpha1.Team{}, handler.EnqueueRequestsFromMapFunc(r.teamsOfNamespace),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&hostingv1alpha1.Account{}, handler.EnqueueRequestsFromMapFunc(r.teamsOfAccount)).
		Watches(&hostingv1alpha1.Plan{}, handler.EnqueueRequestsFromMapFunc(r.allTeams)).
		Named("team")
	if src := clock.WakeSource(r.Clock, mgr.GetClient(), func() client.ObjectList { return &hostingv1alpha1.TeamList{} }); src != nil {
		b = b.WatchesRawSource(src)
	}
	return b.Complete(r)
}

// teamOfBinding maps a team's RoleBinding to its Team: the one of the
// binding's account whose label value it carries, else (the team is gone) a
// request under the label value, whose reconcile removes what is left.
func (r *Reconciler) teamOfBinding(ctx context.Context, o client.Object) []reconcile.Request {
	value, account := o.GetLabels()[hostingv1alpha1.TeamLabel], o.GetLabels()[hostingv1alpha1.AccountLabel]
	if value == "" || account == "" {
		return nil
	}
	namespace := r.Config.AccountNamespace(account)
	list := &hostingv1alpha1.TeamList{}
	if err := r.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	for _, t := range list.Items {
		if tenancy.TeamLabelValue(t.Name) == value {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: namespace, Name: t.Name}}}
		}
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: namespace, Name: value}}}
}

func (r *Reconciler) teamsOfLabelledAccount(ctx context.Context, o client.Object) []reconcile.Request {
	account := o.GetLabels()[hostingv1alpha1.AccountLabel]
	if account == "" {
		return nil
	}
	return r.listRequests(ctx, client.InNamespace(r.Config.AccountNamespace(account)))
}

func (r *Reconciler) teamsOfNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	return r.listRequests(ctx, client.InNamespace(o.GetNamespace()))
}

func (r *Reconciler) teamsOfAccount(ctx context.Context, o client.Object) []reconcile.Request {
	return r.listRequests(ctx, client.InNamespace(r.Config.AccountNamespace(o.GetName())))
}

func (r *Reconciler) allTeams(ctx context.Context, _ client.Object) []reconcile.Request {
	return r.listRequests(ctx)
}

func (r *Reconciler) listRequests(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	list := &hostingv1alpha1.TeamList{}
	if err := r.List(ctx, list, opts...); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, t := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: t.Namespace, Name: t.Name}})
	}
	return reqs
}

// recordTransitions emits an Event on the Team for every member granted
// access to a site, and for every member whose access expired.
func (r *Reconciler) recordTransitions(before, after *hostingv1alpha1.Team) {
	old := map[string]hostingv1alpha1.TeamMemberStatus{}
	for _, ms := range before.Status.Members {
		old[tenancy.SubjectKey(ms.Subject)] = ms
	}
	for _, ms := range after.Status.Members {
		prev, seen := old[tenancy.SubjectKey(ms.Subject)]
		subj := fmt.Sprintf("%s %s", ms.Subject.Kind, ms.Subject.Name)
		if ms.State == hostingv1alpha1.TeamMemberExpired {
			if !seen || prev.State != hostingv1alpha1.TeamMemberExpired {
				r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, hostingv1alpha1.ReasonExpired, "Revoke",
					"%s's access to %v expired: %s", subj, after.Spec.Sites, ms.Message)
			}
			continue
		}
		var granted []string
		for _, site := range ms.Sites {
			if !seen || !slices.Contains(prev.Sites, site) {
				granted = append(granted, site)
			}
		}
		if len(granted) > 0 {
			r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, "Granted", "Grant",
				"%s has the role %s in %v", subj, after.Spec.Role, granted)
		}
		if ms.Reason == hostingv1alpha1.ReasonSeatLimitReached && (!seen || prev.Reason != ms.Reason) {
			r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, ms.Reason, "Wait", "%s: %s", subj, ms.Message)
		}
	}
}
