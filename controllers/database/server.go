package database

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/landlord-dev/landlord/internal/mysqladmin"
	"github.com/landlord-dev/landlord/internal/platform"
)

// errNoServer: the manager has no database server configured.
var errNoServer = errors.New("no database server is configured (--database-host)")

// Servers gives the reconciler its connection to the provider's server.
type Servers interface {
	// Server is the pool to the server as its administrator; errNoServer
	// when none is configured.
	Server(ctx context.Context) (*mysqladmin.Server, error)
}

// adminServers connects with the credential in the admin Secret of the
// operator namespace, read uncached and by name (no informer of Secrets) at
// most every secretTTL, so that a rotated credential is used within it; the
// pool is kept while the credential stays the same.
type adminServers struct {
	reader client.Reader
	cfg    platform.Config

	mu       sync.Mutex
	key      mysqladmin.Config
	readAt   time.Time
	srv      *mysqladmin.Server
	registry bool
}

// secretTTL is how long the admin Secret, once read, is trusted.
const secretTTL = 30 * time.Second

// The manager's only rights on Secrets: get by name (the admin Secret, a
// Database's own), create and delete (a Database's); never list, watch,
// update or patch (test/manifests).
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;delete

func (a *adminServers) Server(ctx context.Context) (*mysqladmin.Server, error) {
	if a.cfg.DatabaseHost == "" {
		return nil, errNoServer
	}
	a.mu.Lock()
	if a.srv != nil && a.registry && time.Since(a.readAt) < secretTTL {
		defer a.mu.Unlock()
		return a.srv, nil
	}
	a.mu.Unlock()
	sec := &corev1.Secret{}
	key := client.ObjectKey{Namespace: a.cfg.OperatorNamespace, Name: a.cfg.DatabaseAdminSecret}
	if err := a.reader.Get(ctx, key, sec); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("the database server's admin Secret %s is missing (keys username, password)", key)
		}
		return nil, fmt.Errorf("reading the database server's admin Secret %s: %w", key, err)
	}
	want := mysqladmin.Config{
		Host: a.cfg.DatabaseHost, Port: a.cfg.DatabasePort,
		User: string(sec.Data["username"]), Password: string(sec.Data["password"]),
	}
	if want.User == "" {
		return nil, fmt.Errorf("the database server's admin Secret %s has no username", key)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv == nil || a.key != want {
		if a.srv != nil {
			_ = a.srv.Close()
		}
		srv, err := mysqladmin.Open(want)
		if err != nil {
			return nil, err
		}
		a.srv, a.key, a.registry = srv, want, false
	}
	a.readAt = time.Now()
	if !a.registry {
		if err := a.srv.EnsureRegistry(ctx); err != nil {
			return nil, err
		}
		a.registry = true
	}
	return a.srv, nil
}
