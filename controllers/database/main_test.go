package database_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/database"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/mysqltest"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	srv *mysqltest.Server
	cfg platform.Config
)

const wait = time.Minute

// TestMain starts a control plane, a private MariaDB server, the admin
// Secret in the operator namespace and Landlord's Database controller (the
// production worker count).
func TestMain(m *testing.M) {
	s, err := mysqltest.StartForMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mysqltest:", err)
		os.Exit(1)
	}
	if s == nil {
		os.Exit(m.Run()) // the pure tests run; those that need the server skip (needServer)
	}
	srv = s
	cfg = platform.Default()
	cfg.DatabaseHost, cfg.DatabasePort = s.Host, s.Port
	cfg.DatabaseSiteHost = "mysql.provider.test"
	cfg.DatabaseSizeInterval = 2 * time.Second
	code := func() int {
		defer func() { _ = s.Stop() }()
		ctx := context.Background()
		e, err := testenv.Start(ctx, testenv.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
			return 1
		}
		env = e
		defer func() { _ = e.Stop() }()
		for _, o := range []client.Object{
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.OperatorNamespace}},
			&corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: cfg.OperatorNamespace, Name: cfg.DatabaseAdminSecret},
				Data:       map[string][]byte{"username": []byte(mysqltest.AdminUser), "password": []byte(s.AdminPassword)},
			},
		} {
			if err := e.Client.Create(ctx, o); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		mgr, err := startManager(nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
			return 1
		}
		running = mgr
		defer func() { _ = running.Stop() }()
		return m.Run()
	}()
	os.Exit(code)
}

// running is the manager the tests share (the crash test replaces it for a while).
var running *testenv.Manager

// startManager starts Landlord's Database controllers with the production
// worker count; wrap, if set, wraps its connection to the API server.
func startManager(wrap func(http.RoundTripper) http.RoundTripper) (*testenv.Manager, error) {
	return startManagerWith(cfg, wrap)
}

func startManagerWith(c platform.Config, wrap func(http.RoundTripper) http.RoundTripper) (*testenv.Manager, error) {
	return env.StartManagerWith(testenv.ManagerOptions{
		Config: c, Clock: clock.NewFake(time.Now()), Controllers: []string{manager.DatabaseController},
		Workers: manager.DefaultWorkers, WrapTransport: wrap,
	})
}

type tenant struct {
	account *v1.Account
	ns      string
}

// needServer skips a test when there is no MariaDB server (mysqltest says
// why; under LANDLORD_REQUIRE_MYSQL TestMain fails instead).
func needServer(t *testing.T) {
	t.Helper()
	if srv == nil {
		t.Skip("no MariaDB server (mariadbd is not installed)")
	}
}

// newTenant creates an Account and its namespace, labelled as the account
// controller makes it.
func newTenant(t *testing.T, prefix string) tenant {
	t.Helper()
	needServer(t)
	ctx := context.Background()
	a := &v1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Name(prefix)},
		Spec:       v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "owner@" + prefix + ".example"}},
	}
	if err := env.Client.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.AccountNamespace(a.Name), Labels: platform.AccountLabels(a.Name)}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	return tenant{account: a, ns: ns.Name}
}

// newSite creates a Subscription and its site namespace as the subscription
// controller makes and reports them (it does not run here: the tests set
// the phase and limits it would compute).
func newSite(t *testing.T, tn tenant, name string, policy v1.DeletionPolicy, limits v1.Limits) string {
	t.Helper()
	ctx := context.Background()
	siteNS := cfg.SiteNamespace(tn.account.Name, name)
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: siteNS, Labels: platform.SiteLabels(tn.account.Name, name)}}); err != nil {
		t.Fatal(err)
	}
	sub := &v1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: name},
		Spec:       v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}, DeletionPolicy: policy},
	}
	if err := env.Client.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	setSite(t, tn, name, v1.PhaseActive, &limits)
	return siteNS
}

