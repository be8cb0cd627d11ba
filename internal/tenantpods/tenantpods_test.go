package tenantpods

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"

	"github.com/landlord-dev/landlord/internal/platform"
)

func TestVariables(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*platform.Config)
		want []Variable
	}{
		{"defaults", func(*platform.Config) {}, []Variable{
			{"maxTerminationGracePeriodSeconds", "60"}, {"allowedTolerations", "[]"}, {"allowedPriorityClasses", "[]"}}},
		{"lists", func(c *platform.Config) {
			c.TenantMaxTerminationGracePeriodSeconds = 120
			c.TenantTolerations = []string{"dedicated=tenants:NoSchedule", "example.com/gpu"}
			c.TenantPriorityClasses = []string{"tenant-low"}
		}, []Variable{
			{"maxTerminationGracePeriodSeconds", "120"},
			{"allowedTolerations", `["dedicated=tenants:NoSchedule","example.com/gpu"]`},
			{"allowedPriorityClasses", `["tenant-low"]`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := platform.Default()
			tc.cfg(&cfg)
			got := Variables(cfg)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v", got)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("got %v, want %v", got[i], tc.want[i])
				}
			}
		})
	}
}

// The policy config/admission ships holds the defaults' values under the
// names the manager writes, so that it holds the defaults before the
// manager starts and a manager with default flags writes nothing.
func TestShippedPolicyHoldsTheDefaults(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config", "admission", "tenant-pods.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var policy admissionregistrationv1.ValidatingAdmissionPolicy
	// The policy is the first document.
	doc := b
	if i := bytes.Index(b, []byte("\n---\n")); i >= 0 {
		doc = b[:i]
	}
	if err := yaml.UnmarshalStrict(doc, &policy); err != nil {
		t.Fatal(err)
	}
	if policy.Name != PolicyName {
		t.Fatalf("the first object is %s", policy.Name)
	}
	if !Holds(&policy, platform.Default()) {
		t.Errorf("the shipped policy's variables %v are not the defaults' %v", policy.Spec.Variables[:3], Variables(platform.Default()))
	}
	cfg := platform.Default()
	cfg.TenantPriorityClasses = []string{"tenant-low"}
	if Holds(&policy, cfg) {
		t.Error("Holds says the shipped policy lists a priority class")
	}
}
