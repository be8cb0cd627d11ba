package database

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/mysqladmin"
	"github.com/landlord-dev/landlord/internal/platform"
)

// Fate is what a Database's deletion does on the server.
type Fate int

// Fates.
const (
	// FateDrop drops the database and its user.
	FateDrop Fate = iota
	// FateRetain keeps them, locked, marked retained in the registry.
	FateRetain
)

// DeletionFate decides a deleted Database's fate. A Database deleted while
// its site lives (a tenant deleting it) is dropped; one deleted because its
// site is going (terminated, its Subscription deleted: the site namespace is
// deleted with it) follows the Subscription's deletionPolicy, as the site
// volume does, the Subscription's own or, once it is gone, the one recorded
// in the registry; an Account's deletion drops everything.
func DeletionFate(acct *v1.Account, sub *v1.Subscription, registered string) Fate {
	switch {
	case acct == nil || !acct.DeletionTimestamp.IsZero():
		return FateDrop
	case sub != nil && sub.DeletionTimestamp.IsZero() && sub.Status.Phase != v1.PhaseTerminated:
		return FateDrop
	}
	policy := registered
	if sub != nil {
		policy = string(sub.Spec.DeletionPolicy)
	}
	if policy == string(v1.DeletionPolicyRetain) {
		return FateRetain
	}
	return FateDrop
}

// reconcileDelete drops or retains the database on the server, gives its
// slot back and lets the Database go.
func (r *Reconciler) reconcileDelete(ctx context.Context, s *scope) error {
	if !controllerutil.ContainsFinalizer(s.db, v1.Finalizer) {
		return nil
	}
	srv, err := r.Servers.Server(ctx)
	switch {
	case errors.Is(err, errNoServer):
		// No server: nothing of this Database can be on one Landlord knows.
		s.log.Info("no database server configured; letting the Database go without dropping anything")
	case err != nil:
		return kernel.Fail(v1.ReasonServerError, err)
	default:
		if err := r.dropOrRetain(ctx, s, srv); err != nil {
			return err
		}
	}
	if err := r.releaseSlots(ctx, s.db); err != nil {
		return err
	}
	if err := kernel.RemoveFinalizer(ctx, r.Client, s.db); err != nil {
		return err
	}
	s.gone = true
	return nil
}

func (r *Reconciler) dropOrRetain(ctx context.Context, s *scope, srv *mysqladmin.Server) error {
	acct, sub, err := r.siteOfDeleted(ctx, s.db.Namespace)
	if err != nil {
		return err
	}
	if acct == nil {
		// The account is gone (its prefix went with its UID): drop what
		// the registry says this Database holds.
		return r.dropByRegistry(ctx, s, srv)
	}
	name := mysqladmin.ServerName(string(acct.UID), s.db)
	h, found, err := srv.Holder(ctx, name)
	if err != nil {
		return kernel.Fail(v1.ReasonServerError, err)
	}
	if !found || h.UID != string(s.db.UID) {
		return nil // never created by this Database (a conflict, or never admitted)
	}
	return r.applyFate(ctx, s, srv, name, DeletionFate(acct, sub, h.DeletionPolicy))
}

func (r *Reconciler) applyFate(ctx context.Context, s *scope, srv *mysqladmin.Server, name string, fate Fate) error {
	if fate == FateRetain {
		have, err := srv.Observe(ctx, name)
		if err != nil {
			return kernel.Fail(v1.ReasonServerError, err)
		}
		if have.UserExists {
			want := mysqladmin.Want{Name: name, MaxConnections: have.MaxConnections, Locked: true, Privileges: have.Privileges}
			have.DatabaseExists = true // retained as it is: nothing created
			if _, err := srv.Ensure(ctx, have, want); err != nil {
				return kernel.Fail(v1.ReasonServerError, err)
			}
		}
		if err := srv.Retain(ctx, name, string(s.db.UID)); err != nil {
			return kernel.Fail(v1.ReasonServerError, err)
		}
		s.log.Info("retained the database, its user locked (deletionPolicy Retain)", "mysqlName", name)
		return nil
	}
	if err := srv.Drop(ctx, name); err != nil {
		return kernel.Fail(v1.ReasonServerError, err)
	}
	if err := srv.Release(ctx, name, string(s.db.UID)); err != nil {
		return kernel.Fail(v1.ReasonServerError, err)
	}
	s.log.Info("dropped the database and its user", "mysqlName", name)
	return nil
}

// dropByRegistry drops what the registry says this Database holds, when
// its Account is gone (an account's deletion drops its databases).
func (r *Reconciler) dropByRegistry(ctx context.Context, s *scope, srv *mysqladmin.Server) error {
	names, err := srv.HeldBy(ctx, string(s.db.UID))
	if err != nil {
		return kernel.Fail(v1.ReasonServerError, err)
	}
	for _, name := range names {
		if err := r.applyFate(ctx, s, srv, name, FateDrop); err != nil {
			return err
		}
	}
	return nil
}

// siteOfDeleted is the account and subscription of a site namespace that
// may be going away: the account by the namespace's labels (nil when gone),
// the subscription (nil when gone).
func (r *Reconciler) siteOfDeleted(ctx context.Context, namespace string) (*v1.Account, *v1.Subscription, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("reading namespace %s: %w", namespace, err)
	}
	account, subscription := platform.SiteOfNamespace(ns.Labels)
	if account == "" || r.Config.SiteNamespace(account, subscription) != namespace {
		return nil, nil, nil
	}
	acct := &v1.Account{}
	if found, err := kernel.Get(ctx, r.APIReader, client.ObjectKey{Name: account}, acct); err != nil || !found {
		return nil, nil, err
	}
	sub := &v1.Subscription{}
	found, err := kernel.Get(ctx, r.APIReader, client.ObjectKey{Namespace: r.Config.AccountNamespace(account), Name: subscription}, sub)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		sub = nil
	}
	return acct, sub, nil
}
