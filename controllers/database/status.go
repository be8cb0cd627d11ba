package database

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/mysqladmin"
	"github.com/landlord-dev/landlord/internal/platform"
)

// observed is what one reconcile saw; the status is computed from it alone.
type observed struct {
	generation int64
	// noSite says why the namespace is no live site's ("" when it is one).
	noSite   string
	noServer bool
	// name is the database's (and user's) name on the server.
	name string
	// The plan gate.
	gateRan  bool
	admitted bool
	limit    int32
	inUse    int32
	// conflict is the registry's holder of name when it is another Database.
	conflict    *mysqladmin.Holder
	secretTaken bool
	password    string // never in status
	newPassword bool
	locked      bool
	lockPhase   v1.SubscriptionPhase
	// size in bytes, when measured.
	size         *int64
	over         bool
	storageLimit resource.Quantity
	// created: the database and user exist as they should.
	created bool
	// err stopped the reconcile (Ready=False says so; the phase is Failed
	// if nothing was created yet).
	err error
}

// setStatus writes what o says into db's status (the patch helper writes it
// once, if it changed).
func (o *observed) setStatus(cfg platform.Config, db *v1.Database) {
	st := &db.Status
	ready := func(ok bool, reason, msg string) { kernel.SetCondition(db, v1.ConditionReady, ok, reason, msg) }
	if o.gateRan {
		if o.admitted {
			kernel.SetCondition(db, v1.ConditionAdmitted, true, v1.ReasonReconciled,
				fmt.Sprintf("%d of the site's %d databases in use", o.inUse, o.limit))
		} else {
			kernel.SetCondition(db, v1.ConditionAdmitted, false, v1.ReasonDatabaseLimitReached,
				fmt.Sprintf("the site's plan allows %d databases and %d are in use: delete one, or raise limits.databases (a plan or an add-on)", o.limit, o.inUse))
		}
	}
	switch {
	case o.noSite != "":
		st.Phase = v1.DatabasePending
		ready(false, v1.ReasonNoSite, o.noSite)
	case o.noServer:
		st.Phase = v1.DatabasePending
		ready(false, v1.ReasonNoDatabaseServer, "the provider has configured no database server (the manager's --database-host); the database is created once there is one")
	case o.gateRan && !o.admitted:
		st.Phase = v1.DatabasePending
		ready(false, v1.ReasonDatabaseLimitReached, "waiting for a database slot of the site's plan (see the Admitted condition)")
	case o.conflict != nil:
		st.Phase = v1.DatabaseConflict
		ready(false, v1.ReasonNameTaken, fmt.Sprintf("the name %s is held on the database server by the Database %s/%s of this account: choose another spec.name", o.name, o.conflict.Namespace, o.conflict.Object))
	case o.secretTaken:
		st.Phase = v1.DatabaseFailed
		ready(false, v1.ReasonProgressing, fmt.Sprintf("a Secret %s exists in this namespace and is not this Database's: delete or rename it", SecretName(db)))
	case o.created:
		st.Host, st.Port = cfg.SiteDatabaseHost(), int32(cfg.DatabasePort)
		st.Database, st.User, st.SecretName = o.name, o.name, SecretName(db)
		if o.locked {
			kernel.SetCondition(db, v1.ConditionLocked, true, v1.ReasonSiteSuspended,
				fmt.Sprintf("the site is %s: the user %s cannot log in and its connections were closed", o.lockPhase, o.name))
		} else {
			kernel.SetCondition(db, v1.ConditionLocked, false, v1.ReasonSiteActive, "the site is in service")
		}
		if o.over {
			kernel.SetCondition(db, v1.ConditionWritesAllowed, false, v1.ReasonOverStorage,
				fmt.Sprintf("the database uses %s, more than the plan's databaseStorage %s: its user may read, delete and drop, not write, until it is back under", quantity(*o.size), o.storageLimit.String()))
		} else {
			kernel.SetCondition(db, v1.ConditionWritesAllowed, true, v1.ReasonWithinStorage,
				fmt.Sprintf("within the plan's databaseStorage %s", o.storageLimit.String()))
		}
		switch {
		case o.locked:
			st.Phase = v1.DatabaseLocked
			ready(false, v1.ReasonSiteSuspended, fmt.Sprintf("the site is %s; its database user is locked until it resumes", o.lockPhase))
		case o.over:
			st.Phase = v1.DatabaseReadOnly
			ready(false, v1.ReasonOverStorage, "the database is over the plan's databaseStorage (see WritesAllowed)")
		default:
			st.Phase = v1.DatabaseReady
			ready(true, v1.ReasonReconciled, fmt.Sprintf("database %s and user %s on %s:%d; credentials in Secret %s", o.name, o.name, st.Host, st.Port, st.SecretName))
		}
	case o.err != nil && st.Phase == "":
		st.Phase = v1.DatabaseFailed
	}
	if o.size != nil && sizeMoved(st.Size, *o.size) {
		st.Size = ptrQuantity(*o.size)
	}
}

func quantity(b int64) string { return resource.NewQuantity(b, resource.BinarySI).String() }

func ptrQuantity(b int64) *resource.Quantity { return resource.NewQuantity(b, resource.BinarySI) }
