package customdomain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/hostname"
	"github.com/landlord-dev/landlord/internal/platform"
)

// ChallengePrefix is the label under which the verification TXT record lives.
const ChallengePrefix = "_landlord-challenge."

// TokenPrefix starts every verification token.
const TokenPrefix = "landlord-verify="

// RecordName is the DNS name of a hostname's verification TXT record.
func RecordName(host string) string { return ChallengePrefix + host }

// Token is the value the verification TXT record must hold:
// HMAC-SHA256 keyed by the account UID over the canonical hostname, 128 bits
// in hex. It is stable for an account and hostname, differs between accounts
// (so one account's record never verifies another's claim), and a re-created
// account of the same name (new UID) must verify again.
func Token(accountUID, host string) string {
	m := hmac.New(sha256.New, []byte(accountUID))
	m.Write([]byte("landlord-domain-verification/v1\x00" + host))
	return TokenPrefix + hex.EncodeToString(m.Sum(nil)[:16])
}

// Matches reports whether one of the TXT values found is the token.
func Matches(values []string, token string) bool {
	return slices.ContainsFunc(values, func(v string) bool { return strings.TrimSpace(v) == token })
}

// Instructions are the exact records a customer adds, as text a portal shows.
func Instructions(cfg platform.Config, host, token string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Add these DNS records at the DNS provider of %s:\n", host)
	fmt.Fprintf(&b, "1. TXT   %s.  \"%s\"   (proves that you control the domain; keep it)\n", RecordName(host), token)
	target := strings.TrimSuffix(cfg.DomainTarget, ".")
	fmt.Fprintf(&b, "2. CNAME %s.  %s.   (sends visitors to your site; at a zone apex use your provider's ALIAS/ANAME record)\n", host, target)
	if u := hostname.Unicode(host); u != host {
		fmt.Fprintf(&b, "%s is written %s in DNS.\n", u, host)
	}
	return b.String()
}

// dnsState is what the verification record says, from the recorded lookups.
type dnsState int

const (
	// dnsPending: never found (or no longer, past the lapse grace).
	dnsPending dnsState = iota
	// dnsVerified: found at the last lookup.
	dnsVerified
	// dnsLapsed: found before, missing at the last lookup, within the grace.
	dnsLapsed
	// dnsExpired: missing for longer than the grace since it was last found.
	dnsExpired
)

// routable reports whether the domain may be routed as far as DNS goes.
func (d dnsState) routable() bool { return d == dnsVerified || d == dnsLapsed }

// foundAtLastCheck reports whether the last lookup found the record.
func foundAtLastCheck(v hostingv1alpha1.Verification) bool {
	return v.VerifiedAt != nil && v.LastCheckedAt != nil && !v.LastCheckedAt.After(v.VerifiedAt.Time)
}

// State says what the recorded lookups mean at now. The lapse grace is counted
// from when the record was last found (verifiedAt); deadline is when a lapsed
// domain is unrouted.
func State(v hostingv1alpha1.Verification, now time.Time, grace time.Duration) (state dnsState, deadline time.Time) {
	switch {
	case v.VerifiedAt == nil || v.LastCheckedAt == nil:
		return dnsPending, time.Time{}
	case foundAtLastCheck(v):
		return dnsVerified, time.Time{}
	}
	deadline = v.VerifiedAt.Add(grace)
	if now.Before(deadline) {
		return dnsLapsed, deadline
	}
	return dnsExpired, deadline
}

// NextCheck is when the record should next be looked up: at once if never,
// ReverifyInterval after a successful lookup, and, while it is missing, on a
// backoff that grows with how long it has been missing (1m during the first
// hour, 10m during the first day, then hourly, never rarer than the
// re-verification interval).
func NextCheck(v hostingv1alpha1.Verification, created time.Time, reverify time.Duration) time.Time {
	if v.LastCheckedAt == nil {
		return time.Time{}
	}
	last := v.LastCheckedAt.Time
	if foundAtLastCheck(v) {
		return last.Add(reverify)
	}
	since := created
	if v.VerifiedAt != nil {
		since = v.VerifiedAt.Time
	}
	return last.Add(min(missingInterval(last.Sub(since)), reverify))
}

func missingInterval(missingFor time.Duration) time.Duration {
	switch {
	case missingFor < time.Hour:
		return time.Minute
	case missingFor < 24*time.Hour:
		return 10 * time.Minute
	default:
		return time.Hour
	}
}
