package platform

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestSiteNamespaceNames(t *testing.T) {
	cfg := Default()
	for _, c := range []struct{ account, sub, want string }{
		{"acme", "www", "acct-acme--www"},
		{"a-b", "c", "acct-a-b--c"},
		{"a", "b-c", "acct-a--b-c"},
		{"a", "b--c", "acct-a--b--c"},
		{strings.Repeat("a", MaxAccountNameLength), strings.Repeat("s", MaxSubscriptionNameLength),
			"acct-" + strings.Repeat("a", MaxAccountNameLength) + "--" + strings.Repeat("s", MaxSubscriptionNameLength)},
	} {
		got := cfg.SiteNamespace(c.account, c.sub)
		if got != c.want {
			t.Errorf("SiteNamespace(%q, %q) = %q, want %q", c.account, c.sub, got, c.want)
		}
		if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
			t.Errorf("%q is not a namespace name: %v", got, errs)
		}
	}
}

// names are account and subscription names as admission lets them through
// (DNS labels; accounts without "--"), chosen to collide if the scheme were
// a plain join: dashes at every position, and the longest names.
func names(max int, allowDoubleDash bool) []string {
	out := []string{"a", "b", "a-b", "b-c", "a-b-c", "ab", "c", "x1", "1x", "a-a", strings.Repeat("z", max), strings.Repeat("q", max-2) + "-q"}
	if allowDoubleDash {
		out = append(out, "b--c", "a--b", "a---b", strings.Repeat("w", max-3)+"--w")
	}
	return out
}

func TestSiteNamespacesNeverCollide(t *testing.T) {
	for _, prefix := range []string{"acct-", "t-", "t", "a--", "ab-cd"} {
		cfg := Config{NamespacePrefix: prefix}
		seen := map[string][2]string{}
		accounts := map[string]string{}
		for _, a := range names(MaxAccountNameLength, false) {
			accounts[cfg.AccountNamespace(a)] = a
		}
		for _, a := range names(MaxAccountNameLength, false) {
			for _, s := range names(MaxSubscriptionNameLength, true) {
				ns := cfg.SiteNamespace(a, s)
				if len(ns) > validation.DNS1123LabelMaxLength {
					t.Errorf("prefix %q: %q is %d characters", prefix, ns, len(ns))
				}
				if prev, dup := seen[ns]; dup {
					t.Errorf("prefix %q: %q is the site namespace of %v and of (%s, %s)", prefix, ns, prev, a, s)
				}
				seen[ns] = [2]string{a, s}
				if other, clash := accounts[ns]; clash {
					t.Errorf("prefix %q: site namespace %q of (%s, %s) is account %s's namespace", prefix, ns, a, s, other)
				}
			}
		}
	}
}

func TestValidPrefix(t *testing.T) {
	for p, want := range map[string]bool{
		"acct-": true, "t": true, "ab-cd": true, "a1": true,
		"": false, "accts-": false, "-a": false, "1a": false, "A": false, "a_b": false, "a.b": false,
	} {
		if got := validPrefix(p); got != want {
			t.Errorf("validPrefix(%q) = %v, want %v", p, got, want)
		}
	}
}

// An account namespace's name gives back its account; a site namespace or a
// namespace without the prefix gives none.
func TestAccountOfNamespaceName(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		namespace, account string
		ok                 bool
	}{
		{c.AccountNamespace("acme"), "acme", true},
		{c.SiteNamespace("acme", "www"), "", false},
		{c.NamespacePrefix, "", false},
		{"kube-system", "", false},
	} {
		got, ok := c.AccountOfNamespaceName(tc.namespace)
		if got != tc.account || ok != tc.ok {
			t.Errorf("AccountOfNamespaceName(%q) = %q, %v; want %q, %v", tc.namespace, got, ok, tc.account, tc.ok)
		}
	}
}
