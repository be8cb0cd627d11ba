package mysqladmin

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Server error numbers this package tells apart.
const (
	errNoSuchGrant     = 1141 // REVOKE of a grant that does not exist
	errUnknownThread   = 1094 // KILL of a connection that just ended
	errUnknownVariable = 1193 // MySQL's information_schema_stats_expiry on MariaDB
	errNoSuchUser      = 1133 // SHOW GRANTS / SHOW CREATE USER of no user (MariaDB)
	errNoSuchUser8     = 1396 // operation failed for the user (MySQL: SHOW CREATE USER of no user)
)

// Config names the server and Landlord's administrative account on it.
type Config struct {
	Host     string
	Port     int
	User     string
	Password string
}

// Server is a connection pool to the provider's server as its administrator.
type Server struct {
	db *sql.DB
}

// Open opens a pool (connections are made on first use).
func Open(c Config) (*Server, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net = c.User, c.Password, "tcp"
	cfg.Addr = net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	cfg.Timeout = 5 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Server{db: db}, nil
}

// Close closes the pool.
func (s *Server) Close() error { return s.db.Close() }

// Ping checks that the server answers and the credential is accepted.
func (s *Server) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Server) exec(ctx context.Context, stmt string, args ...any) error {
	if _, err := s.db.ExecContext(ctx, stmt, args...); err != nil {
		return fmt.Errorf("%s: %w", redact(stmt), err)
	}
	return nil
}

var identified = regexp.MustCompile(`IDENTIFIED BY '[^']*'`)

// redact hides a password in a statement quoted in an error.
func redact(stmt string) string { return identified.ReplaceAllString(stmt, "IDENTIFIED BY '…'") }

func isErr(err error, numbers ...uint16) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, n := range numbers {
		if me.Number == n {
			return true
		}
	}
	return false
}

// Privileges a site database's user has on its database.
type Privileges string

// Privilege sets.
const (
	// PrivilegesNone: no grant on the database.
	PrivilegesNone Privileges = "none"
	// PrivilegesAll: every privilege on the database (and on no other).
	PrivilegesAll Privileges = "all"
	// PrivilegesReadDelete: read, delete rows and drop tables, no writes
	// that grow the database (over the plan's databaseStorage).
	PrivilegesReadDelete Privileges = "read-delete"
)

// readDelete is what a user over its storage keeps: enough to read and to
// get back under the limit.
const readDelete = "SELECT, DELETE, DROP, INDEX, LOCK TABLES, SHOW VIEW"

// State is what the server has of one site database.
type State struct {
	DatabaseExists bool
	UserExists     bool
	Locked         bool
	// MaxConnections is the user's MAX_USER_CONNECTIONS (0: none set).
	MaxConnections int
	Privileges     Privileges
}

// Observe reads the state of the database and user named name.
func (s *Server) Observe(ctx context.Context, name string) (State, error) {
	var st State
	if err := checkName(name); err != nil {
		return st, err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n); err != nil {
		return st, fmt.Errorf("looking for database %s: %w", name, err)
	}
	st.DatabaseExists = n > 0
	var create string
	err := s.db.QueryRowContext(ctx, "SHOW CREATE USER "+quoteUser(name)).Scan(&create)
	switch {
	case isErr(err, errNoSuchUser, errNoSuchUser8):
		st.Privileges = PrivilegesNone
		return st, nil
	case err != nil:
		return st, fmt.Errorf("reading user %s: %w", name, err)
	}
	st.UserExists = true
	st.Locked, st.MaxConnections = parseCreateUser(create)
	rows, err := s.db.QueryContext(ctx, "SHOW GRANTS FOR "+quoteUser(name))
	if err != nil {
		return st, fmt.Errorf("reading the grants of %s: %w", name, err)
	}
	defer rows.Close()
	var grants []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return st, err
		}
		grants = append(grants, g)
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	st.Privileges = parseGrants(grants, name)
	return st, nil
}

var maxUserConnections = regexp.MustCompile(`MAX_USER_CONNECTIONS (\d+)`)

// parseCreateUser reads the lock and connection limit from SHOW CREATE
// USER (MariaDB prints ACCOUNT LOCK only when locked; MySQL prints ACCOUNT
// LOCK or ACCOUNT UNLOCK).
func parseCreateUser(create string) (locked bool, maxConns int) {
	// The clauses follow the password hash: read them after its last quote.
	tail := create
	if i := strings.LastIndex(create, "'"); i >= 0 {
		tail = create[i:]
	}
	locked = strings.Contains(tail, "ACCOUNT LOCK")
	if m := maxUserConnections.FindStringSubmatch(tail); m != nil {
		maxConns, _ = strconv.Atoi(m[1])
	}
	return locked, maxConns
}

// parseGrants finds the user's privileges on database name in SHOW GRANTS.
func parseGrants(grants []string, name string) Privileges {
	on := []string{" ON " + grantDB(name) + ".* TO ", " ON " + quoteDB(name) + ".* TO "}
	for _, g := range grants {
		if !strings.Contains(g, on[0]) && !strings.Contains(g, on[1]) {
			continue
		}
		if strings.Contains(g, "ALL PRIVILEGES") {
			return PrivilegesAll
		}
		if strings.Contains(g, "SELECT") {
			return PrivilegesReadDelete
		}
	}
	return PrivilegesNone
}

