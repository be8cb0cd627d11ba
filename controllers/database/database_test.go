package database_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/mysqladmin"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// A Developer creates a Database: the database and its user exist on the
// server, named with the account's prefix; the Secret's credentials connect
// and reach that database only; the status says where, never the password;
// the Developer reads the Secret and cannot change it.
func TestDeveloperCreatesDatabaseAndConnects(t *testing.T) {
	tn := newTenant(t, "create")
	siteNS := newSite(t, tn, "www", v1.DeletionPolicyDelete, dbLimits(2))
	dev := developer(t, "dev@create.example", tn.ns, siteNS)
	db := newDatabase(t, dev, siteNS, "wordpress", "")
	other := newDatabase(t, dev, siteNS, "other", "")

	got := waitDB(t, db, phase(v1.DatabaseReady))
	waitDB(t, other, phase(v1.DatabaseReady))
	want := mysqladmin.Prefix(string(tn.account.UID)) + "wordpress"
	if got.Status.Database != want || got.Status.User != want {
		t.Fatalf("status names %s/%s, want %s", got.Status.Database, got.Status.User, want)
	}
	if got.Status.Host != cfg.DatabaseSiteHost || got.Status.Port != int32(srv.Port) || got.Status.SecretName == "" {
		t.Fatalf("status %+v", got.Status)
	}
	if dbOK, userOK := onServer(t, want); !dbOK || !userOK {
		t.Fatalf("on the server: database %v, user %v", dbOK, userOK)
	}
	sec := secretOf(t, dev, got)
	if string(sec.Data["host"]) != cfg.DatabaseSiteHost || string(sec.Data["database"]) != want || len(sec.Data["password"]) < 32 {
		t.Fatalf("Secret data: host %s database %s password %d bytes", sec.Data["host"], sec.Data["database"], len(sec.Data["password"]))
	}
	if !metav1.IsControlledBy(sec, got) || sec.Labels[v1.ManagedByLabel] != v1.ManagedByValue {
		t.Fatalf("Secret not Landlord's: %v %v", sec.OwnerReferences, sec.Labels)
	}
	if err := login(sec, "CREATE TABLE posts (id INT PRIMARY KEY, title TEXT)", "INSERT INTO posts VALUES (1, 'hello')"); err != nil {
		t.Fatalf("the Secret's credentials do not work: %v", err)
	}
	// That database only: not the site's other database, not the server's.
	otherName := mysqladmin.Prefix(string(tn.account.UID)) + "other"
	for _, name := range []string{otherName, "mysql", "landlord"} {
		c, _ := srv.Open(string(sec.Data["username"]), string(sec.Data["password"]), name)
		if err := run(c); err == nil {
			t.Errorf("the user of %s can use the database %s", want, name)
		}
		_ = c.Close()
	}
	// The status never holds the password.
	if strings.Contains(fmt.Sprintf("%+v", got.Status), string(sec.Data["password"])) {
		t.Fatal("the password is in the status")
	}
	// Landlord's Secret: the Developer cannot change or delete it.
	sec.Data["password"] = []byte("mine")
	if err := dev.Update(context.Background(), sec); !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		t.Errorf("a Developer changed the database Secret: %v", err)
	}
	if err := dev.Delete(context.Background(), sec); err == nil {
		t.Error("a Developer deleted the database Secret")
	}
}

