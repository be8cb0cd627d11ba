package kernel

import (
	"context"
	"errors"
	"sync"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Phase is one concern of a reconcile, run on the reconcile's scope.
type Phase[S any] func(context.Context, S) (ctrl.Result, error)

// Stopper is a scope that can say the remaining phases have nothing to do
// (for example: the namespace belongs to no account).
type Stopper interface{ Stopped() bool }

// Run runs the phases in order. It stops at the first error, or after a
// phase that stopped the scope; the earliest requeue any phase asked for wins.
func Run[S Stopper](ctx context.Context, s S, phases ...Phase[S]) (ctrl.Result, error) {
	var res ctrl.Result
	for _, phase := range phases {
		r, err := phase(ctx, s)
		res = Earliest(res, r)
		if err != nil || s.Stopped() {
			return res, err
		}
	}
	return res, nil
}

// Earliest combines two results: the earliest requeue wins.
func Earliest(a, b ctrl.Result) ctrl.Result {
	if b.RequeueAfter > 0 && (a.RequeueAfter == 0 || b.RequeueAfter < a.RequeueAfter) {
		a.RequeueAfter = b.RequeueAfter
	}
	return a
}

// Concurrently runs the steps at once and joins their errors: the writes of
// one reconcile that do not depend on each other (a site's quota, workload
// and route when it is suspended) cost one round trip to the API server,
// not one each.
func Concurrently(ctx context.Context, steps ...func(context.Context) error) error {
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = step(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
