package admission_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/landlord-dev/landlord/internal/lifecycle"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// The lifecycle-facts policy names Landlord as config/rbac/manager and
// config/manager deploy it, and as the test harness, make run-local and the
// benchmark run it (platform.ManagerGroup), and guards every fact
// internal/lifecycle records.
func TestLifecycleFactsPolicyNamesLandlord(t *testing.T) {
	sa, err := testenv.ReadObjects(filepath.Join(env.Root, "config", "rbac", "manager", "service_account.yaml"))
	if err != nil || len(sa) != 1 {
		t.Fatalf("reading the manager's ServiceAccount: %v", err)
	}
	if got := "system:serviceaccount:" + sa[0].GetNamespace() + ":" + sa[0].GetName(); got != platform.ManagerServiceAccountUser {
		t.Errorf("config/rbac/manager deploys %s, platform.ManagerServiceAccountUser is %s", got, platform.ManagerServiceAccountUser)
	}
	objs, err := testenv.ReadObjects(filepath.Join(env.Root, "config", "manager", "manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			found = true
			name, _, _ := unstructured.NestedString(o.Object, "spec", "template", "spec", "serviceAccountName")
			if name != sa[0].GetName() || o.GetNamespace() != sa[0].GetNamespace() {
				t.Errorf("the manager Deployment runs as %s/%s, not %s/%s", o.GetNamespace(), name, sa[0].GetNamespace(), sa[0].GetName())
			}
		}
	}
	if !found {
		t.Error("no manager Deployment in config/manager")
	}
	policy, err := os.ReadFile(filepath.Join(env.Root, "config", "admission", "subscription-lifecycle-facts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"'" + platform.ManagerServiceAccountUser + "'", "'" + platform.ManagerGroup + "'",
		"'" + lifecycle.CancelledAtAnnotation + "'", "'" + lifecycle.TerminatedAtAnnotation + "'"} {
		if !strings.Contains(string(policy), want) {
			t.Errorf("subscription-lifecycle-facts.yaml does not name %s", want)
		}
	}
}
