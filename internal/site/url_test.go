package site

import (
	"testing"

	"github.com/landlord-dev/landlord/internal/platform"
)

func TestURL(t *testing.T) {
	cfg := platform.Default()
	cases := []struct {
		name  string
		https bool
		want  string
	}{
		{"HTTPS by default (the Gateway's wildcard listener)", true, "https://www--acme.sites.landlord.localhost"},
		{"plain HTTP with --default-https=false", false, "http://www--acme.sites.landlord.localhost"},
	}
	for _, tc := range cases {
		cfg.DefaultHTTPS = tc.https
		if got := URL(cfg, "www", "acme"); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if !platform.Default().DefaultHTTPS {
		t.Error("--default-https defaults to false")
	}
}
