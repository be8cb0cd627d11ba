package mysqladmin_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/landlord-dev/landlord/internal/mysqladmin"
	"github.com/landlord-dev/landlord/internal/mysqltest"
)

var srv *mysqltest.Server

func TestMain(m *testing.M) {
	s, err := mysqltest.StartForMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv = s
	code := m.Run()
	if s != nil {
		_ = s.Stop()
	}
	os.Exit(code)
}

func admin(t *testing.T) *mysqladmin.Server {
	t.Helper()
	if srv == nil {
		t.Skip("no MariaDB server (see mysqltest)")
	}
	a, err := mysqladmin.Open(mysqladmin.Config{Host: srv.Host, Port: srv.Port, User: mysqltest.AdminUser, Password: srv.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// ensure observes and converges name to w.
func ensure(t *testing.T, a *mysqladmin.Server, w mysqladmin.Want) {
	t.Helper()
	ctx := context.Background()
	have, err := a.Observe(ctx, w.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ensure(ctx, have, w); err != nil {
		t.Fatal(err)
	}
	// Converged: a second pass writes nothing.
	have, err = a.Observe(ctx, w.Name)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := a.Ensure(ctx, have, w); err != nil || changed {
		t.Fatalf("second Ensure: changed %v, err %v (state %+v)", changed, err, have)
	}
}

// connect opens one connection as the user and runs stmts; the first error.
func connect(user, password, database string, stmts ...string) error {
	db, err := srv.Open(user, password, database)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
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

func TestCreateGrantsThatDatabaseOnly(t *testing.T) {
	a := admin(t)
	pw, _ := mysqladmin.Password()
	ensure(t, a, mysqladmin.Want{Name: "aaaaaa_my_db", Password: pw, MaxConnections: 3, Privileges: mysqladmin.PrivilegesAll})
	// A sibling the '_' wildcard would match if it were not escaped.
	ensure(t, a, mysqladmin.Want{Name: "aaaaaa_myxdb", Password: pw, MaxConnections: 3, Privileges: mysqladmin.PrivilegesAll})

	if err := connect("aaaaaa_my_db", pw, "aaaaaa_my_db", "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("the user cannot use its database: %v", err)
	}
	for _, other := range []string{"aaaaaa_myxdb", "mysql", "landlord"} {
		if err := connect("aaaaaa_my_db", pw, other); err == nil {
			t.Errorf("the user of aaaaaa_my_db can use the database %s", other)
		}
	}
	if err := connect("aaaaaa_my_db", pw, "", "CREATE DATABASE aaaaaa_other"); err == nil {
		t.Error("the user can create databases")
	}
	if err := connect("aaaaaa_my_db", "wrong", "aaaaaa_my_db"); err == nil {
		t.Error("a wrong password is accepted")
	}
	// The connection limit (once the connections above are closed).
	for i := 0; ; i++ {
		n, err := srv.Connections("aaaaaa_my_db")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if i > 100 {
			t.Fatalf("%d connections still open", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	db, _ := srv.Open("aaaaaa_my_db", pw, "aaaaaa_my_db")
	defer db.Close()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	var limitErr error
	for range 4 {
		c, err := db.Conn(context.Background())
		if err == nil {
			err = c.PingContext(context.Background())
		}
		if err != nil {
			limitErr = err
			break
		}
		conns = append(conns, c)
	}
	if len(conns) != 3 || mysqlErr(limitErr) != 1226 {
		t.Errorf("opened %d connections (want 3), then %v (want error 1226, max_user_connections)", len(conns), limitErr)
	}
}

func TestLockRefusesLoginAndKillsConnections(t *testing.T) {
	a := admin(t)
	ctx := context.Background()
	pw, _ := mysqladmin.Password()
	w := mysqladmin.Want{Name: "bbbbbb_wp", Password: pw, MaxConnections: 5, Privileges: mysqladmin.PrivilegesAll}
	ensure(t, a, w)
	db, _ := srv.Open(w.Name, pw, w.Name)
	defer db.Close()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	w.Locked = true
	ensure(t, a, w)
	err = connect(w.Name, pw, w.Name)
	if mysqlErr(err) != 4151 {
		t.Errorf("login while locked: %v, want error 4151 (account locked)", err)
	}
	if _, err := c.ExecContext(ctx, "SELECT 1"); err == nil {
		t.Error("a connection made before the lock still works")
	}
	w.Locked = false
	ensure(t, a, w)
	if err := connect(w.Name, pw, w.Name, "SELECT 1"); err != nil {
		t.Errorf("login after unlock: %v", err)
	}
}

func TestReadDeleteRefusesWritesUntilRestored(t *testing.T) {
	a := admin(t)
	ctx := context.Background()
	pw, _ := mysqladmin.Password()
	w := mysqladmin.Want{Name: "cccccc_big", Password: pw, MaxConnections: 5, Privileges: mysqladmin.PrivilegesAll}
	ensure(t, a, w)
	if err := connect(w.Name, pw, w.Name, "CREATE TABLE t (v VARCHAR(100))", "INSERT INTO t VALUES ('x')"); err != nil {
		t.Fatal(err)
	}
	size, err := a.Size(ctx, w.Name)
	if err != nil || size < 16384 {
		t.Fatalf("size %d, %v; want at least one InnoDB page", size, err)
	}
	w.Privileges = mysqladmin.PrivilegesReadDelete
	ensure(t, a, w)
	if err := connect(w.Name, pw, w.Name, "INSERT INTO t VALUES ('y')"); mysqlErr(err) != 1142 {
		t.Errorf("insert over the storage limit: %v, want error 1142 (command denied)", err)
	}
	if err := connect(w.Name, pw, w.Name, "SELECT * FROM t", "DELETE FROM t"); err != nil {
		t.Errorf("read and delete over the storage limit: %v", err)
	}
	w.Privileges = mysqladmin.PrivilegesAll
	ensure(t, a, w)
	if err := connect(w.Name, pw, w.Name, "INSERT INTO t VALUES ('z')"); err != nil {
		t.Errorf("insert after restore: %v", err)
	}
}

func TestDropRemovesDatabaseAndUser(t *testing.T) {
	a := admin(t)
	ctx := context.Background()
	pw, _ := mysqladmin.Password()
	// The longest name admission lets through: 32 characters.
	w := mysqladmin.Want{Name: "dddddd_gone_abcdefghijklmnopqrst", Password: pw, MaxConnections: 5, Privileges: mysqladmin.PrivilegesAll}
	ensure(t, a, w)
	for range 2 { // idempotent
		if err := a.Drop(ctx, w.Name); err != nil {
			t.Fatal(err)
		}
	}
	st, err := a.Observe(ctx, w.Name)
	if err != nil || st.DatabaseExists || st.UserExists {
		t.Fatalf("after Drop: %+v, %v", st, err)
	}
	if err := connect(w.Name, pw, ""); err == nil {
		t.Error("the dropped user can log in")
	}
}

// Many claims of one name at the same instant: exactly one holder.
func TestClaimOneHolderUnderConcurrency(t *testing.T) {
	a := admin(t)
	ctx := context.Background()
	if err := a.EnsureRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 16
	holders := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			h, err := a.Claim(ctx, "eeeeee_shared", mysqladmin.Holder{UID: fmt.Sprintf("uid-%d", i), Account: "a", Namespace: "ns", Object: "o"})
			holders[i], errs[i] = h.UID, err
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if holders[i] != holders[0] {
			t.Fatalf("claim %d sees holder %s, claim 0 sees %s", i, holders[i], holders[0])
		}
	}
	if err := a.Release(ctx, "eeeeee_shared", "someone-else"); err != nil {
		t.Fatal(err)
	}
	if h, found, _ := a.Holder(ctx, "eeeeee_shared"); !found || h.UID != holders[0] {
		t.Errorf("another UID's release removed the holder: %+v %v", h, found)
	}
}
