// Package mysqltest runs a private MariaDB server for tests and the local
// platform: Debian's mariadbd on a free loopback port with a temporary data
// directory, started and stopped like etcd in internal/controlplane. Nothing
// of the host's own MariaDB (its configuration files, data or socket) is
// used.
package mysqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// RequireEnv, set to 1, makes Require fail a test when mariadbd cannot be
// found or started, instead of skipping it (`make test` sets it: CI runs as
// root with apt and installs the server first).
const RequireEnv = "LANDLORD_REQUIRE_MYSQL"

// AdminUser is the administrative account Start creates, as a provider
// would give Landlord: every privilege, with grant option, from anywhere.
const AdminUser = "landlord_admin"

// ErrNotInstalled says mariadbd or mariadb-install-db was not found.
var ErrNotInstalled = errors.New("mariadbd is not installed (Debian: apt-get install mariadb-server)")

// Server is a running private MariaDB server.
type Server struct {
	// Host and Port are where it listens (127.0.0.1 and a free port).
	Host string
	Port int
	// AdminPassword is AdminUser's password.
	AdminPassword string
	// Dir is its temporary directory (data, socket, log).
	Dir string

	cmd   *exec.Cmd
	done  chan error
	owned bool
}

// Options configure Start.
type Options struct {
	// Log receives the server's output; nil: a file in Dir.
	Log io.Writer
	// Dir is the directory to use (made if missing); empty: a new
	// temporary one, removed by Stop.
	Dir string
	// Port to listen on; 0: a free one.
	Port int
}

// binary finds a MariaDB program in PATH or Debian's sbin.
func binary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Installed reports whether mariadbd and mariadb-install-db are there.
func Installed() bool {
	_, err1 := binary("mariadbd")
	_, err2 := binary("mariadb-install-db")
	return err1 == nil && err2 == nil
}

// Start initialises a data directory and starts mariadbd on a free loopback
// port, then creates AdminUser with a random password. The anonymous users
// mariadb-install-db makes are dropped (”@'localhost' would shadow every
// user@'%' for local connections).
func Start(ctx context.Context, opts Options) (*Server, error) {
	mariadbd, err := binary("mariadbd")
	if err != nil {
		return nil, err
	}
	installDB, err := binary("mariadb-install-db")
	if err != nil {
		return nil, err
	}
	dir, owned := opts.Dir, false
	if dir == "" {
		if dir, err = os.MkdirTemp("", "landlord-mariadb-"); err != nil {
			return nil, err
		}
		owned = true
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", Dir: dir, done: make(chan error, 1)}
	fail := func(err error) (*Server, error) {
		if owned {
			_ = os.RemoveAll(dir)
		}
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fail(err)
	}
	logw := opts.Log
	if logw == nil {
		f, err := os.Create(filepath.Join(dir, "mariadb.log"))
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		logw = f
	}
	user := userArgs()
	install := exec.CommandContext(ctx, installDB, append([]string{"--no-defaults", "--datadir=" + data,
		"--auth-root-authentication-method=normal", "--skip-test-db"}, user...)...)
	install.Stdout, install.Stderr = logw, logw
	if err := install.Run(); err != nil {
		return fail(fmt.Errorf("mariadb-install-db: %w (log in %s)", err, dir))
	}
	port := opts.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return fail(err)
		}
	}
	s.Port = port
	socket := filepath.Join(dir, "mariadb.sock")
	s.cmd = exec.Command(mariadbd, append([]string{"--no-defaults", "--datadir=" + data,
		"--port=" + strconv.Itoa(port), "--bind-address=127.0.0.1", "--socket=" + socket,
		"--pid-file=" + filepath.Join(dir, "mariadb.pid"),
		"--skip-name-resolve", "--skip-log-bin", "--performance-schema=OFF",
		"--innodb-buffer-pool-size=32M", "--max-connections=500"}, user...)...)
	s.cmd.Stdout, s.cmd.Stderr = logw, logw
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("starting mariadbd: %w", err))
	}
	go func() { s.done <- s.cmd.Wait() }()

	rootCfg := mysql.NewConfig()
	rootCfg.User, rootCfg.Net, rootCfg.Addr = "root", "unix", socket
	root, err := sql.Open("mysql", rootCfg.FormatDSN())
	if err != nil {
		_ = s.kill()
		return fail(err)
	}
	defer root.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		if err = root.PingContext(ctx); err == nil {
			break
		}
		select {
		case werr := <-s.done:
			return fail(fmt.Errorf("mariadbd exited: %v (log in %s)", werr, dir))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.kill()
			return fail(fmt.Errorf("mariadbd did not answer within a minute: %w", err))
		}
	}
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		_ = s.kill()
		return fail(err)
	}
	s.AdminPassword = hex.EncodeToString(pw)
	for _, stmt := range []string{
		"DROP USER IF EXISTS ''@'localhost'",
		"DROP USER IF EXISTS ''@'" + hostname() + "'",
		"CREATE USER '" + AdminUser + "'@'%' IDENTIFIED BY '" + s.AdminPassword + "'",
		"GRANT ALL PRIVILEGES ON *.* TO '" + AdminUser + "'@'%' WITH GRANT OPTION",
	} {
		if _, err := root.ExecContext(ctx, stmt); err != nil {
			_ = s.kill()
			return fail(fmt.Errorf("%s: %w", stmt, err))
		}
	}
	s.owned = owned
	return s, nil
}

// userArgs runs the server as root when the tests run as root (mariadbd
// refuses root otherwise).
func userArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Open connects as user with password, to database ("" = none).
func (s *Server) Open(user, password, database string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", s.Addr(), database
	cfg.Timeout = 5 * time.Second
	return sql.Open("mysql", cfg.FormatDSN())
}

// Connections is how many connections user has open now.
func (s *Server) Connections(user string) (int, error) {
	db, err := s.Admin()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?", user).Scan(&n)
	return n, err
}

// Admin connects as AdminUser.
func (s *Server) Admin() (*sql.DB, error) { return s.Open(AdminUser, s.AdminPassword, "") }

func (s *Server) kill() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	return nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 20 s) and removes its
// temporary directory.
func (s *Server) Stop() error {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.kill()
		}
	}
	if s.owned {
		return os.RemoveAll(s.Dir)
	}
	return nil
}

// Require starts a server for a test package's tests, or explains why not:
// without mariadbd the tests are skipped, unless RequireEnv is set (then
// they fail). Use it in TestMain through Main, or in a test.
func Require(tb testing.TB) *Server {
	tb.Helper()
	s, err := Start(context.Background(), Options{})
	if err != nil {
		if os.Getenv(RequireEnv) == "" && errors.Is(err, ErrNotInstalled) {
			tb.Skipf("%v; set %s=1 to fail instead", err, RequireEnv)
		}
		tb.Fatalf("starting MariaDB: %v", err)
	}
	tb.Cleanup(func() { _ = s.Stop() })
	return s
}

// StartForMain is Require for a TestMain: it returns nil (and says why on
// stderr) when mariadbd is missing and RequireEnv is unset, so that the
// package's database tests skip; any other failure is an error.
func StartForMain() (*Server, error) {
	s, err := Start(context.Background(), Options{})
	if err != nil {
		if os.Getenv(RequireEnv) == "" && errors.Is(err, ErrNotInstalled) {
			fmt.Fprintf(os.Stderr, "mysqltest: %v; the tests that need it are skipped (set %s=1 to fail instead)\n", err, RequireEnv)
			return nil, nil
		}
		return nil, err
	}
	return s, nil
}
