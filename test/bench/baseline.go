package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// baselineResult is the physical limit: Landlord's objects written straight
// through a client.
type baselineResult struct {
	seconds float64
	writes  int64 // successful writes
	retries int64 // writes refused (quota not yet computed) and retried
}

// runBaseline writes, for n tenants, exactly what a converged Landlord
// tenant consists of (the tenant's own objects with their finalizer and
// status, and every child from Landlord's builders) with `writers`
// concurrent writers, and waits until every site's Deployment is available.
func runBaseline(ctx context.Context, cl *cluster, n, writers int) (baselineResult, error) {
	cfg := platform.Default()
	if err := cl.watch(ctx, &appsv1.Deployment{}); err != nil {
		return baselineResult{}, err
	}
	var res baselineResult
	do := func(ctx context.Context, f func() error) error {
		for {
			err := f()
			if err == nil {
				atomic.AddInt64(&res.writes, 1)
				return nil
			}
			// Quota admission refuses claims until the quota controller has
			// computed the new quota's status: the cluster's own work.
			if !apierrors.IsForbidden(err) && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
				return err
			}
			atomic.AddInt64(&res.retries, 1)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	one := func(ctx context.Context, i int) error {
		t := newTenant(cfg, "raw", i)
		c := cl.c
		for _, o := range []client.Object{t.account, t.membership, t.subscription, t.domain} {
			controllerutil.AddFinalizer(o, v1.Finalizer)
		}
		if err := do(ctx, func() error { return c.Create(ctx, t.account) }); err != nil {
			return fmt.Errorf("account: %w", err)
		}
		ws, err := children(cfg, t, benchPlan(), benchTemplate())
		if err != nil {
			return err
		}
		for _, w := range ws[:2] { // the account and site namespaces
			if err := do(ctx, func() error { return w.do(ctx, c) }); err != nil {
				return fmt.Errorf("%s: %w", w.what, err)
			}
		}
		for _, o := range []client.Object{t.membership, t.subscription, t.domain} {
			if err := do(ctx, func() error { return c.Create(ctx, o) }); err != nil {
				return fmt.Errorf("%T: %w", o, err)
			}
		}
		if ws, err = children(cfg, t, benchPlan(), benchTemplate()); err != nil { // with the UIDs
			return err
		}
		for _, w := range ws[2:] {
			if err := do(ctx, func() error { return w.do(ctx, c) }); err != nil {
				return fmt.Errorf("%s: %w", w.what, err)
			}
		}
		convergedStatuses(cfg, t, benchPlan(), time.Now())
		for _, o := range []client.Object{t.account, t.membership, t.subscription, t.domain} {
			if err := do(ctx, func() error { return c.Status().Update(ctx, o) }); err != nil {
				return fmt.Errorf("status of %T: %w", o, err)
			}
		}
		return nil
	}

	start := time.Now()
	if err := parallel(ctx, n, writers, one); err != nil {
		return res, err
	}
	if err := waitFor(ctx, readyTimeout(n), func() (bool, error) {
		ready, err := availableDeployments(ctx, cl)
		return ready >= n, err
	}); err != nil {
		return res, fmt.Errorf("waiting for the baseline's Deployments: %w", err)
	}
	res.seconds = time.Since(start).Seconds()
	return res, nil
}

func availableDeployments(ctx context.Context, cl *cluster) (int, error) {
	var list appsv1.DeploymentList
	// Read only, polled every 100 ms: no copy of every Deployment each time.
	if err := cl.cache.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list.Items {
		if d.Status.AvailableReplicas >= 1 {
			n++
		}
	}
	return n, nil
}

// parallel runs f for 0..n-1 on `workers` goroutines; the first error stops it.
func parallel(ctx context.Context, n, workers int, f func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					cancel(fmt.Errorf("tenant %d: %w", i, err))
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}

// readyTimeout bounds the wait for n tenants to converge: 30 minutes, or
// 1 s per tenant past 1,800.
func readyTimeout(n int) time.Duration {
	return max(30*time.Minute, time.Duration(n)*time.Second)
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	return waitEvery(ctx, timeout, 100*time.Millisecond, cond)
}

// waitEvery polls cond every interval until it holds or timeout passes.
func waitEvery(ctx context.Context, timeout, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
