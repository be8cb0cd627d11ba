package hostname

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCanonical checks the properties every canonical hostname has, whatever
// was typed: it is idempotent, ASCII, lowercase, within the DNS lengths, made
// of LDH labels, and itself admissible by the CRD.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"Shop.Example.COM.", "café.fr", "xn--caf-dma.fr", "*.example.com", "a..b", "例え.テスト"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonical(s)
		if err != nil {
			return
		}
		again, err := Canonical(c)
		if err != nil || again != c {
			t.Fatalf("Canonical(%q) = %q, but Canonical(%q) = %q, %v", s, c, c, again, err)
		}
		if len(c) > MaxLength || c != strings.ToLower(c) || strings.HasSuffix(c, ".") {
			t.Fatalf("Canonical(%q) = %q is not canonical", s, c)
		}
		for i := 0; i < len(c); i++ {
			if c[i] >= utf8.RuneSelf {
				t.Fatalf("Canonical(%q) = %q is not ASCII", s, c)
			}
		}
		if err := checkRFC1123(c); err != nil {
			t.Fatalf("Canonical(%q) = %q: %v", s, c, err)
		}
		if err := Admissible(c); err != nil {
			t.Fatalf("canonical %q would be refused at admission: %v", c, err)
		}
		if !IsUnder(c, c) {
			t.Fatalf("%q is not under itself", c)
		}
	})
}
