// Package database is the Database controller: a tenant's MySQL/MariaDB
// database on the provider's server. It finds the Database's site (its
// namespace), applies the plan gate (limits.databases, numbered Lease
// slots), claims the name in the server's registry, keeps the credentials
// in a Landlord-owned Secret, and converges the database and its user on
// the server: privileges on that database only, the plan's connection
// limit, locked while the site is suspended, read and delete only while
// over the plan's databaseStorage. Deleting a Database drops both; a site's
// termination drops them or, under deletionPolicy Retain, keeps them locked.
package database

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/mysqladmin"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/site"
)

// Reconciler reconciles Databases.
type Reconciler struct {
	client.Client
	// APIReader reads uncached: Secrets (never cached), the plan gate's
	// slots and siblings.
	APIReader client.Reader
	Config    platform.Config
	Clock     clock.Clock
	Recorder  events.EventRecorder
	// Servers connects to the database server.
	Servers Servers
}

// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=databases,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=databases/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=databases/finalizers,verbs=update
// +kubebuilder:rbac:groups=hosting.landlord.dev,resources=accounts;subscriptions;plans;sitetemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// scope is one reconcile of one Database.
type scope struct {
	db       *v1.Database
	log      logr.Logger
	account  *v1.Account
	sub      *v1.Subscription
	srv      *mysqladmin.Server
	siblings []v1.Database
	obs      observed
	stopped  bool
	gone     bool
}

func (s *scope) Stopped() bool { return s.stopped }

// Reconcile: get → one deferred status patch → deletion → finalizer → phases.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	log := ctrl.LoggerFrom(ctx).WithValues("database", klog.KRef(req.Namespace, req.Name))
	ctx = ctrl.LoggerInto(ctx, log)
	db := &v1.Database{}
	if err := r.Get(ctx, req.NamespacedName, db); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if kernel.Behind(db) {
		return kernel.CatchUp(), nil
	}
	s := &scope{db: db, log: log, obs: observed{generation: db.Generation}}
	p := kernel.NewPatcher(r.Client, db)
	defer func() {
		if s.gone {
			return
		}
		s.obs.setStatus(r.Config, db)
		if _, err := p.Patch(ctx, db, retErr); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()
	if kernel.Paused(db) {
		return ctrl.Result{}, nil
	}
	if !db.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, s)
	}
	if err := kernel.EnsureFinalizer(ctx, r.Client, db); err != nil {
		return ctrl.Result{}, err
	}
	res, err := kernel.Run(ctx, s,
		r.reconcileSite,
		r.reconcileServer,
		r.reconcileGate,
		r.reconcileClaim,
		r.reconcileSecret,
		r.reconcileOnServer,
	)
	if err != nil {
		s.obs.err = err
		return ctrl.Result{}, err
	}
	if s.obs.created {
		res = kernel.Earliest(res, ctrl.Result{RequeueAfter: r.Config.DatabaseSizeInterval})
	}
	return res, nil
}

