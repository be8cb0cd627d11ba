// Package mysqladmin is Landlord's administration of the provider's MySQL or
// MariaDB server: an account's prefix, a site database's database and user,
// their privileges, lock and size, and the registry on the server of which
// Database holds which name. Every statement is idempotent (IF NOT EXISTS,
// IF EXISTS, or checked first) and uses the syntax MySQL 8 and MariaDB 10.6+
// share.
package mysqladmin

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"strings"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// prefixChars is how many characters of the account's hash the prefix has
// (then '_').
const prefixChars = v1.DatabasePrefixLength - 1

// lowerBase32 spells the hash with letters and the digits 2-7.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Prefix is the account's prefix on the database server: six characters of
// a hash of the account's UID, then '_' ("k3x9qa_"). The UID, not the name:
// an account deleted and made again under the same name gets a new prefix,
// so it never finds the retained databases of the old one. Six base-32
// characters are 30 bits: two accounts share a prefix with a probability of
// about n²/2³¹ among n accounts, and even then no two Databases share a
// server name, because the registry on the server (Claim) gives each name to
// one Database only.
func Prefix(accountUID string) string {
	sum := sha256.Sum256([]byte("landlord-database-prefix:" + accountUID))
	return lowerBase32.EncodeToString(sum[:])[:prefixChars] + "_"
}

// LocalName is a Database's name after the prefix: spec.name, or
// metadata.name with '-' written '_'.
func LocalName(db *v1.Database) string {
	if db.Spec.Name != "" {
		return db.Spec.Name
	}
	return strings.ReplaceAll(db.Name, "-", "_")
}

// ServerName is the name of the database and of its user on the server.
func ServerName(accountUID string, db *v1.Database) string {
	return Prefix(accountUID) + LocalName(db)
}

// validName is what this package accepts as a database or user name: what
// admission lets through, after the prefix. Nothing else reaches a
// statement, so names can be quoted without escaping.
var validName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func checkName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%q is not a database name Landlord makes (1 to 32 lowercase letters, digits or '_')", name)
	}
	return nil
}

// quoteDB quotes a database name as an identifier.
func quoteDB(name string) string { return "`" + name + "`" }

// grantDB quotes a database name for GRANT and REVOKE, where '_' and '%'
// are wildcards: escaped, so that the grant covers that database only (not
// "ab_c" matching "abxc", another database of the account).
func grantDB(name string) string {
	return "`" + strings.NewReplacer("_", `\_`, "%", `\%`).Replace(name) + "`"
}

// quoteUser is the account 'name'@'%'.
func quoteUser(name string) string { return "'" + name + "'@'%'" }