// More Databases than the limit, created at the same instant against the
// production worker count: never more databases than the limit on the
// server; deleting one admits a waiting one.
func TestPlanGateUnderConcurrency(t *testing.T) {
	tn := newTenant(t, "gate")
	siteNS := newSite(t, tn, "www", v1.DeletionPolicyDelete, dbLimits(2))
	prefix := mysqladmin.Prefix(string(tn.account.UID))
	const n = 8
	dbs := make([]*v1.Database, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dbs[i] = &v1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: siteNS, Name: fmt.Sprintf("db%d", i)}}
			errs[i] = env.Client.Create(context.Background(), dbs[i])
		}()
	}
	// Watch the server while they are admitted: never more than 2.
	stop := make(chan struct{})
	maxSeen := make(chan int, 1)
	go func() {
		most := 0
		for {
			select {
			case <-stop:
				maxSeen <- most
				return
			case <-time.After(20 * time.Millisecond):
				most = max(most, databasesWithPrefix(t, prefix))
			}
		}
	}()
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ready := func() (int, int) {
		r, p := 0, 0
		for _, db := range dbs {
			got := &v1.Database{}
			if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(db), got); apierrors.IsNotFound(err) {
				continue // the one deleted below
			} else if err != nil {
				t.Fatal(err)
			}
			switch got.Status.Phase {
			case v1.DatabaseReady:
				r++
			case v1.DatabasePending:
				if c := condition(v1.ConditionAdmitted, metav1.ConditionFalse, v1.ReasonDatabaseLimitReached)(got); c == nil {
					p++
				}
			}
		}
		return r, p
	}
	testenv.Eventually(t, wait, func() error {
		if r, p := ready(); r != 2 || p != n-2 {
			return fmt.Errorf("%d ready, %d waiting for a slot", r, p)
		}
		return nil
	})
	time.Sleep(2 * time.Second)
	close(stop)
	if most := <-maxSeen; most > 2 {
		t.Fatalf("the server had %d databases of a site whose plan allows 2", most)
	}
	if got := databasesWithPrefix(t, prefix); got != 2 {
		t.Fatalf("%d databases on the server, want 2", got)
	}
	// Deleting a ready one admits exactly one waiting one.
	for _, db := range dbs {
		got := &v1.Database{}
		_ = env.Client.Get(context.Background(), client.ObjectKeyFromObject(db), got)
		if got.Status.Phase == v1.DatabaseReady {
			if err := env.Client.Delete(context.Background(), got); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	testenv.Eventually(t, wait, func() error {
		if r, _ := ready(); r != 2 {
			return fmt.Errorf("%d ready", r)
		}
		if got := databasesWithPrefix(t, prefix); got != 2 {
			return fmt.Errorf("%d databases on the server", got)
		}
		return nil
	})
}

// A Suspended site's user is refused while suspended and works after
// renewal.
func TestSuspensionLocksTheUser(t *testing.T) {
	tn := newTenant(t, "lock")
	siteNS := newSite(t, tn, "www", v1.DeletionPolicyDelete, dbLimits(1))
	db := waitDB(t, newDatabase(t, env.Client, siteNS, "shop", ""), phase(v1.DatabaseReady))
	sec := secretOf(t, env.Client, db)
	conn, err := srv.Open(string(sec.Data["username"]), string(sec.Data["password"]), string(sec.Data["database"]))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := conn.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}

	for _, p := range []v1.SubscriptionPhase{v1.PhaseSuspended, v1.PhaseCancelled} {
		setSite(t, tn, "www", p, nil)
		waitDB(t, db, phase(v1.DatabaseLocked))
		if err := login(sec); mysqlErr(err) != 4151 {
			t.Fatalf("%s: login %v, want error 4151 (account locked)", p, err)
		}
		if p == v1.PhaseSuspended {
			if _, err := c.ExecContext(context.Background(), "SELECT 1"); err == nil {
				t.Fatal("a connection made before the suspension still works")
			}
		}
		setSite(t, tn, "www", v1.PhaseActive, nil) // renewed
		waitDB(t, db, phase(v1.DatabaseReady))
		if err := login(sec, "SELECT 1"); err != nil {
			t.Fatalf("login after renewal: %v", err)
		}
	}
}

// Deleting a Database drops its database and user; its Secret goes with it.
func TestDeletingADatabaseDropsIt(t *testing.T) {
	tn := newTenant(t, "drop")
	siteNS := newSite(t, tn, "www", v1.DeletionPolicyRetain, dbLimits(1))
	db := waitDB(t, newDatabase(t, env.Client, siteNS, "gone", ""), phase(v1.DatabaseReady))
	if err := env.Client.Delete(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, wait, func() error {
		if d, u := onServer(t, db.Status.Database); d || u {
			return fmt.Errorf("database %v, user %v still on the server", d, u)
		}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(db), &v1.Database{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("the Database is still there: %v", err)
		}
		return nil
	})
	// Its slot is free again: a new one is admitted.
	waitDB(t, newDatabase(t, env.Client, siteNS, "next", ""), phase(v1.DatabaseReady))
}

