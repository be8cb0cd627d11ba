package mysqladmin

import (
	"fmt"
	"regexp"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

func TestPrefixShape(t *testing.T) {
	re := regexp.MustCompile(`^[a-z2-7]{6}_$`)
	for _, uid := range []string{"", "0b5b0b9e-7e3c-4f0e-9d0a-1f2e3d4c5b6a", "x"} {
		p := Prefix(uid)
		if !re.MatchString(p) || len(p) != v1.DatabasePrefixLength {
			t.Errorf("Prefix(%q) = %q, want 6 base-32 characters and '_'", uid, p)
		}
		if Prefix(uid) != p {
			t.Errorf("Prefix(%q) is not deterministic", uid)
		}
	}
}

// Prefixes of distinct accounts differ: among 20,000 accounts (UIDs as the
// API server makes them) no two share one. Should two ever share one, the
// registry still gives each server name to one Database (TestClaim...).
func TestPrefixesOfAccountsDiffer(t *testing.T) {
	seen := map[string]string{}
	for i := range 20000 {
		uid := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761, i%65536, i%4096, (i*7)%4096, i*97)
		p := Prefix(uid)
		if other, dup := seen[p]; dup {
			t.Fatalf("accounts %s and %s share the prefix %s", other, uid, p)
		}
		seen[p] = uid
	}
}

func TestServerNames(t *testing.T) {
	p := Prefix("acct-uid")
	for _, c := range []struct {
		meta, spec, want string
	}{
		{"wordpress", "", p + "wordpress"},
		{"my-shop", "", p + "my_shop"},
		{"anything", "wp", p + "wp"},
		{"x", "abcdefghijklmnopqrstuvwxy", p + "abcdefghijklmnopqrstuvwxy"},
	} {
		db := &v1.Database{ObjectMeta: metav1.ObjectMeta{Name: c.meta}, Spec: v1.DatabaseSpec{Name: c.spec}}
		got := ServerName("acct-uid", db)
		if got != c.want {
			t.Errorf("ServerName(%q, %q) = %q, want %q", c.meta, c.spec, got, c.want)
		}
		if len(got) > 32 || checkName(got) != nil {
			t.Errorf("%q does not fit MySQL's 32-character user names", got)
		}
	}
}

// A grant's database name has its wildcards escaped: "ab_c" must not match
// "abxc".
func TestGrantDBEscapesWildcards(t *testing.T) {
	if got, want := grantDB("k3x9qa_my_db"), "`k3x9qa\\_my\\_db`"; got != want {
		t.Errorf("grantDB = %s, want %s", got, want)
	}
}

func TestParseCreateUser(t *testing.T) {
	for _, c := range []struct {
		in     string
		locked bool
		max    int
	}{
		{"CREATE USER `a`@`%` IDENTIFIED BY PASSWORD '*ABC' WITH MAX_USER_CONNECTIONS 5 ACCOUNT LOCK", true, 5},
		{"CREATE USER `a`@`%` IDENTIFIED BY PASSWORD '*ABC' WITH MAX_USER_CONNECTIONS 5", false, 5},
		{"CREATE USER `a`@`%` IDENTIFIED BY PASSWORD '*ABC'", false, 0},
		// MySQL 8.
		{"CREATE USER `a`@`%` IDENTIFIED WITH 'caching_sha2_password' AS '$A$005$x ACCOUNT LOCK' REQUIRE NONE WITH MAX_USER_CONNECTIONS 3 PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT", false, 3},
		{"CREATE USER `a`@`%` IDENTIFIED WITH 'caching_sha2_password' AS 'h' REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT LOCK", true, 0},
	} {
		locked, max := parseCreateUser(c.in)
		if locked != c.locked || max != c.max {
			t.Errorf("parseCreateUser(%q) = %v, %d; want %v, %d", c.in, locked, max, c.locked, c.max)
		}
	}
}
