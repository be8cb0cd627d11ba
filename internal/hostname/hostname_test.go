package hostname

import (
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	cases := []struct {
		in, want string // want "" means refused
	}{
		{"shop.example.com", "shop.example.com"},
		{"Shop.Example.COM.", "shop.example.com"},
		{"example.com", "example.com"},
		{"EXAMPLE.COM.", "example.com"},
		{"café.fr", "xn--caf-dma.fr"},
		{"CAFÉ.fr", "xn--caf-dma.fr"},
		{"cafe\u0301.fr", "xn--caf-dma.fr"}, // decomposed é, NFC-normalised
		{"xn--caf-dma.fr", "xn--caf-dma.fr"},
		{"XN--CAF-DMA.FR.", "xn--caf-dma.fr"},
		{"ｓｈｏｐ.example.com", "shop.example.com"}, // full-width letters
		{"bücher.example", "xn--bcher-kva.example"},
		{"faß.de", "xn--fa-hia.de"}, // non-transitional: ß kept
		{"münchen.de", "xn--mnchen-3ya.de"},
		{"例え.テスト", "xn--r8jz45g.xn--zckzah"},
		{"a-b.example.com", "a-b.example.com"},
		{"123.example.com", "123.example.com"},
		{label63 + ".com", label63 + ".com"},
		{"", ""},
		{".", ""},
		{"localhost", ""},
		{"localhost.", ""},
		{"*.example.com", ""},
		{"shop..example.com", ""},
		{".example.com", ""},
		{"example.com..", ""},
		{"-shop.example.com", ""},
		{"shop-.example.com", ""},
		{"sh_op.example.com", ""},
		{"shop example.com", ""},
		{"https://example.com", ""},
		{"example.com:443", ""},
		{"1.2.3.4", ""},
		{"example.123", ""},
		{"[::1]", ""},
		{label63 + "a.com", ""},
		{strings.Repeat(label63+".", 4) + "com", ""}, // 4*64+3 > 253
		{"xn--zz.example.com", ""},                   // invalid punycode
		{"ab--cd.example.com", ""},                   // hyphens in positions 3-4 are reserved
		{"a\u200db.example.com", ""},                 // zero-width joiner out of context
		{"😀.example.com", "xn--e28h.example.com"},    // UTS #46 allows it (admission does not)
		{"exa\u00a0mple.com", ""},                    // no-break space
	}
	for _, tc := range cases {
		got, err := Canonical(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("Canonical(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestIsUnder(t *testing.T) {
	cases := []struct {
		h, domain string
		want      bool
	}{
		{"sites.landlord.example", "sites.landlord.example", true},
		{"www-acme.sites.landlord.example", "sites.landlord.example", true},
		{"www-acme.sites.landlord.example", "Sites.Landlord.Example.", true},
		{"evilsites.landlord.example", "sites.landlord.example", false},
		{"landlord.example", "sites.landlord.example", false},
		{"shop.example.com", "sites.landlord.example", false},
		{"a.sites.landlord.localhost", "sites.landlord.localhost", true},
		{"shop.example.com", "", false},
	}
	for _, tc := range cases {
		if got := IsUnder(tc.h, tc.domain); got != tc.want {
			t.Errorf("IsUnder(%q, %q) = %v, want %v", tc.h, tc.domain, got, tc.want)
		}
	}
}

func TestUnicode(t *testing.T) {
	if got := Unicode("xn--caf-dma.fr"); got != "café.fr" {
		t.Errorf("Unicode = %q", got)
	}
}

func TestAdmissible(t *testing.T) {
	cases := []struct {
		in   string
		want string // substring of the error, "" = admitted
	}{
		{"shop.example.com", ""},
		{"Shop.Example.com.", ""},
		{"café.fr", ""},
		{"*.example.com", "wildcard"},
		{"my shop.example.com", "spaces"},
		{"https://shop.example.com/", "URL"},
		{"shop..example.com", "empty labels"},
		{".example.com", "empty labels"},
		{strings.Repeat("a", 64) + ".example.com", "at most 63"},
		{"-shop.example.com", "start or end with '-'"},
		{"localhost", "fully qualified"},
		{"my_shop.example.com", "only letters"},
		{"", "at least 1"},
		{strings.Repeat("a.", 127), "Too long"},
	}
	for _, tc := range cases {
		err := Admissible(tc.in)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Admissible(%q) = %v, want admitted", tc.in, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Admissible(%q) = %v, want an error saying %q", tc.in, err, tc.want)
		}
	}
}