// Termination (the site namespace deleted, as the subscription controller
// does) drops the database under deletionPolicy Delete and keeps it, its
// user locked, under Retain.
func TestTerminationDropsOrRetains(t *testing.T) {
	for _, policy := range []v1.DeletionPolicy{v1.DeletionPolicyDelete, v1.DeletionPolicyRetain} {
		t.Run(string(policy), func(t *testing.T) {
			tn := newTenant(t, "term")
			siteNS := newSite(t, tn, "www", policy, dbLimits(1))
			db := waitDB(t, newDatabase(t, env.Client, siteNS, "data", ""), phase(v1.DatabaseReady))
			sec := secretOf(t, env.Client, db)
			if err := login(sec, "CREATE TABLE keep (v INT)", "INSERT INTO keep VALUES (42)"); err != nil {
				t.Fatal(err)
			}
			setSite(t, tn, "www", v1.PhaseTerminated, nil)
			if err := env.Client.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS}}); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, wait, func() error {
				if err := env.Client.Get(context.Background(), client.ObjectKey{Name: siteNS}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
					return fmt.Errorf("site namespace still there (%v)", err)
				}
				return nil
			})
			d, u := onServer(t, db.Status.Database)
			if policy == v1.DeletionPolicyDelete {
				if d || u {
					t.Fatalf("Delete: database %v, user %v still on the server", d, u)
				}
				return
			}
			if !d || !u {
				t.Fatalf("Retain: database %v, user %v on the server, want both kept", d, u)
			}
			if err := login(sec); mysqlErr(err) != 4151 {
				t.Fatalf("Retain: login %v, want refused as locked (4151)", err)
			}
			admin, _ := srv.Admin()
			defer admin.Close()
			var v int
			if err := admin.QueryRow("SELECT v FROM `" + db.Status.Database + "`.keep").Scan(&v); err != nil || v != 42 {
				t.Fatalf("Retain: the data is not kept: %d, %v", v, err)
			}
			var account, namespace string
			var retained bool
			if err := admin.QueryRow("SELECT account, namespace, retained FROM landlord.site_databases WHERE name = ?", db.Status.Database).
				Scan(&account, &namespace, &retained); err != nil || account != tn.account.Name || namespace != siteNS || !retained {
				t.Fatalf("Retain: registry row %s %s %v (%v), want the account, the site and retained", account, namespace, retained, err)
			}
		})
	}
}

