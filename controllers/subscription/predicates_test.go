package subscription

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/landlord-dev/landlord/internal/kernel"
)

// A quota cached as a digest has no spec.hard to compare: a hand edit of
// its limits shows as a new digest, and must wake the site.
func TestQuotaHardChangedSeesTheDigest(t *testing.T) {
	quota := func(digest, used string) *corev1.ResourceQuota {
		return &corev1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{kernel.DigestAnnotation: digest}},
			Status:     corev1.ResourceQuotaStatus{Used: corev1.ResourceList{corev1.ResourcePods: resource.MustParse(used)}},
		}
	}
	p := quotaHardChanged()
	if !p.Update(event.UpdateEvent{ObjectOld: quota("a", "1"), ObjectNew: quota("b", "1")}) {
		t.Error("a new digest (the limits changed) did not pass")
	}
	if p.Update(event.UpdateEvent{ObjectOld: quota("a", "1"), ObjectNew: quota("a", "2")}) {
		t.Error("a change of usage alone passed")
	}
}