// Want is what a site database should be on the server.
type Want struct {
	// Name of the database and its user.
	Name string
	// Password is the user's password when it is created (from the Secret).
	Password string
	// MaxConnections bounds the user's connections (0: no limit).
	MaxConnections int
	// Locked: the user cannot log in (the site is suspended).
	Locked bool
	// Privileges it has on its database.
	Privileges Privileges
}

// Ensure makes the server have w, from what Observe found: only what
// differs is changed. It reports whether it wrote anything. A user that is
// locked, or loses privileges, has its connections killed (MySQL checks a
// database's privileges when a connection selects it, not on each
// statement).
func (s *Server) Ensure(ctx context.Context, have State, w Want) (changed bool, err error) {
	if err := checkName(w.Name); err != nil {
		return false, err
	}
	user := quoteUser(w.Name)
	if !have.DatabaseExists {
		if err := s.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteDB(w.Name)+" CHARACTER SET utf8mb4"); err != nil {
			return changed, err
		}
		changed = true
	}
	if !have.UserExists {
		if err := s.exec(ctx, "CREATE USER IF NOT EXISTS "+user+" IDENTIFIED BY '"+escapeString(w.Password)+"'"); err != nil {
			return changed, err
		}
		changed = true
		have.MaxConnections, have.Locked, have.Privileges = 0, false, PrivilegesNone
	}
	if have.MaxConnections != w.MaxConnections {
		if err := s.exec(ctx, "ALTER USER "+user+" WITH MAX_USER_CONNECTIONS "+strconv.Itoa(w.MaxConnections)); err != nil {
			return changed, err
		}
		changed = true
	}
	kill := false
	if have.Privileges != w.Privileges {
		if have.Privileges != PrivilegesNone {
			if err := s.exec(ctx, "REVOKE ALL PRIVILEGES ON "+grantDB(w.Name)+".* FROM "+user); err != nil && !isErr(err, errNoSuchGrant) {
				return changed, err
			}
			kill = true
		}
		switch w.Privileges {
		case PrivilegesAll:
			err = s.exec(ctx, "GRANT ALL PRIVILEGES ON "+grantDB(w.Name)+".* TO "+user)
		case PrivilegesReadDelete:
			err = s.exec(ctx, "GRANT "+readDelete+" ON "+grantDB(w.Name)+".* TO "+user)
		}
		if err != nil {
			return changed, err
		}
		changed = true
	}
	if have.Locked != w.Locked {
		stmt := "ALTER USER " + user + " ACCOUNT UNLOCK"
		if w.Locked {
			stmt = "ALTER USER " + user + " ACCOUNT LOCK"
			kill = true
		}
		if err := s.exec(ctx, stmt); err != nil {
			return changed, err
		}
		changed = true
	}
	if kill || w.Locked {
		// Also when already locked: a connection made before the lock
		// (a crash between the two) is closed now.
		n, err := s.KillConnections(ctx, w.Name)
		if err != nil {
			return changed, err
		}
		changed = changed || n > 0
	}
	return changed, nil
}

// SetPassword sets the user's password (a new Secret).
func (s *Server) SetPassword(ctx context.Context, name, password string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return s.exec(ctx, "ALTER USER "+quoteUser(name)+" IDENTIFIED BY '"+escapeString(password)+"'")
}

// KillConnections closes every connection of the user; it returns how many.
func (s *Server) KillConnections(ctx context.Context, name string) (int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", name)
	if err != nil {
		return 0, fmt.Errorf("listing the connections of %s: %w", name, err)
	}
	var ids []uint64
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if err := s.exec(ctx, "KILL "+strconv.FormatUint(id, 10)); err != nil && !isErr(err, errUnknownThread) {
			return n, err
		}
		n++
	}
	return n, nil
}

// Drop drops the database and its user (connections killed first).
func (s *Server) Drop(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := s.exec(ctx, "DROP USER IF EXISTS "+quoteUser(name)); err != nil {
		return err
	}
	if _, err := s.KillConnections(ctx, name); err != nil {
		return err
	}
	return s.exec(ctx, "DROP DATABASE IF EXISTS "+quoteDB(name))
}

// Size is the database's data and index size in bytes, as the server's
// statistics say (MySQL 8 caches them for a day unless told not to).
func (s *Server) Size(ctx context.Context, name string) (int64, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION information_schema_stats_expiry = 0"); err != nil && !isErr(err, errUnknownVariable) {
		return 0, fmt.Errorf("reading fresh table statistics: %w", err)
	}
	var size int64
	if err := conn.QueryRowContext(ctx,
		"SELECT CAST(COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS SIGNED) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", name).Scan(&size); err != nil {
		return 0, fmt.Errorf("measuring database %s: %w", name, err)
	}
	return size, nil
}

// escapeString escapes a string literal's quote and backslash (passwords
// are generated by Password, which uses neither).
func escapeString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

const passwordChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Password generates a 32-character password (190 bits).
func Password() (string, error) {
	b := make([]byte, 32)
	max := big.NewInt(int64(len(passwordChars)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = passwordChars[n.Int64()]
	}
	return string(b), nil
}