// Two accounts' Databases of the same name get distinct names on the
// server, and neither user reaches the other's database; within an
// account, a name held by one site is a Conflict for another.
func TestNamesOfTwoAccountsNeverCollide(t *testing.T) {
	a, b := newTenant(t, "names-a"), newTenant(t, "names-b")
	nsA := newSite(t, a, "www", v1.DeletionPolicyDelete, dbLimits(1))
	nsB := newSite(t, b, "www", v1.DeletionPolicyDelete, dbLimits(1))
	dbA := waitDB(t, newDatabase(t, env.Client, nsA, "shop", ""), phase(v1.DatabaseReady))
	dbB := waitDB(t, newDatabase(t, env.Client, nsB, "shop", ""), phase(v1.DatabaseReady))
	if dbA.Status.Database == dbB.Status.Database {
		t.Fatalf("both accounts' databases are named %s", dbA.Status.Database)
	}
	secA := secretOf(t, env.Client, dbA)
	c, _ := srv.Open(string(secA.Data["username"]), string(secA.Data["password"]), dbB.Status.Database)
	if err := run(c); err == nil {
		t.Error("account A's user reaches account B's database")
	}
	_ = c.Close()

	ns2 := newSite(t, a, "blog", v1.DeletionPolicyDelete, dbLimits(1))
	dup := waitDB(t, newDatabase(t, env.Client, ns2, "shop", ""), phase(v1.DatabaseConflict))
	if c := condition(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonNameTaken)(dup); c != nil {
		t.Fatal(c)
	}
	// Deleting the one in conflict drops nothing of the holder's.
	if err := env.Client.Delete(context.Background(), dup); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, wait, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(dup), &v1.Database{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	if err := login(secA, "SELECT 1"); err != nil {
		t.Fatalf("the holder's database was harmed by the conflicting one's deletion: %v", err)
	}
}

// Over the plan's databaseStorage the user may read and delete, not write,
// until the limit is raised (or it is back under).
func TestOverStorageRevokesWrites(t *testing.T) {
	tn := newTenant(t, "storage")
	small := resource.MustParse("1Ki") // an InnoDB table takes 16Ki at least
	limits := v1.Limits{Databases: ptr.To[int32](1), DatabaseStorage: &small}
	siteNS := newSite(t, tn, "www", v1.DeletionPolicyDelete, limits)
	db := waitDB(t, newDatabase(t, env.Client, siteNS, "big", ""), phase(v1.DatabaseReady))
	sec := secretOf(t, env.Client, db)
	if err := login(sec, "CREATE TABLE t (v TEXT)", "INSERT INTO t VALUES ('x')"); err != nil {
		t.Fatal(err)
	}
	// The next size check (every DatabaseSizeInterval) finds it over.
	got := waitDB(t, db, phase(v1.DatabaseReadOnly))
	if c := condition(v1.ConditionWritesAllowed, metav1.ConditionFalse, v1.ReasonOverStorage)(got); c != nil {
		t.Fatal(c)
	}
	if got.Status.Size == nil || got.Status.Size.Value() < 16384 {
		t.Fatalf("status.size %v", got.Status.Size)
	}
	if err := login(sec, "INSERT INTO t VALUES ('y')"); mysqlErr(err) != 1142 {
		t.Fatalf("insert over the limit: %v, want refused (1142)", err)
	}
	if err := login(sec, "SELECT * FROM t", "DELETE FROM t"); err != nil {
		t.Fatalf("read and delete over the limit: %v", err)
	}
	big := resource.MustParse("1Gi")
	limits.DatabaseStorage = &big
	setSite(t, tn, "www", v1.PhaseActive, &limits) // an add-on bought
	waitDB(t, db, phase(v1.DatabaseReady))
	if err := login(sec, "INSERT INTO t VALUES ('z')"); err != nil {
		t.Fatalf("insert after the limit was raised: %v", err)
	}
}

// Names MySQL cannot take are refused at admission, with a message.
func TestAdmissionRefusesBadNames(t *testing.T) {
	tn := newTenant(t, "cel")
	siteNS := newSite(t, tn, "www", v1.DeletionPolicyDelete, dbLimits(1))
	for _, c := range []struct {
		meta, spec, msg string
	}{
		{"a-very-long-database-name-indeed", "", "at most 25"},
		{"ok", "has-dash", "only lowercase letters, digits and '_'"},
		{"ok2", "UPPER", "only lowercase letters"},
		{"ok3", strings.Repeat("x", 26), "25"},
		{"dotted.name", "", "at most 25 lowercase letters, digits or '-'"},
	} {
		db := &v1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: siteNS, Name: c.meta}, Spec: v1.DatabaseSpec{Name: c.spec}}
		err := env.Client.Create(context.Background(), db)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s/%q: %v, want refused saying %q", c.meta, c.spec, err, c.msg)
		}
	}
	db := newDatabase(t, env.Client, siteNS, "fixed", "fixed_name")
	testenv.Eventually(t, wait, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(db), db); err != nil {
			return err
		}
		db.Spec.Name = "other"
		err := env.Client.Update(context.Background(), db)
		if apierrors.IsConflict(err) {
			return err // Landlord wrote in between: read again
		}
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("changing spec.name: %v, want refused as immutable", err)
		}
		return nil
	})
}

