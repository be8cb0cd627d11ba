package kernel

import (
	"reflect"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Landlord's own writes reach its cache a moment later, through the watch.
// A reconcile that runs in between (woken by another event: its own
// finalizer patch, a child's event) would compute from the object as it was
// before the write and write the same status, annotation or child again —
// the duplicate writes and repeated Events measured by `make bench`. So the
// kernel remembers, per object, the resourceVersions its writes replaced:
// while the cache still shows one of them, the cache is behind Landlord's
// own write, and the watch event of that write brings the object back once
// the cache has it (the expectations of kube-controller-manager's
// controllers, by resourceVersion).

// ownWriteTTL bounds how long a write is remembered: the cache normally
// shows it within a second; after this the record is dropped whatever
// happened (a lost record only costs a duplicate write).
const ownWriteTTL = 2 * time.Minute

type ownKey struct {
	kind      reflect.Type
	namespace string
	name      string
}

type ownWrite struct {
	uid types.UID
	// replaced are the resourceVersions Landlord's writes moved the object
	// past; rv is the one the last write returned.
	replaced map[string]bool
	rv       string
	// hash is the applied hash of the last apply (children), and applied
	// the object the API server returned for it.
	hash    string
	applied client.Object
	at      time.Time
}

var ownWrites = struct {
	sync.Mutex
	m         map[ownKey]*ownWrite
	lastSweep time.Time
}{m: map[ownKey]*ownWrite{}}

func keyOf(obj client.Object) ownKey {
	return ownKey{kind: reflect.TypeOf(obj), namespace: obj.GetNamespace(), name: obj.GetName()}
}

// Wrote records that a write of Landlord's moved obj (as the API server
// returned it) from resourceVersion before. A write that changed nothing
// (the same resourceVersion) is not recorded: no watch event follows it.
func Wrote(obj client.Object, before string) {
	rv := obj.GetResourceVersion()
	if rv == "" || rv == before {
		return
	}
	now := time.Now()
	ownWrites.Lock()
	defer ownWrites.Unlock()
	sweepLocked(now)
	k := keyOf(obj)
	w := ownWrites.m[k]
	if w == nil || w.uid != obj.GetUID() || now.Sub(w.at) > ownWriteTTL {
		w = &ownWrite{uid: obj.GetUID(), replaced: map[string]bool{}}
		ownWrites.m[k] = w
	}
	if before != "" {
		w.replaced[before] = true
	}
	w.rv, w.at = rv, now
}

// Behind reports whether obj, as read from the cache, predates a write
// Landlord made to it: its resourceVersion is one that write replaced. The
// caller then does nothing; the write's watch event brings the object back.
// Once the cache shows a newer object the record is forgotten.
func Behind(obj client.Object) bool {
	ownWrites.Lock()
	defer ownWrites.Unlock()
	k := keyOf(obj)
	w := ownWrites.m[k]
	if w == nil {
		return false
	}
	if w.uid == obj.GetUID() && w.replaced[obj.GetResourceVersion()] && time.Since(w.at) <= ownWriteTTL {
		return true
	}
	delete(ownWrites.m, k)
	return false
}

// appliedAlready returns what Landlord's last apply of live's object
// returned when live (read from the cache) is the object that apply
// replaced and the apply's hash is hash: the API server holds that apply
// already and the cache has not caught up. An absent object is never
// answered for: it may have been deleted since.
func appliedAlready(live client.Object, hash string) client.Object {
	ownWrites.Lock()
	defer ownWrites.Unlock()
	k := keyOf(live)
	w := ownWrites.m[k]
	if w == nil {
		return nil
	}
	if w.uid == live.GetUID() && w.hash == hash && w.applied != nil && w.replaced[live.GetResourceVersion()] &&
		time.Since(w.at) <= ownWriteTTL {
		return w.applied.DeepCopyObject().(client.Object)
	}
	delete(ownWrites.m, k)
	return nil
}

// applied records an apply that moved the object from live's
// resourceVersion to result's (result typed like live, for keyOf).
func applied(live, result client.Object, hash string) {
	before := live.GetResourceVersion()
	if before == "" || result.GetResourceVersion() == before {
		return
	}
	now := time.Now()
	ownWrites.Lock()
	defer ownWrites.Unlock()
	sweepLocked(now)
	ownWrites.m[keyOf(live)] = &ownWrite{
		uid: result.GetUID(), replaced: map[string]bool{before: true}, rv: result.GetResourceVersion(),
		hash: hash, applied: result, at: now,
	}
}

// sweepLocked drops expired records, at most once a minute.
func sweepLocked(now time.Time) {
	if now.Sub(ownWrites.lastSweep) < time.Minute {
		return
	}
	ownWrites.lastSweep = now
	for k, w := range ownWrites.m {
		if now.Sub(w.at) > ownWriteTTL {
			delete(ownWrites.m, k)
		}
	}
}

// CatchUp is the result of a reconcile that found its object Behind: the
// write's watch event normally comes first; the requeue only guarantees a
// next look if it does not.
func CatchUp() ctrl.Result { return ctrl.Result{RequeueAfter: time.Second} }
