package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/platform"
)

// landlordResult are the figures of the Landlord side.
type landlordResult struct {
	seconds         float64
	writes          int
	writesBy        map[string]int
	idleWrites      int
	idleBy          map[string]int
	restartWrites   int
	restartBy       map[string]int
	rssMiB, heapMiB float64
	burstSuspended  float64
	burstScaled     float64
	burstWrites     int
	burstBy         map[string]int
	// burstDeadline* are the writes from the shared deadline on: the
	// suspensions (the burst's writes before it take the sites PastDue).
	burstDeadlineWrites int
	burstDeadlineBy     map[string]int
	// burstCPU: each process's CPU seconds from the deadline until all
	// were Suspended.
	burstCPU map[string]float64
}

type landlordRun struct {
	cl         *cluster
	n, writers int
	opts       options
	dns        *dnstest.Server
	kubeconfig string
	log        *os.File
	tenants    []*tenant
	// deadlineWrites, deadlineBy: the audit log's count at the burst's deadline.
	deadlineWrites int
	deadlineBy     map[string]int
	// managerPid is the running manager's.
	managerPid int
}

func (r *landlordRun) startManager(ctx context.Context) (*managerProc, error) {
	m, err := startManager(ctx, r.opts.manager, r.kubeconfig, r.dns.Addr(), r.opts.managerArgs, r.log)
	if err == nil {
		r.managerPid = m.cmd.Process.Pid
	}
	return m, err
}

func runLandlord(ctx context.Context, cl *cluster, opts options) (landlordResult, error) {
	var res landlordResult
	r := &landlordRun{cl: cl, n: opts.n, writers: opts.writers, opts: opts}
	var err error
	if r.dns, err = dnstest.Start(); err != nil {
		return res, err
	}
	defer r.dns.Close()
	_, kc, err := cl.cp.AddUser(managerUser, "system:masters", platform.ManagerGroup)
	if err != nil {
		return res, err
	}
	r.kubeconfig = filepath.Join(cl.dir, "manager.kubeconfig")
	if err := os.WriteFile(r.kubeconfig, kc, 0o600); err != nil {
		return res, err
	}
	if r.log, err = openLog(filepath.Join(cl.dir, "manager.log")); err != nil {
		return res, err
	}
	defer r.log.Close()
	if err := cl.watch(ctx, &v1.Account{}, &v1.Membership{}, &v1.Subscription{}, &v1.CustomDomain{}, &appsv1.Deployment{}, &corev1.Namespace{}); err != nil {
		return res, err
	}

	mgr, err := r.startManager(ctx)
	if err != nil {
		return res, err
	}
	defer func() {
		if mgr != nil {
			mgr.kill()
		}
	}()

	// Provisioning: from the first Account to every tenant Ready.
	w0, by0 := cl.audit.writes()
	start := time.Now()
	if err := r.createTenants(ctx); err != nil {
		return res, err
	}
	if err := waitEvery(ctx, readyTimeout(r.n), 100*time.Millisecond, func() (bool, error) {
		ready, err := r.readyTenants(ctx)
		return ready >= r.n, err
	}); err != nil {
		ready, _ := r.readyTenants(ctx)
		return res, fmt.Errorf("waiting for %d tenants to be Ready (%d are): %w", r.n, ready, err)
	}
	res.seconds = time.Since(start).Seconds()
	logf("landlord: %d tenants Ready in %.1fs; waiting for the manager to settle", r.n, res.seconds)
	// Writes that trail Ready (an account's counts) still belong to provisioning.
	if err := mgr.quiet(ctx, cl.audit, 3*time.Second, 2*time.Minute); err != nil {
		logf("landlord: the manager did not settle: %v", err)
	}
	w1, by1 := cl.audit.writes()
	res.writes, res.writesBy = w1-w0, diff(by1, by0)

	// Idle: nothing changes; a manager that writes now is looping.
	logf("landlord: idle for %s", opts.idle)
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(opts.idle):
	}
	w2, by2 := cl.audit.writes()
	res.idleWrites, res.idleBy = w2-w1, diff(by2, by1)
	res.rssMiB, res.heapMiB = mgr.rssPeakMiB(), mgr.heapPeakMiB()

	// Restart with everything converged: a restarted manager re-reads the
	// world and has nothing to write.
	logf("landlord: restarting the manager")
	mgr.stop()
	mgr = nil
	if mgr, err = r.startManager(ctx); err != nil {
		return res, err
	}
	if err := mgr.quiet(ctx, cl.audit, 5*time.Second, 5*time.Minute); err != nil {
		logf("landlord: the restarted manager did not settle: %v", err)
	}
	w3, by3 := cl.audit.writes()
	res.restartWrites, res.restartBy = w3-w2, diff(by3, by2)

	if opts.skipBurst {
		logf("landlord: -skip-burst: no expiry burst")
		return res, nil
	}
	// Expiry burst.
	if err := r.burst(ctx, &res); err != nil {
		return res, err
	}
	w4, by4 := cl.audit.writes()
	res.burstWrites, res.burstBy = w4-w3, diff(by4, by3)
	res.burstDeadlineWrites, res.burstDeadlineBy = w4-r.deadlineWrites, diff(by4, r.deadlineBy)
	return res, nil
}