// No tenant role, in the account namespace or a site namespace, reads the
// database server's admin credential (it is in the operator namespace).
func TestTenantsCannotReadTheAdminCredential(t *testing.T) {
	tn := newTenant(t, "admin")
	siteNS := newSite(t, tn, "www", v1.DeletionPolicyDelete, dbLimits(1))
	key := client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: cfg.DatabaseAdminSecret}
	for _, role := range []string{"owner", "admin", "developer", "editor", "billing", "viewer", "support", "suspended"} {
		user := role + "@admin.example"
		c := bind(t, user, "landlord-tenant-"+role, tn.ns, siteNS)
		err := c.Get(context.Background(), key, &corev1.Secret{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: reading the admin Secret: %v, want Forbidden", role, err)
		}
		list := &corev1.SecretList{}
		if err := c.List(context.Background(), list, client.InNamespace(cfg.OperatorNamespace)); !apierrors.IsForbidden(err) {
			t.Errorf("%s: listing the operator namespace's Secrets: %v, want Forbidden", role, err)
		}
		if err := c.List(context.Background(), list); !apierrors.IsForbidden(err) {
			t.Errorf("%s: listing Secrets cluster-wide: %v, want Forbidden", role, err)
		}
	}
}

// A SiteTemplate that asks for a database gives each of its sites that
// Database, Landlord's: ready, with the Secret its env reads, and out of
// the tenants' reach (not deletable, not changeable), while a tenant's own
// Database is theirs to delete.
func TestTemplateDatabaseIsCreatedAndProtected(t *testing.T) {
	needServer(t)
	ctx := context.Background()
	tmpl := &v1.SiteTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Name("wordpress")},
		Spec: v1.SiteTemplateSpec{Image: "wordpress:6", Database: &v1.TemplateDatabase{Name: "wp", Env: []v1.DatabaseEnvVar{
			{Name: "WORDPRESS_DB_HOST", Fact: v1.DatabaseFactAddress},
			{Name: "WORDPRESS_DB_PASSWORD", Fact: v1.DatabaseFactPassword},
		}}},
	}
	if err := env.Client.Create(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	tn := newTenant(t, "tmpl")
	siteNS := cfg.SiteNamespace(tn.account.Name, "www")
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS, Labels: map[string]string{
		v1.AccountLabel: tn.account.Name, v1.SubscriptionLabel: "www", v1.ManagedByLabel: v1.ManagedByValue,
	}}}); err != nil {
		t.Fatal(err)
	}
	sub := &v1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "www"},
		Spec:       v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: tmpl.Name}},
	}
	if err := env.Client.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	setSite(t, tn, "www", v1.PhaseActive, ptr.To(dbLimits(2)))

	db := waitDB(t, &v1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: siteNS, Name: "wp"}}, phase(v1.DatabaseReady))
	if db.Labels[v1.ManagedByLabel] != v1.ManagedByValue || db.Labels[v1.SubscriptionLabel] != "www" {
		t.Fatalf("the template's Database is not labelled as Landlord's: %v", db.Labels)
	}
	sec := secretOf(t, env.Client, db)
	if want := fmt.Sprintf("%s:%d", cfg.DatabaseSiteHost, srv.Port); string(sec.Data["address"]) != want {
		t.Fatalf("address %q, want %q", sec.Data["address"], want)
	}
	if err := login(sec, "SELECT 1"); err != nil {
		t.Fatal(err)
	}

	dev := developer(t, "dev@tmpl.example", tn.ns, siteNS)
	err := dev.Delete(ctx, db)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "site template's database") {
		t.Fatalf("a Developer deleting the template's Database: %v, want Forbidden", err)
	}
	db.Spec.Name = "renamed"
	if err := dev.Update(ctx, db); !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		t.Fatalf("a Developer changing the template's Database: %v, want refused", err)
	}
	forged := &v1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: siteNS, Name: "forged", Labels: map[string]string{v1.ManagedByLabel: v1.ManagedByValue}}}
	if err := dev.Create(ctx, forged); !apierrors.IsForbidden(err) {
		t.Fatalf("a Developer creating a Database labelled as Landlord's: %v, want Forbidden", err)
	}
	own := waitDB(t, newDatabase(t, dev, siteNS, "mine", ""), phase(v1.DatabaseReady))
	if err := dev.Delete(ctx, own); err != nil {
		t.Fatalf("a Developer deleting their own Database: %v", err)
	}
	if d, _ := onServer(t, db.Status.Database); !d {
		t.Fatal("the template's database is gone from the server")
	}
}

