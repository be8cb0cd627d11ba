package platform

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Pairs that shared one hostname under the old scheme,
// <subscription>-<account>, get different ones.
func TestDefaultHostnamesOfOnceCollidingPairs(t *testing.T) {
	cfg := Default()
	for _, c := range []struct {
		sub1, acct1, sub2, acct2 string
		want1, want2             string
	}{
		{"a-b", "rtx", "a", "b-rtx", "a-b--rtx.sites.landlord.localhost", "a--b-rtx.sites.landlord.localhost"},
		{"www", "hooli-eu", "www-hooli", "eu", "www--hooli-eu.sites.landlord.localhost", "www-hooli--eu.sites.landlord.localhost"},
		{"shop-x", "y", "shop", "x-y", "shop-x--y.sites.landlord.localhost", "shop--x-y.sites.landlord.localhost"},
		// A subscription may contain "--" (an account may not).
		{"a--b", "c", "a", "b-c", "a--b--c.sites.landlord.localhost", "a--b-c.sites.landlord.localhost"},
	} {
		h1, h2 := cfg.DefaultHostname(c.sub1, c.acct1), cfg.DefaultHostname(c.sub2, c.acct2)
		if h1 != c.want1 || h2 != c.want2 {
			t.Errorf("(%s, %s), (%s, %s): %s and %s, want %s and %s", c.sub1, c.acct1, c.sub2, c.acct2, h1, h2, c.want1, c.want2)
		}
		if h1 == h2 {
			t.Errorf("(%s, %s) and (%s, %s) share %s", c.sub1, c.acct1, c.sub2, c.acct2, h1)
		}
	}
}

func TestDefaultHostnamesNeverCollide(t *testing.T) {
	cfg := Config{BaseDomain: "sites.example."}
	seen := map[string][2]string{}
	for _, a := range names(MaxAccountNameLength, false) {
		for _, s := range names(MaxSubscriptionNameLength, true) {
			h := cfg.DefaultHostname(s, a)
			label, _, _ := strings.Cut(h, ".")
			if errs := validation.IsDNS1123Label(label); len(errs) > 0 {
				t.Errorf("(%s, %s): %q is not a DNS label: %v", s, a, label, errs)
			}
			if prev, dup := seen[h]; dup {
				t.Errorf("%s is the hostname of %v and of (%s, %s)", h, prev, s, a)
			}
			seen[h] = [2]string{s, a}
			if gotS, gotA := splitHostnameLabel(label); gotS != s || gotA != a {
				t.Errorf("%s splits into (%s, %s), want (%s, %s)", label, gotS, gotA, s, a)
			}
		}
	}
}

// splitHostnameLabel is the inverse of the default hostname's first label:
// the account is what follows the last separator. That it exists for every
// pair admission lets through is why no two pairs share a hostname.
func splitHostnameLabel(label string) (subscription, account string) {
	i := strings.LastIndex(label, HostnameSeparator)
	if i < 0 {
		return "", ""
	}
	return label[:i], label[i+len(HostnameSeparator):]
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validAccount and validSubscription are the names the CRDs' CEL rules admit.
func validAccount(s string) bool {
	return len(s) <= MaxAccountNameLength && dnsLabel.MatchString(s) && !strings.Contains(s, "--")
}

func validSubscription(s string) bool {
	return len(s) <= MaxSubscriptionNameLength && dnsLabel.MatchString(s)
}

// fuzzName maps bytes to a name over a small alphabet, so that dashes (and
// so the near-collisions) are common.
func fuzzName(b []byte) string {
	const alphabet = "ab-"
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(out)
}

// Two admitted pairs with one default hostname are the same pair.
func FuzzDefaultHostnameInjective(f *testing.F) {
	f.Add([]byte("a-b"), []byte("rtx"), []byte("a"), []byte("b-rtx"))
	f.Add([]byte{0, 2, 2, 1}, []byte{0}, []byte{0}, []byte{2, 1, 2, 0})
	f.Add([]byte{0, 2, 1}, []byte{0, 2, 1}, []byte{0, 2, 1, 2, 0}, []byte{1})
	cfg := Default()
	f.Fuzz(func(t *testing.T, s1, a1, s2, a2 []byte) {
		sub1, acct1, sub2, acct2 := fuzzName(s1), fuzzName(a1), fuzzName(s2), fuzzName(a2)
		if !validSubscription(sub1) || !validSubscription(sub2) || !validAccount(acct1) || !validAccount(acct2) {
			return
		}
		if cfg.DefaultHostname(sub1, acct1) == cfg.DefaultHostname(sub2, acct2) && (sub1 != sub2 || acct1 != acct2) {
			t.Errorf("(%s, %s) and (%s, %s) share %s", sub1, acct1, sub2, acct2, cfg.DefaultHostname(sub1, acct1))
		}
	})
}

func TestLegacyHostname(t *testing.T) {
	cutoff := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	before, after := cutoff.Add(-time.Hour), cutoff.Add(time.Hour)
	on := Default()
	on.LegacyHostnamesBefore = cutoff
	for _, c := range []struct {
		name      string
		cfg       Config
		sub, acct string
		created   time.Time
		want      string
	}{
		{"off by default", Default(), "www", "acme", before, ""},
		{"a site created before the cutoff keeps its old name", on, "www", "acme", before, "www-acme.sites.landlord.localhost"},
		{"a site created after it has none", on, "www", "acme", after, ""},
		{"created at the cutoff has none", on, "www", "acme", cutoff, ""},
		// a--b-c is the new name of site a of account b-c.
		{"an old name with -- could be a new name: none", on, "a--b", "c", before, ""},
	} {
		if got := c.cfg.LegacyHostname(c.sub, c.acct, c.created); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// No legacy name ever equals a default hostname of the new scheme.
	for _, a := range names(MaxAccountNameLength, false) {
		for _, s := range names(MaxSubscriptionNameLength, true) {
			legacy := on.LegacyHostname(s, a, before)
			if legacy == "" {
				continue
			}
			label, _, _ := strings.Cut(legacy, ".")
			if strings.Contains(label, HostnameSeparator) {
				t.Errorf("legacy name %s of (%s, %s) has the new scheme's separator", legacy, s, a)
			}
		}
	}
}
