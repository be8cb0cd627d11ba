package kernel

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
)

// Object is a Landlord kind the kernel reconciles: it has conditions and an
// observedGeneration (api/v1alpha1/status_funcs.go).
type Object interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
	SetObservedGeneration(int64)
}

// maxMessage bounds the error text put into a condition: enough to act on,
// short enough for `kubectl get -o wide` and a portal.
const maxMessage = 512

// Patcher writes an object's status once per reconcile, against the object
// as it was read (Cluster API's util/patch, for status only: Landlord never
// writes a spec a user owns).
type Patcher struct {
	c      client.Client
	before Object
}

// NewPatcher snapshots obj as read at the start of the reconcile.
func NewPatcher(c client.Client, obj Object) *Patcher {
	return &Patcher{c: c, before: obj.DeepCopyObject().(Object)}
}

// Before is the object as it was read.
func (p *Patcher) Before() Object { return p.before }

// Patch records the generation the status describes and, when the reconcile
// failed (reconcileErr), sets Ready=False with the error's reason and
// message; then it patches the status if it differs from what was read.
// Conflicts are not reported on the object: they only mean the object moved
// on, and the reconcile is retried at once with the newer one.
//
// A paused object (PausedAnnotation) gets one write, the Paused condition,
// and then none until the annotation goes; what the reconcile computed is
// dropped.
func (p *Patcher) Patch(ctx context.Context, obj Object, reconcileErr error) (wrote bool, err error) {
	if Paused(obj) {
		restoreStatus(obj, p.before)
		if meta.IsStatusConditionTrue(obj.GetConditions(), v1.ConditionPaused) {
			return false, nil
		}
		setPaused(obj, true)
	} else {
		obj.SetObservedGeneration(obj.GetGeneration())
		setPaused(obj, false)
		if reconcileErr != nil && !apierrors.IsConflict(reconcileErr) {
			reason, msg := Explain(reconcileErr)
			SetCondition(obj, v1.ConditionReady, false, reason, msg)
		}
	}
	if equality.Semantic.DeepEqual(statusOf(p.before), statusOf(obj)) {
		return false, nil
	}
	// The patch carries the status only, whatever else moved meanwhile.
	base := obj.DeepCopyObject().(Object)
	restoreStatus(base, p.before)
	rv := obj.GetResourceVersion()
	if err := p.c.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("patching the status of %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	Wrote(obj, rv)
	return true, nil
}

// statusOf is the object's status, whatever its kind.
func statusOf(obj Object) any {
	switch o := obj.(type) {
	case *v1.Account:
		return o.Status
	case *v1.Membership:
		return o.Status
	case *v1.Subscription:
		return o.Status
	case *v1.CustomDomain:
		return o.Status
	case *v1.Team:
		return o.Status
	case *v1.Database:
		return o.Status
	}
	panic(fmt.Sprintf("kernel: %T has no known status", obj))
}

// SetCondition sets one condition, at the object's generation.
func SetCondition(obj Object, typ string, ok bool, reason, msg string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	conds := obj.GetConditions()
	meta.SetStatusCondition(&conds, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conds)
}

// Failure is an error with the condition reason it is reported under.
type Failure struct {
	Reason string
	Err    error
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// Fail wraps err with a condition reason.
func Fail(reason string, err error) error { return &Failure{Reason: reason, Err: err} }

// Explain is the reason and message Ready reports for a failed reconcile.
func Explain(err error) (reason, message string) {
	reason = v1.ReasonReconcileError
	var f *Failure
	if errors.As(err, &f) {
		reason = f.Reason
	}
	return reason, shorten(err.Error(), maxMessage)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-3]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}

// Paused reports whether obj carries the paused annotation.
func Paused(obj client.Object) bool {
	return obj.GetAnnotations()[v1.PausedAnnotation] == "true"
}

// setPaused sets the Paused condition (and, while paused, Ready=False),
// which is all Landlord writes to a paused object.
func setPaused(obj Object, paused bool) {
	if !paused {
		if meta.FindStatusCondition(obj.GetConditions(), v1.ConditionPaused) != nil {
			SetCondition(obj, v1.ConditionPaused, false, v1.ReasonNotPaused, "")
		}
		return
	}
	msg := fmt.Sprintf("the annotation %s is \"true\": Landlord writes nothing to this object or its children until it is removed", v1.PausedAnnotation)
	SetCondition(obj, v1.ConditionPaused, true, v1.ReasonPaused, msg)
	SetCondition(obj, v1.ConditionReady, false, v1.ReasonPaused, msg)
}

// EnsureFinalizer adds Landlord's finalizer, with an optimistic lock so that
// a finalizer another controller added meanwhile is never dropped.
func EnsureFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	if controllerutil.ContainsFinalizer(obj, v1.Finalizer) {
		return nil
	}
	return patchFinalizers(ctx, c, obj, func() { controllerutil.AddFinalizer(obj, v1.Finalizer) }, "adding")
}

// RemoveFinalizer removes Landlord's finalizer, with an optimistic lock.
func RemoveFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	if !controllerutil.ContainsFinalizer(obj, v1.Finalizer) {
		return nil
	}
	return patchFinalizers(ctx, c, obj, func() { controllerutil.RemoveFinalizer(obj, v1.Finalizer) }, "removing")
}

func patchFinalizers(ctx context.Context, c client.Client, obj client.Object, change func(), verb string) error {
	// The status the caller computed so far must survive the patch response.
	kept := obj.DeepCopyObject().(client.Object)
	base := obj.DeepCopyObject().(client.Object)
	change()
	rv := obj.GetResourceVersion()
	if err := c.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsNotFound(err) && verb == "removing" {
			return nil
		}
		return fmt.Errorf("%s the finalizer of %s: %w", verb, client.ObjectKeyFromObject(obj), err)
	}
	Wrote(obj, rv)
	restoreStatus(obj, kept)
	return nil
}

// restoreStatus puts back the status kept, after a metadata patch replaced
// obj with the server's copy.
func restoreStatus(obj, kept client.Object) {
	switch o := obj.(type) {
	case *v1.Account:
		o.Status = kept.(*v1.Account).Status
	case *v1.Membership:
		o.Status = kept.(*v1.Membership).Status
	case *v1.Subscription:
		o.Status = kept.(*v1.Subscription).Status
	case *v1.CustomDomain:
		o.Status = kept.(*v1.CustomDomain).Status
	case *v1.Team:
		o.Status = kept.(*v1.Team).Status
	case *v1.Database:
		o.Status = kept.(*v1.Database).Status
	}
}