// createTenants creates the Accounts (publishing each domain's TXT record
// once the account's UID is known), then, as each account's namespace
// appears, its Membership, Subscription and CustomDomain — as a portal would.
func (r *landlordRun) createTenants(ctx context.Context) error {
	cfg := platform.Default()
	r.tenants = make([]*tenant, r.n)
	for i := range r.tenants {
		r.tenants[i] = newTenant(cfg, "t", i)
	}
	if err := parallel(ctx, r.n, r.writers, func(ctx context.Context, i int) error {
		t := r.tenants[i]
		if err := r.cl.c.Create(ctx, t.account); err != nil {
			return err
		}
		r.dns.SetTXT(customdomain.RecordName(t.host()), customdomain.Token(string(t.account.UID), t.host()))
		return nil
	}); err != nil {
		return err
	}
	return parallel(ctx, r.n, r.writers, func(ctx context.Context, i int) error {
		t := r.tenants[i]
		ns := &corev1.Namespace{}
		if err := waitEvery(ctx, 10*time.Minute, 50*time.Millisecond, func() (bool, error) {
			err := r.cl.cache.Get(ctx, client.ObjectKey{Name: t.subscription.Namespace}, ns)
			return err == nil, client.IgnoreNotFound(err)
		}); err != nil {
			return fmt.Errorf("waiting for namespace %s: %w", t.subscription.Namespace, err)
		}
		for _, o := range []client.Object{t.membership, t.subscription} {
			if err := r.cl.c.Create(ctx, o); err != nil {
				return err
			}
		}
		// The domain goes into the site namespace once Landlord has made it.
		if err := waitEvery(ctx, 10*time.Minute, 50*time.Millisecond, func() (bool, error) {
			err := r.cl.cache.Get(ctx, client.ObjectKey{Name: t.domain.Namespace}, ns)
			return err == nil, client.IgnoreNotFound(err)
		}); err != nil {
			return fmt.Errorf("waiting for site namespace %s: %w", t.domain.Namespace, err)
		}
		return r.cl.c.Create(ctx, t.domain)
	})
}

// readyTenants counts the tenants whose four objects are all Ready.
func (r *landlordRun) readyTenants(ctx context.Context) (int, error) {
	ready := map[string]int{}
	count := func(list client.ObjectList, conds func(i int) (string, []metav1.Condition), n int) {
		for i := range n {
			ns, c := conds(i)
			if meta.IsStatusConditionTrue(c, v1.ConditionReady) {
				ready[ns]++
			}
		}
	}
	cfg := platform.Default()
	var accts v1.AccountList
	var members v1.MembershipList
	var subs v1.SubscriptionList
	var domains v1.CustomDomainList
	for _, l := range []client.ObjectList{&accts, &members, &subs, &domains} {
		if err := r.cl.cache.List(ctx, l, client.UnsafeDisableDeepCopy); err != nil {
			return 0, err
		}
	}
	count(&accts, func(i int) (string, []metav1.Condition) {
		return cfg.AccountNamespace(accts.Items[i].Name), accts.Items[i].Status.Conditions
	}, len(accts.Items))
	count(&members, func(i int) (string, []metav1.Condition) {
		return members.Items[i].Namespace, members.Items[i].Status.Conditions
	}, len(members.Items))
	count(&subs, func(i int) (string, []metav1.Condition) {
		return subs.Items[i].Namespace, subs.Items[i].Status.Conditions
	}, len(subs.Items))
	count(&domains, func(i int) (string, []metav1.Condition) {
		// Domains live in the site namespace: count them for the account.
		account := domains.Items[i].Namespace[len(cfg.NamespacePrefix):]
		account, _, _ = strings.Cut(account, platform.SiteNamespaceSeparator)
		return cfg.AccountNamespace(account), domains.Items[i].Status.Conditions
	}, len(domains.Items))
	n := 0
	for _, c := range ready {
		if c == 4 {
			n++
		}
	}
	return n, nil
}