// spec.site.env is validated at admission: a value or a Secret's key.
func TestSiteEnvAdmission(t *testing.T) {
	tn := newTenant(t, "env")
	for _, c := range []struct {
		env []v1.SiteEnvVar
		msg string
	}{
		{[]v1.SiteEnvVar{{Name: "A", Value: ptr.To("x"), SecretKeyRef: &v1.SecretKeyRef{Name: "s", Key: "k"}}}, "either value or secretKeyRef"},
		{[]v1.SiteEnvVar{{Name: "A"}}, "either value or secretKeyRef"},
		{[]v1.SiteEnvVar{{Name: "1BAD", Value: ptr.To("x")}}, "spec.site.env[0].name"},
		{[]v1.SiteEnvVar{{Name: "A", SecretKeyRef: &v1.SecretKeyRef{Name: "Not_A_Name", Key: "k"}}}, "secretKeyRef.name"},
	} {
		sub := &v1.Subscription{
			ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "bad"},
			Spec:       v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static", Env: c.env}},
		}
		if err := env.Client.Create(context.Background(), sub); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v, want refused saying %q", c.env, err, c.msg)
		}
	}
	ok := &v1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: "good"},
		Spec: v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static", Env: []v1.SiteEnvVar{
			{Name: "A", Value: ptr.To("x")}, {Name: "B", SecretKeyRef: &v1.SecretKeyRef{Name: "keys", Key: "b.key"}},
		}}},
	}
	if err := env.Client.Create(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
}

// An account's deletion drops its databases, even a site's under
// deletionPolicy Retain: while the Account is being deleted, and once it is
// gone (its prefix then comes from the registry on the server).
func TestAccountDeletionDropsDatabases(t *testing.T) {
	for _, gone := range []bool{false, true} {
		t.Run(fmt.Sprintf("account gone %v", gone), func(t *testing.T) {
			ctx := context.Background()
			tn := newTenant(t, "acctdel")
			siteNS := newSite(t, tn, "www", v1.DeletionPolicyRetain, dbLimits(1))
			db := waitDB(t, newDatabase(t, env.Client, siteNS, "data", ""), phase(v1.DatabaseReady))
			acct := tn.account.DeepCopy()
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(acct), acct); err != nil {
				t.Fatal(err)
			}
			acct.Spec.DeletionProtection = ptr.To(false)
			if gone {
				acct.Finalizers = nil // nothing holds it: it goes at once
			}
			if err := env.Client.Update(ctx, acct); err != nil {
				t.Fatal(err)
			}
			if err := env.Client.Delete(ctx, acct); err != nil {
				t.Fatal(err)
			}
			if gone {
				testenv.Eventually(t, wait, func() error {
					if err := env.Client.Get(ctx, client.ObjectKeyFromObject(acct), &v1.Account{}); !apierrors.IsNotFound(err) {
						return fmt.Errorf("account still there (%v)", err)
					}
					return nil
				})
			}
			// The account controller deletes the account's namespaces; it does not run here.
			if err := env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS}}); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, wait, func() error {
				if d, u := onServer(t, db.Status.Database); d || u {
					return fmt.Errorf("database %v, user %v still on the server", d, u)
				}
				return nil
			})
		})
	}
}

// A converged Database is measured every size interval (2s here) without a
// write while its size barely moves; a real change of size is written.
func TestSizeRefreshWritesOnlyWhenItMoves(t *testing.T) {
	tn := newTenant(t, "size")
	siteNS := newSite(t, tn, "www", v1.DeletionPolicyDelete, dbLimits(1))
	db := waitDB(t, newDatabase(t, env.Client, siteNS, "quiet", ""), phase(v1.DatabaseReady))
	time.Sleep(time.Second) // the first reconciles' writes have landed
	before := get(t, db)
	testenv.Consistently(t, 5*time.Second, func() error {
		if now := get(t, db); now.ResourceVersion != before.ResourceVersion {
			return fmt.Errorf("written while nothing moved: status %+v", now.Status)
		}
		return nil
	})
	if err := login(secretOf(t, env.Client, db), "CREATE TABLE t (v INT)"); err != nil {
		t.Fatal(err)
	}
	waitDB(t, db, func(d *v1.Database) error {
		if d.Status.Size == nil || d.Status.Size.Value() < 16384 {
			return fmt.Errorf("size %v, want the new table's pages", d.Status.Size)
		}
		return nil
	})
}
