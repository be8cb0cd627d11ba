package database_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/mysqladmin"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// wire is a manager's connection to the API server that dies, as a killed
// process would, after a number of successful writes.
type wire struct {
	writes atomic.Int64
	dieAt  int64
	dead   atomic.Bool
	died   chan struct{}
	once   sync.Once
}

var errKilled = errors.New("manager killed by the test")

func (w *wire) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if w.dead.Load() {
			return nil, errKilled
		}
		resp, err := rt.RoundTrip(req)
		if err != nil || req.Method == http.MethodGet || resp.StatusCode >= 300 {
			return resp, err
		}
		if w.writes.Add(1) >= w.dieAt {
			w.dead.Store(true)
			w.once.Do(func() { close(w.died) })
		}
		return resp, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// The crash points: a manager that dies after its n-th write to the API
// server (the finalizer, the slot, the Secret, the status, and what follows
// in the deletion), for every n, then a fresh manager: the Database ends up
// Ready with working credentials, exactly one database on the server and one
// slot; its deletion, crashed at every point too, leaves nothing behind.
func TestCrashAtEveryWrite(t *testing.T) {
	needServer(t)
	ctx := context.Background()
	_ = running.Stop()
	defer func() {
		m, err := startManager(nil)
		if err != nil {
			t.Fatalf("restarting the shared manager: %v", err)
		}
		running = m
	}()
	for n := int64(1); n <= 6; n++ {
		t.Run(fmt.Sprintf("create, crash at write %d", n), func(t *testing.T) {
			tn := newTenant(t, "crash")
			siteNS := newSite(t, tn, "www", v1.DeletionPolicyDelete, dbLimits(1))
			prefix := mysqladmin.Prefix(string(tn.account.UID))
			w := &wire{dieAt: n, died: make(chan struct{})}
			m, err := startManager(w.wrap)
			if err != nil {
				t.Fatal(err)
			}
			db := newDatabase(t, env.Client, siteNS, "app", "")
			crashed := waitCrashOrReady(t, w, db)
			_ = m.Stop()
			m, err = startManager(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = m.Stop() }()
			got := waitDB(t, db, phase(v1.DatabaseReady))
			if err := login(secretOf(t, env.Client, got), "SELECT 1"); err != nil {
				t.Fatalf("(crashed: %v) the Secret's credentials: %v", crashed, err)
			}
			if k := databasesWithPrefix(t, prefix); k != 1 {
				t.Fatalf("(crashed: %v) %d databases on the server, want 1", crashed, k)
			}
			leases := &coordinationv1.LeaseList{}
			if err := env.Client.List(ctx, leases, client.InNamespace(siteNS)); err != nil || len(leases.Items) != 1 {
				t.Fatalf("(crashed: %v) slots %d, %v; want 1", crashed, len(leases.Items), err)
			}

			// Deletion, crashed at write n as well.
			_ = m.Stop()
			w = &wire{dieAt: n, died: make(chan struct{})}
			if m, err = startManager(w.wrap); err != nil {
				t.Fatal(err)
			}
			if err := env.Client.Delete(ctx, got); err != nil {
				t.Fatal(err)
			}
			waitCrashOrGone(t, w, got)
			_ = m.Stop()
			if m, err = startManager(nil); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, wait, func() error {
				if err := env.Client.Get(ctx, client.ObjectKeyFromObject(got), &v1.Database{}); err == nil {
					return errors.New("the Database is still there")
				}
				if d, u := onServer(t, got.Status.Database); d || u {
					return fmt.Errorf("database %v, user %v still on the server", d, u)
				}
				return nil
			})
		})
	}
}

// waitCrashOrReady waits until the wire died or the Database is Ready.
func waitCrashOrReady(t *testing.T, w *wire, db *v1.Database) bool {
	t.Helper()
	crashed := false
	testenv.Eventually(t, wait, func() error {
		select {
		case <-w.died:
			crashed = true
			return nil
		default:
		}
		return phase(v1.DatabaseReady)(get(t, db))
	})
	return crashed
}

func waitCrashOrGone(t *testing.T, w *wire, db *v1.Database) {
	t.Helper()
	testenv.Eventually(t, wait, func() error {
		select {
		case <-w.died:
			return nil
		default:
		}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(db), &v1.Database{}); err == nil {
			return errors.New("still there")
		}
		return nil
	})
}

func get(t *testing.T, db *v1.Database) *v1.Database {
	t.Helper()
	got := &v1.Database{ObjectMeta: metav1.ObjectMeta{}}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(db), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// The provider moves its server to another host name: the Databases'
// Secrets follow (made again, same password), and the credentials still
// work.
func TestSecretsFollowTheServerHost(t *testing.T) {
	needServer(t)
	tn := newTenant(t, "host")
	siteNS := newSite(t, tn, "www", v1.DeletionPolicyDelete, dbLimits(1))
	db := waitDB(t, newDatabase(t, env.Client, siteNS, "app", ""), phase(v1.DatabaseReady))
	before := secretOf(t, env.Client, db)

	_ = running.Stop()
	moved := cfg
	moved.DatabaseSiteHost = "mysql2.provider.test"
	m, err := startManagerWith(moved, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = m.Stop()
		if running, err = startManager(nil); err != nil {
			t.Fatalf("restarting the shared manager: %v", err)
		}
	}()
	got := waitDB(t, db, func(d *v1.Database) error {
		if d.Status.Host != moved.DatabaseSiteHost {
			return fmt.Errorf("status.host %s", d.Status.Host)
		}
		return phase(v1.DatabaseReady)(d)
	})
	var after *corev1.Secret
	testenv.Eventually(t, wait, func() error {
		after = secretOf(t, env.Client, got)
		if string(after.Data["host"]) != moved.DatabaseSiteHost || string(after.Data["address"]) != fmt.Sprintf("%s:%d", moved.DatabaseSiteHost, srv.Port) {
			return fmt.Errorf("Secret host %s address %s", after.Data["host"], after.Data["address"])
		}
		return nil
	})
	if string(after.Data["password"]) != string(before.Data["password"]) {
		t.Error("the password changed with the host")
	}
	if err := login(after, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}