// reconcileSite finds the Database's site: the account and subscription of
// its namespace (labels and name, never a field).
func (r *Reconciler) reconcileSite(ctx context.Context, s *scope) (ctrl.Result, error) {
	acct, sub, err := kernel.SiteOf(ctx, r.Client, r.Config, s.db.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	switch {
	case acct == nil:
		s.obs.noSite = kernel.NoSiteMessage(r.Config, s.db.Namespace)
	case !acct.DeletionTimestamp.IsZero() || !sub.DeletionTimestamp.IsZero() || sub.Status.Phase == v1.PhaseTerminated:
		s.obs.noSite = fmt.Sprintf("the site of namespace %s is being removed", s.db.Namespace)
	default:
		s.account, s.sub = acct, sub
		s.obs.locked, s.obs.lockPhase = lockedPhase(sub.Status.Phase), sub.Status.Phase
		s.obs.name = mysqladmin.ServerName(string(acct.UID), s.db)
		return ctrl.Result{}, nil
	}
	s.stopped = true
	return ctrl.Result{}, nil
}

// lockedPhase: a site in these phases has its database users locked.
func lockedPhase(p v1.SubscriptionPhase) bool {
	return p == v1.PhaseSuspended || p == v1.PhaseCancelled || p == v1.PhaseTerminated
}

// reconcileServer connects to the database server.
func (r *Reconciler) reconcileServer(ctx context.Context, s *scope) (ctrl.Result, error) {
	srv, err := r.Servers.Server(ctx)
	if errors.Is(err, errNoServer) {
		s.obs.noServer, s.stopped = true, true
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, kernel.Fail(v1.ReasonServerError, err)
	}
	s.srv = srv
	return ctrl.Result{}, nil
}

// reconcileGate applies the plan's databases limit.
func (r *Reconciler) reconcileGate(ctx context.Context, s *scope) (ctrl.Result, error) {
	list := &v1.DatabaseList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(s.db.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the site's databases: %w", err)
	}
	for _, d := range list.Items {
		if d.DeletionTimestamp.IsZero() {
			s.siblings = append(s.siblings, d)
		}
	}
	var plan *v1.Plan
	if s.sub.Status.EffectiveLimits.Databases == nil {
		p := &v1.Plan{}
		err := r.Get(ctx, client.ObjectKey{Name: s.sub.Spec.Plan}, p)
		if err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("getting plan %s: %w", s.sub.Spec.Plan, err)
		}
		if err == nil {
			plan = p
		}
	}
	s.obs.limit = Limit(s.sub, plan)
	admitted, inUse, err := r.admit(ctx, s, s.obs.limit)
	s.obs.gateRan, s.obs.admitted, s.obs.inUse = true, admitted, inUse
	if err != nil {
		return ctrl.Result{}, err
	}
	s.stopped = !admitted
	return ctrl.Result{}, nil
}

// reconcileClaim records the Database as the holder of its name on the
// server; a name another Database holds is a Conflict.
func (r *Reconciler) reconcileClaim(ctx context.Context, s *scope) (ctrl.Result, error) {
	want := holder(s.db, s.account, s.sub.Name)
	h, err := s.srv.Claim(ctx, s.obs.name, want)
	if err != nil {
		return ctrl.Result{}, kernel.Fail(v1.ReasonServerError, err)
	}
	if h.UID != want.UID {
		s.obs.conflict, s.stopped = &h, true
		return ctrl.Result{}, nil
	}
	policy := string(s.sub.Spec.DeletionPolicy)
	if policy == "" {
		policy = string(v1.DeletionPolicyDelete)
	}
	if h.DeletionPolicy != policy {
		if err := s.srv.SetDeletionPolicy(ctx, s.obs.name, want.UID, policy); err != nil {
			return ctrl.Result{}, kernel.Fail(v1.ReasonServerError, err)
		}
	}
	return ctrl.Result{}, nil
}

func holder(db *v1.Database, acct *v1.Account, subscription string) mysqladmin.Holder {
	return mysqladmin.Holder{
		UID: string(db.UID), Account: acct.Name, AccountUID: string(acct.UID),
		Namespace: db.Namespace, Subscription: subscription, Object: db.Name,
	}
}

// SecretName names a Database's Secret.
func SecretName(db *v1.Database) string { return platform.DatabaseSecretName(db.Name) }

// reconcileSecret makes sure the credentials' Secret exists and says what
// BuildSecret says; a missing one is created with a new password (set on
// the server by the next phase).
func (r *Reconciler) reconcileSecret(ctx context.Context, s *scope) (ctrl.Result, error) {
	key := client.ObjectKey{Namespace: s.db.Namespace, Name: SecretName(s.db)}
	sec := &corev1.Secret{}
	err := r.APIReader.Get(ctx, key, sec)
	switch {
	case err == nil:
		if !metav1.IsControlledBy(sec, s.db) {
			s.obs.secretTaken, s.stopped = true, true
			return ctrl.Result{}, nil
		}
		if pw := string(sec.Data["password"]); pw != "" && string(sec.Data["username"]) == s.obs.name {
			s.obs.password = pw
			want := BuildSecret(r.Config, s.db, s.account.Name, s.sub.Name, s.obs.name, pw)
			if maps.EqualFunc(sec.Data, want.Data, bytes.Equal) {
				return ctrl.Result{}, nil
			}
			// Another host or port (a flag changed), or a key added since:
			// made again with the same password (the manager may get,
			// create and delete Secrets, not change them).
			if err := r.Delete(ctx, sec, client.Preconditions{UID: &sec.UID}); err != nil && !apierrors.IsNotFound(err) {
				return ctrl.Result{}, fmt.Errorf("replacing Secret %s: %w", key, err)
			}
			if err := r.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
				return ctrl.Result{}, fmt.Errorf("replacing Secret %s: %w", key, err)
			}
			return ctrl.Result{}, nil
		}
		// Emptied or not this name's: made again below.
		if err := r.Delete(ctx, sec, client.Preconditions{UID: &sec.UID}); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("replacing Secret %s: %w", key, err)
		}
	case !apierrors.IsNotFound(err):
		return ctrl.Result{}, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	pw, err := mysqladmin.Password()
	if err != nil {
		return ctrl.Result{}, err
	}
	want := BuildSecret(r.Config, s.db, s.account.Name, s.sub.Name, s.obs.name, pw)
	if err := r.Create(ctx, want); err != nil {
		if apierrors.IsAlreadyExists(err) {
			s.stopped = true
			return ctrl.Result{RequeueAfter: time.Second}, nil // made in between: read it next time
		}
		return ctrl.Result{}, fmt.Errorf("creating Secret %s: %w", key, err)
	}
	s.obs.password, s.obs.newPassword = pw, true
	return ctrl.Result{}, nil
}

