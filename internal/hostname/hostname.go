// Package hostname turns hostnames as people type them into the canonical
// form Landlord works with (lowercase, no trailing dot, internationalised
// names in punycode, RFC 1123), and mirrors the syntactic rules the
// CustomDomain CRD enforces at admission. Everything here is pure.
package hostname

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxLength is the longest hostname in presentation form without the trailing dot.
const MaxLength = 253

// MaxLabelLength is the longest DNS label.
const MaxLabelLength = 63

// profile is a strict IDNA2008 (UTS #46, non-transitional) lookup profile:
// it maps case, width and Unicode normalisation, allows only letters, digits
// and hyphens (STD3), checks hyphens, joiners and the Bidi rule, and verifies
// the DNS lengths of the ASCII result.
var profile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.VerifyDNSLength(true),
	idna.StrictDomainName(true),
	idna.CheckHyphens(true),
	idna.CheckJoiners(true),
)

var ldhLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// Canonical returns the canonical form of a hostname typed by a person:
// "Shop.Example.COM." → "shop.example.com", "café.fr" → "xn--caf-dma.fr".
// It refuses wildcards, IP addresses, single-label names and anything that is
// not a valid RFC 1123 hostname once converted to ASCII.
func Canonical(raw string) (string, error) {
	s := strings.TrimSuffix(raw, ".")
	switch {
	case !utf8.ValidString(s):
		return "", errors.New("hostname is not valid UTF-8")
	case s == "":
		return "", errors.New("hostname is empty")
	case strings.Contains(s, "*"):
		return "", errors.New("wildcard hostnames are not supported")
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return "", errors.New("an IP address is not a hostname")
	}
	ascii, err := profile.ToASCII(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid internationalised hostname: %w", raw, err)
	}
	if err := checkRFC1123(ascii); err != nil {
		return "", err
	}
	// The ASCII form must itself be valid (its punycode decodes to a valid
	// label), so that the canonical form is a fixed point.
	if again, err := profile.ToASCII(ascii); err != nil || again != ascii {
		return "", fmt.Errorf("%q does not have a stable ASCII form", raw)
	}
	return ascii, nil
}

// checkRFC1123 checks an ASCII hostname: at most 253 characters, at least two
// labels of 1 to 63 letters, digits and inner hyphens, lowercase, and a
// top-level label that is not all digits.
func checkRFC1123(h string) error {
	if len(h) > MaxLength {
		return fmt.Errorf("hostname is %d characters long in DNS form; the maximum is %d", len(h), MaxLength)
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return fmt.Errorf("hostname %q must be fully qualified, like shop.example.com", h)
	}
	for _, l := range labels {
		if len(l) > MaxLabelLength {
			return fmt.Errorf("label %q is longer than %d characters", l, MaxLabelLength)
		}
		if !ldhLabel.MatchString(l) {
			return fmt.Errorf("label %q of %q is not a valid DNS label", l, h)
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return fmt.Errorf("the top-level label of %q must not be all digits", h)
	}
	return nil
}

// IsUnder reports whether the canonical hostname h is domain or one of its
// subdomains. domain is canonicalised first; an invalid domain matches nothing.
func IsUnder(h, domain string) bool {
	d, err := Canonical(domain)
	if err != nil {
		d = strings.ToLower(strings.TrimSuffix(domain, "."))
		if d == "" {
			return false
		}
	}
	return h == d || strings.HasSuffix(h, "."+d)
}

// Unicode returns the display (Unicode) form of a canonical hostname, or h
// itself when it cannot be decoded.
func Unicode(h string) string {
	u, err := idna.Display.ToUnicode(h)
	if err != nil {
		return h
	}
	return u
}

// The CRD's admission rules on spec.hostname (see api/v1alpha1/customdomain_types.go).
// CEL's matches() is RE2, as Go's regexp is, so the same expressions apply.
var (
	admitSpace   = regexp.MustCompile(`[[:space:]]`)
	admitURL     = regexp.MustCompile(`[/:@?#]`)
	admitTwoPart = regexp.MustCompile(`^[^.]+[.][^.]+`)
	admitChars   = regexp.MustCompile(`^[\p{L}\p{M}\p{N}.-]+$`)
)

// Admissible mirrors, in Go, the syntactic rules the API server applies to
// CustomDomain spec.hostname at admission, in the CRD's order, with its
// messages. It returns nil for what the API server accepts. A differential
// test runs a corpus through both and asserts they agree.
func Admissible(s string) error {
	n := utf8.RuneCountInString(s)
	switch {
	case n < 1:
		return errors.New("spec.hostname: Invalid value: should be at least 1 chars long")
	case n > MaxLength:
		return errors.New("spec.hostname: Too long: may not be more than 253 bytes")
	case strings.Contains(s, "*"):
		return errors.New("wildcard hostnames are not supported; add each hostname separately")
	case admitSpace.MatchString(s):
		return errors.New("hostname must not contain spaces")
	case admitURL.MatchString(s):
		return errors.New("hostname must be a bare hostname, not a URL (no scheme, port, path or '@')")
	case strings.HasPrefix(s, ".") || strings.Contains(s, ".."):
		return errors.New("hostname must not contain empty labels (a leading dot or '..')")
	}
	for _, l := range strings.Split(s, ".") {
		if utf8.RuneCountInString(l) > MaxLabelLength {
			return errors.New("each label of the hostname must be at most 63 characters")
		}
	}
	for _, l := range strings.Split(s, ".") {
		if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return errors.New("hostname labels must not start or end with '-'")
		}
	}
	if !admitTwoPart.MatchString(s) {
		return errors.New("hostname must be fully qualified, like shop.example.com")
	}
	if !admitChars.MatchString(s) {
		return errors.New("hostname may contain only letters, digits, '-' and '.'")
	}
	return nil
}
