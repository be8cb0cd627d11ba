package manager

import (
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// siteChildren are n tenants' site objects as the API server sends them
// (protobuf), each tenant's with the labels, owner and hash annotation
// Landlord gives its site's children.
func siteChildren(tenants, perTenant int) [][]byte {
	var raw [][]byte
	for i := range tenants {
		account := fmt.Sprintf("acct-%05d", i)
		for j := range perTenant {
			o := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("child-%d", j), Namespace: account + "-www",
				UID:             types.UID(fmt.Sprintf("0b1c2d3e-4f50-6172-8394-%012d", i*100+j)),
				ResourceVersion: fmt.Sprint(100000 + i*100 + j),
				Labels:          platform.SiteLabels(account, "www"),
				Annotations:     map[string]string{hostingv1alpha1.AppliedAnnotation: fmt.Sprintf("%064x", i*100+j)},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: hostingv1alpha1.GroupVersion.String(), Kind: "Subscription",
					Name: "www", UID: types.UID(fmt.Sprintf("aaaaaaaa-4f50-6172-8394-%012d", i))}},
			}}
			b, err := o.Marshal()
			if err != nil {
				panic(err)
			}
			raw = append(raw, b)
		}
	}
	return raw
}

// BenchmarkCachedObjectHeap reports the heap each cached object keeps
// (retained-B/object), decoded as the informer gets it and after
// CacheTransform: go test -run '^$' -bench CachedObjectHeap ./internal/manager
func BenchmarkCachedObjectHeap(b *testing.B) {
	raw := siteChildren(1000, 10)
	for _, tc := range []struct {
		name      string
		transform bool
	}{{"decoded", false}, {"cached", true}} {
		b.Run(tc.name, func(b *testing.B) {
			var retained float64
			for b.Loop() {
				metaStrings = interner{}
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				keep := make([]*corev1.LimitRange, len(raw))
				for i, r := range raw {
					o := &corev1.LimitRange{}
					if err := o.Unmarshal(r); err != nil {
						b.Fatal(err)
					}
					if tc.transform {
						if _, err := CacheTransform(o); err != nil {
							b.Fatal(err)
						}
					}
					keep[i] = o
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				retained = float64(after.HeapAlloc-before.HeapAlloc) / float64(len(raw))
				runtime.KeepAlive(keep)
			}
			b.ReportMetric(retained, "retained-B/object")
		})
	}
}