// BuildSecret is the Secret of a Database's credentials, owned by it and
// labelled as Landlord's (tenants read it and cannot change it).
func BuildSecret(cfg platform.Config, db *v1.Database, account, subscription, name, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       db.Namespace,
			Name:            SecretName(db),
			Labels:          platform.SiteLabels(account, subscription),
			OwnerReferences: []metav1.OwnerReference{ownerRef(db)},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			"host":     []byte(cfg.SiteDatabaseHost()),
			"port":     []byte(strconv.Itoa(cfg.DatabasePort)),
			"address":  []byte(net.JoinHostPort(cfg.SiteDatabaseHost(), strconv.Itoa(cfg.DatabasePort))),
			"database": []byte(name),
			"username": []byte(name),
			"password": []byte(password),
		},
	}
}

// reconcileOnServer converges the database and its user: measure the size,
// then create, grant, limit and lock as the site's state and plan say.
func (r *Reconciler) reconcileOnServer(ctx context.Context, s *scope) (ctrl.Result, error) {
	have, err := s.srv.Observe(ctx, s.obs.name)
	if err != nil {
		return ctrl.Result{}, kernel.Fail(v1.ReasonServerError, err)
	}
	limits := site.WithDefaults(s.sub.Status.EffectiveLimits)
	s.obs.storageLimit = limits.DatabaseStorage.DeepCopy()
	privileges := mysqladmin.PrivilegesAll
	if have.DatabaseExists {
		size, err := s.srv.Size(ctx, s.obs.name)
		if err != nil {
			return ctrl.Result{}, kernel.Fail(v1.ReasonServerError, err)
		}
		s.obs.size = &size
		if size > limits.DatabaseStorage.Value() {
			s.obs.over, privileges = true, mysqladmin.PrivilegesReadDelete
		}
	}
	want := mysqladmin.Want{
		Name:           s.obs.name,
		Password:       s.obs.password,
		MaxConnections: int(*limits.DatabaseConnections),
		Locked:         s.obs.locked,
		Privileges:     privileges,
	}
	if _, err := s.srv.Ensure(ctx, have, want); err != nil {
		return ctrl.Result{}, kernel.Fail(v1.ReasonServerError, err)
	}
	if s.obs.newPassword && have.UserExists {
		if err := s.srv.SetPassword(ctx, s.obs.name, s.obs.password); err != nil {
			return ctrl.Result{}, kernel.Fail(v1.ReasonServerError, err)
		}
	}
	if !have.DatabaseExists {
		zero := int64(0)
		s.obs.size = &zero
		s.log.Info("created the database and its user", "mysqlName", s.obs.name)
	}
	s.obs.created = true
	return ctrl.Result{}, nil
}

// sizeMoved reports whether a new size is worth a status write: more than
// 1% or 1Mi away from the recorded one.
func sizeMoved(recorded *resource.Quantity, size int64) bool {
	if recorded == nil {
		return true
	}
	d := recorded.Value() - size
	if d < 0 {
		d = -d
	}
	return d > 1<<20 || d*100 > recorded.Value()
}
