package site

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

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

// A site created before --legacy-hostnames-before keeps its hostname of the
// old scheme on its route, after its new one; a later site has only the new.
func TestRouteLegacyHostname(t *testing.T) {
	cutoff := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		created time.Time
		want    []string
	}{
		{"created before", cutoff.Add(-time.Hour), []string{"www--acme.sites.landlord.localhost", "www-acme.sites.landlord.localhost"}},
		{"created after", cutoff.Add(time.Hour), []string{"www--acme.sites.landlord.localhost"}},
	} {
		s := testSite(true, platform.RouteHTTPRoute)
		s.Config.LegacyHostnamesBefore = cutoff
		s.Subscription = s.Subscription.DeepCopy()
		s.Subscription.CreationTimestamp = metav1.NewTime(c.created)
		var got []string
		for _, h := range Route(s).(*gatewayv1.HTTPRoute).Spec.Hostnames {
			got = append(got, string(h))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: hostnames %v, want %v", c.name, got, c.want)
		}
	}
}