// setSite sets the Subscription's phase (and effective limits).
func setSite(t *testing.T, tn tenant, name string, phase v1.SubscriptionPhase, limits *v1.Limits) {
	t.Helper()
	ctx := context.Background()
	sub := &v1.Subscription{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: tn.ns, Name: name}, sub); err != nil {
		t.Fatal(err)
	}
	before := sub.DeepCopy()
	sub.Status.Phase = phase
	sub.Status.Site.Namespace = cfg.SiteNamespace(tn.account.Name, name)
	if limits != nil {
		sub.Status.EffectiveLimits = *limits
	}
	if err := env.Client.Status().Patch(ctx, sub, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
}

func dbLimits(n int32) v1.Limits { return v1.Limits{Databases: ptr.To(n)} }

// developer binds the tenant Developer role for user in namespace, as the
// Membership controller would, and returns the user's client.
func developer(t *testing.T, user string, namespaces ...string) client.Client {
	t.Helper()
	return bind(t, user, "landlord-tenant-developer", namespaces...)
}

func bind(t *testing.T, user, role string, namespaces ...string) client.Client {
	t.Helper()
	for _, ns := range namespaces {
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "test-" + role + "-" + strconv.Itoa(len(user))},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		}
		if err := env.Client.Create(context.Background(), rb); err != nil {
			t.Fatal(err)
		}
	}
	return env.As(user)
}

func newDatabase(t *testing.T, c client.Client, ns, name, spec string) *v1.Database {
	t.Helper()
	db := &v1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1.DatabaseSpec{Name: spec}}
	if err := c.Create(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// waitDB waits until check accepts the Database.
func waitDB(t *testing.T, db *v1.Database, check func(*v1.Database) error) *v1.Database {
	t.Helper()
	got := &v1.Database{}
	testenv.Eventually(t, wait, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(db), got); err != nil {
			return err
		}
		return check(got)
	})
	return got
}

func phase(want v1.DatabasePhase) func(*v1.Database) error {
	return func(db *v1.Database) error {
		if db.Status.Phase != want || db.Status.ObservedGeneration != db.Generation {
			return fmt.Errorf("phase %q, want %q; conditions %+v", db.Status.Phase, want, db.Status.Conditions)
		}
		return nil
	}
}

func condition(typ string, status metav1.ConditionStatus, reason string) func(*v1.Database) error {
	return func(db *v1.Database) error {
		c := meta.FindStatusCondition(db.Status.Conditions, typ)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("condition %s = %+v, want %s/%s", typ, c, status, reason)
		}
		return nil
	}
}

// secretOf reads the Database's credentials as user c.
func secretOf(t *testing.T, c client.Client, db *v1.Database) *corev1.Secret {
	t.Helper()
	sec := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: db.Namespace, Name: db.Status.SecretName}, sec); err != nil {
		t.Fatalf("reading the Secret %s: %v", db.Status.SecretName, err)
	}
	return sec
}

// login connects with the Secret's credentials (to the test server: the
// Secret's host is the name sites use) and runs stmts.
func login(sec *corev1.Secret, stmts ...string) error {
	conn, err := srv.Open(string(sec.Data["username"]), string(sec.Data["password"]), string(sec.Data["database"]))
	if err != nil {
		return err
	}
	defer conn.Close()
	return run(conn, stmts...)
}

func run(conn *sql.DB, stmts ...string) error {
	if err := conn.Ping(); err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := conn.Exec(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

func mysqlErr(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// onServer reports whether the database and the user named name exist.
func onServer(t *testing.T, name string) (dbExists, userExists bool) {
	t.Helper()
	admin, err := srv.Admin()
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	if err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var u int
	if err := admin.QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User = ?", name).Scan(&u); err != nil {
		t.Fatal(err)
	}
	return n > 0, u > 0
}

// databasesWithPrefix counts the server's databases named with prefix.
func databasesWithPrefix(t *testing.T, prefix string) int {
	t.Helper()
	admin, err := srv.Admin()
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	if err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ?", len(prefix), prefix).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var _ = database.SecretName
