package mysqladmin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The registry is a table on the server recording which Database holds each
// name: the server's primary key lets one Database, of one account, hold a
// name (as the DomainClaims' names do for hostnames), whatever the prefixes;
// and a retained database stays labelled with its account and site there
// after the site is gone.
const (
	registryDB    = "landlord"
	registryTable = "landlord.site_databases"
)

// Holder is who holds a name in the registry.
type Holder struct {
	// UID is the Database's UID.
	UID        string
	Account    string
	AccountUID string
	Namespace  string
	// Subscription is the site's subscription.
	Subscription string
	// Object is the Database's name.
	Object string
	// DeletionPolicy is the site's Subscription's deletionPolicy (Delete or
	// Retain), kept here so that it is known when the Subscription is gone.
	DeletionPolicy string
	// Retained: the site was terminated under deletionPolicy Retain; the
	// database and its user are kept, locked.
	Retained bool
}

// EnsureRegistry creates the registry's database and table.
func (s *Server) EnsureRegistry(ctx context.Context) error {
	if err := s.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+registryDB+" CHARACTER SET utf8mb4"); err != nil {
		return err
	}
	return s.exec(ctx, `CREATE TABLE IF NOT EXISTS `+registryTable+` (
		name VARCHAR(64) NOT NULL PRIMARY KEY,
		uid VARCHAR(64) NOT NULL,
		account VARCHAR(64) NOT NULL,
		account_uid VARCHAR(64) NOT NULL,
		namespace VARCHAR(64) NOT NULL,
		subscription VARCHAR(64) NOT NULL,
		object VARCHAR(253) NOT NULL,
		deletion_policy VARCHAR(16) NOT NULL DEFAULT 'Delete',
		retained TINYINT NOT NULL DEFAULT 0,
		created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
	) CHARACTER SET utf8mb4`)
}

// Claim records h as the holder of name unless another Database holds it;
// it returns the holder (h when the claim is h's). Concurrent claims of one
// name: the primary key lets exactly one insert win.
func (s *Server) Claim(ctx context.Context, name string, h Holder) (Holder, error) {
	if err := checkName(name); err != nil {
		return Holder{}, err
	}
	if _, err := s.db.ExecContext(ctx, "INSERT IGNORE INTO "+registryTable+
		" (name, uid, account, account_uid, namespace, subscription, object) VALUES (?, ?, ?, ?, ?, ?, ?)",
		name, h.UID, h.Account, h.AccountUID, h.Namespace, h.Subscription, h.Object); err != nil {
		return Holder{}, fmt.Errorf("claiming %s: %w", name, err)
	}
	got, found, err := s.Holder(ctx, name)
	if err != nil {
		return Holder{}, err
	}
	if !found {
		return Holder{}, fmt.Errorf("claiming %s: released as it was claimed; try again", name)
	}
	return got, nil
}

// Holder reads who holds name.
func (s *Server) Holder(ctx context.Context, name string) (Holder, bool, error) {
	var h Holder
	err := s.db.QueryRowContext(ctx, "SELECT uid, account, account_uid, namespace, subscription, object, deletion_policy, retained FROM "+registryTable+" WHERE name = ?", name).
		Scan(&h.UID, &h.Account, &h.AccountUID, &h.Namespace, &h.Subscription, &h.Object, &h.DeletionPolicy, &h.Retained)
	if errors.Is(err, sql.ErrNoRows) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("reading the holder of %s: %w", name, err)
	}
	return h, true, nil
}

// SetDeletionPolicy records the site's deletionPolicy for name, held by uid.
func (s *Server) SetDeletionPolicy(ctx context.Context, name, uid, policy string) error {
	return s.exec(ctx, "UPDATE "+registryTable+" SET deletion_policy = ? WHERE name = ? AND uid = ?", policy, name, uid)
}

// Retain marks name, held by uid, as retained.
func (s *Server) Retain(ctx context.Context, name, uid string) error {
	return s.exec(ctx, "UPDATE "+registryTable+" SET retained = 1 WHERE name = ? AND uid = ?", name, uid)
}

// Release forgets that uid holds name (after its database was dropped).
func (s *Server) Release(ctx context.Context, name, uid string) error {
	return s.exec(ctx, "DELETE FROM "+registryTable+" WHERE name = ? AND uid = ?", name, uid)
}

// Count is how many names the registry holds for a site namespace.
func (s *Server) Count(ctx context.Context, namespace string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+registryTable+" WHERE namespace = ?", namespace).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the databases of %s: %w", namespace, err)
	}
	return n, nil
}

// HeldBy lists the names uid holds.
func (s *Server) HeldBy(ctx context.Context, uid string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name FROM "+registryTable+" WHERE uid = ?", uid)
	if err != nil {
		return nil, fmt.Errorf("listing the names of %s: %w", uid, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