// burst moves every subscription's paidThrough to one hour (the plan's
// grace) before a shared deadline a little ahead, so that all of them are
// PastDue now and become Suspended at the same instant; it measures the time
// from the deadline until all are Suspended and until all sites run no pod.
func (r *landlordRun) burst(ctx context.Context, res *landlordResult) error {
	lead := 45*time.Second + time.Duration(r.n)*40*time.Millisecond
	deadline := time.Now().Add(lead).Truncate(time.Second)
	paid := metav1.NewTime(deadline.Add(-benchPlan().Spec.GracePeriod.Duration))
	logf("burst: moving %d subscriptions' deadline to %s", r.n, deadline.Format(time.TimeOnly))
	if err := parallel(ctx, r.n, r.writers, func(ctx context.Context, i int) error {
		t := r.tenants[i]
		for {
			sub := &v1.Subscription{}
			if err := r.cl.c.Get(ctx, client.ObjectKeyFromObject(t.subscription), sub); err != nil {
				return err
			}
			if sub.Annotations == nil {
				sub.Annotations = map[string]string{}
			}
			sub.Annotations[v1.PaidThroughCorrectionAnnotation] = paid.UTC().Format(time.RFC3339)
			sub.Spec.PaidThrough = paid.DeepCopy()
			err := r.cl.c.Update(ctx, sub)
			if apierrors.IsConflict(err) {
				continue
			}
			return err
		}
	}); err != nil {
		return err
	}
	if time.Now().After(deadline) {
		return fmt.Errorf("the burst's deadline passed while setting it up; raise the lead time")
	}
	phases := func() (suspended, pastDue int, err error) {
		var subs v1.SubscriptionList
		if err := r.cl.cache.List(ctx, &subs, client.UnsafeDisableDeepCopy); err != nil {
			return 0, 0, err
		}
		for _, s := range subs.Items {
			switch s.Status.Phase {
			case v1.PhaseSuspended:
				suspended++
			case v1.PhasePastDue:
				pastDue++
			}
		}
		return suspended, pastDue, nil
	}
	procs := r.cl.processCPU(r.managerPid)
	time.Sleep(time.Until(deadline))
	r.deadlineWrites, r.deadlineBy = r.cl.audit.writes()
	cpu0 := procs.sample()
	_, pastDue, err := phases()
	if err != nil {
		return err
	}
	logf("burst: at the deadline %d of %d subscriptions are PastDue", pastDue, r.n)
	suspendedAt, scaledAt := time.Duration(0), time.Duration(0)
	err = waitEvery(ctx, 10*time.Minute, 50*time.Millisecond, func() (bool, error) {
		if suspendedAt == 0 {
			s, _, err := phases()
			if err != nil {
				return false, err
			}
			if s >= r.n {
				suspendedAt = time.Since(deadline)
				res.burstCPU = procs.since(cpu0)
			}
		}
		if scaledAt == 0 {
			var deps appsv1.DeploymentList
			if err := r.cl.cache.List(ctx, &deps, client.UnsafeDisableDeepCopy); err != nil {
				return false, err
			}
			zero := 0
			for _, d := range deps.Items {
				if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 && d.Status.Replicas == 0 {
					zero++
				}
			}
			if zero >= r.n {
				scaledAt = time.Since(deadline)
			}
		}
		return suspendedAt > 0 && scaledAt > 0, nil
	})
	res.burstSuspended, res.burstScaled = suspendedAt.Seconds(), scaledAt.Seconds()
	return err
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
