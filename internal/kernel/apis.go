package kernel

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// APIs says which optional APIs (the Gateway API, cert-manager) the cluster
// serves now; internal/apiwatch implements it by discovery.
type APIs interface {
	// Served reports whether gvk is served now.
	Served(gvk schema.GroupVersionKind) bool
	// OnServed calls fn once gvk is served (at once, if it already is).
	OnServed(gvk schema.GroupVersionKind, fn func())
}

// Requeue is a source that enqueues every object of one kind each time it is
// fired: when an optional API appears, every object that waited for it acts
// on it without a restart.
type Requeue struct {
	ch      chan struct{}
	reader  client.Reader
	newList func() client.ObjectList
}

// NewRequeue returns a Requeue listing newList's kind from reader.
func NewRequeue(reader client.Reader, newList func() client.ObjectList) *Requeue {
	return &Requeue{ch: make(chan struct{}, 1), reader: reader, newList: newList}
}

// Fire enqueues every object (once more, if a firing is already pending).
func (q *Requeue) Fire() {
	select {
	case q.ch <- struct{}{}:
	default:
	}
}

// Source is what a controller watches (WatchesRawSource).
func (q *Requeue) Source() source.Source { return ListSource(q.ch, q.reader, q.newList) }

// ListSource is a source that enqueues every object of newList's kind (read
// from reader) each time trigger receives.
func ListSource(trigger <-chan struct{}, reader client.Reader, newList func() client.ObjectList) source.Source {
	return source.Func(func(ctx context.Context, wq workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-trigger:
					list := newList()
					if err := reader.List(ctx, list); err != nil {
						continue
					}
					_ = meta.EachListItem(list, func(o runtime.Object) error {
						if co, ok := o.(client.Object); ok {
							wq.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(co)})
						}
						return nil
					})
				}
			}
		}()
		return nil
	})
}

// Get reads key into obj; found is false when it does not exist.
func Get(ctx context.Context, c client.Reader, key client.ObjectKey, obj client.Object) (found bool, err error) {
	if err := c.Get(ctx, key, obj); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return false, nil
		}
		return false, fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	return true, nil
}

// IgnoreStatusOnly drops update events that change only an object's status
// (or its resourceVersion and managedFields), such as a ResourceQuota's
// status.used moving with every pod.
func IgnoreStatusOnly() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !equality.Semantic.DeepEqual(withoutStatus(e.ObjectOld), withoutStatus(e.ObjectNew))
	}}
}

func withoutStatus(o client.Object) map[string]any {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "resourceVersion")
		delete(md, "managedFields")
	}
	return m
}
