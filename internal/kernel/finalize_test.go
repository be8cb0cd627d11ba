package kernel_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
)

// A deleting object whose cleanup is done says which finalizers of others
// hold it; with none left (only Landlord's, or none) there is nothing to write.
func TestSetDeletionStatus(t *testing.T) {
	for _, tc := range []struct {
		finalizers []string
		write      bool
	}{
		{nil, false},
		{[]string{v1.Finalizer}, false},
		{[]string{"example.com/hold"}, true},
		{[]string{v1.Finalizer, "example.com/hold", "portal.example/audit"}, true},
	} {
		m := &v1.Membership{ObjectMeta: metav1.ObjectMeta{Name: "m", Generation: 3, Finalizers: tc.finalizers}}
		if got := kernel.SetDeletionStatus(m, "its RoleBindings"); got != tc.write {
			t.Errorf("finalizers %v: write %v, want %v", tc.finalizers, got, tc.write)
		}
		c := meta.FindStatusCondition(m.Status.Conditions, v1.ConditionReady)
		if !tc.write {
			if c != nil {
				t.Errorf("finalizers %v: a condition was set: %+v", tc.finalizers, c)
			}
			continue
		}
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1.ReasonDeleting || c.ObservedGeneration != 3 ||
			!strings.Contains(c.Message, "its RoleBindings") || strings.Contains(c.Message, v1.Finalizer) {
			t.Errorf("finalizers %v: Ready %+v", tc.finalizers, c)
		}
		for _, f := range kernel.OthersFinalizers(m) {
			if !strings.Contains(c.Message, f) {
				t.Errorf("finalizers %v: the message does not name %s: %q", tc.finalizers, f, c.Message)
			}
		}
	}
}
