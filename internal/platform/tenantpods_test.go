package platform

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestParseTolerations(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"dedicated", []string{"dedicated"}, ""},
		{" dedicated=tenants:NoSchedule , example.com/gpu:NoExecute,dedicated=tenants:NoSchedule",
			[]string{"dedicated=tenants:NoSchedule", "example.com/gpu:NoExecute"}, ""},
		{"dedicated=", []string{"dedicated="}, ""},
		{"=tenants", nil, "is not a valid taint key"},
		{":NoSchedule", nil, "is not a valid taint key"},
		{"dedicated:Never", nil, `the effect "Never" is not one of`},
		{"dedicated=a b", nil, "is not a valid taint value"},
		{"a'b", nil, "is not a valid taint key"},
	} {
		got, err := ParseTolerations(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: want an error saying %q, got %v, %v", tc.in, tc.wantErr, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePriorityClasses(t *testing.T) {
	got, err := ParsePriorityClasses("tenant-low, tenant-high,tenant-low,")
	if err != nil || !slices.Equal(got, []string{"tenant-low", "tenant-high"}) {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := ParsePriorityClasses("Tenant_Low"); err == nil || !strings.Contains(err.Error(), "is not a PriorityClass name") {
		t.Errorf("an invalid name: %v", err)
	}
}

// The flags reach the configuration; a grace bound below what Kubernetes
// gives a pod that sets none is refused.
func TestTenantPodFlags(t *testing.T) {
	c := Default()
	if c.TenantMaxTerminationGracePeriodSeconds != 60 || c.TenantTolerations != nil || c.TenantPriorityClasses != nil {
		t.Fatalf("defaults: %d %q %q", c.TenantMaxTerminationGracePeriodSeconds, c.TenantTolerations, c.TenantPriorityClasses)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.BindFlags(fs)
	if err := fs.Parse([]string{"--tenant-max-termination-grace-period-seconds=120",
		"--tenant-tolerations=dedicated=tenants:NoSchedule", "--tenant-priority-classes=tenant-low"}); err != nil {
		t.Fatal(err)
	}
	if c.TenantMaxTerminationGracePeriodSeconds != 120 || !slices.Equal(c.TenantTolerations, []string{"dedicated=tenants:NoSchedule"}) ||
		!slices.Equal(c.TenantPriorityClasses, []string{"tenant-low"}) {
		t.Errorf("got %d %q %q", c.TenantMaxTerminationGracePeriodSeconds, c.TenantTolerations, c.TenantPriorityClasses)
	}
	for _, bad := range []string{"10", "sixty", "60s"} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		c := Default()
		c.BindFlags(fs)
		if err := fs.Parse([]string{"--tenant-max-termination-grace-period-seconds=" + bad}); err == nil {
			t.Errorf("--tenant-max-termination-grace-period-seconds=%s accepted", bad)
		}
	}
}
