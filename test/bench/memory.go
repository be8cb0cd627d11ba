package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
)

// memoryResults are the figures of -mode memory: a manager started against
// an API server that already holds N converged tenants.
type memoryResults struct {
	// PopulateS is how long writing the tenants took (admin client, not
	// audited); WritesPerTenant counts its writes per tenant (objects and
	// status writes).
	PopulateS       float64 `json:"populate_s"`
	WritesPerTenant int     `json:"populate_writes_per_tenant"`
	// KubeControllers are the only kube-controller-manager controllers running.
	KubeControllers string     `json:"kube_controllers"`
	Landlord        memorySide `json:"landlord"`
	// Compare is -compare-manager's binary against the same API server,
	// started after the first manager has stopped.
	Compare        *memorySide `json:"landlord_compare,omitempty"`
	CompareManager string      `json:"compare_manager,omitempty"`
	CompareArgs    []string    `json:"compare_manager_args,omitempty"`
}

// memorySide is one manager's figures once synced and idle.
type memorySide struct {
	Manager string `json:"manager"`
	// ReadyS: process start → /readyz OK. ReconciledS: → every tenant
	// object reconciled at least once (reconciles ≥ 4 N). SyncedS: → the
	// last reconcile, write or queued item before the quiet window.
	ReadyS      float64 `json:"ready_s"`
	ReconciledS float64 `json:"reconciled_s"`
	SyncedS     float64 `json:"synced_s"`
	QuietS      float64 `json:"quiet_window_s"`
	Reconciles  float64 `json:"reconciles"`
	// Memory at the end of the quiet window: VmRSS, VmHWM (peak), the Go
	// heap in use (go_memstats_heap_inuse_bytes) then and its peak sampled
	// every 500 ms, and the heap allocated (go_memstats_heap_alloc_bytes:
	// live objects and garbage not yet collected).
	RSSMiB         float64 `json:"rss_mib"`
	HWMMiB         float64 `json:"hwm_mib"`
	HeapInuseMiB   float64 `json:"heap_inuse_mib"`
	HeapInusePeak  float64 `json:"heap_inuse_peak_mib"`
	HeapAllocMiB   float64 `json:"heap_alloc_mib"`
	RSSPer1000MiB  float64 `json:"rss_per_1000_tenants_mib"`
	HeapPer1000MiB float64 `json:"heap_inuse_per_1000_tenants_mib"`
	// With -heap-profile: the heap allocated right after a forced GC (the
	// profile's), i.e. what the manager keeps live.
	LiveHeapMiB        float64        `json:"live_heap_after_gc_mib,omitempty"`
	LiveHeapPer1000MiB float64        `json:"live_heap_per_1000_tenants_mib,omitempty"`
	Writes             int            `json:"writes"`
	WritesBy           map[string]int `json:"writes_by,omitempty"`
}

// memoryControllers: quota admission refuses a PersistentVolumeClaim until
// the quota controller has computed the quota's usage; nothing else of
// kube-controller-manager runs, so the Deployment and claim status the
// benchmark writes stays as written (no deployment, replica set or volume
// controller, no pods).
const memoryControllers = "resourcequota"

// runMemory is -mode memory: a control plane populated directly with N
// converged tenants, then each manager started, synced and idle.
func runMemory(ctx context.Context, o options, res *results) error {
	mr := &memoryResults{KubeControllers: memoryControllers}
	res.Memory = mr
	logf("memory: starting a control plane")
	cl, err := startClusterControllers(ctx, filepath.Join(o.workDir, "memory"), false, memoryControllers)
	if err != nil {
		return err
	}
	defer cl.Stop()
	_, kc, err := cl.cp.AddUser(managerUser, "system:masters", platform.ManagerGroup)
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(cl.dir, "manager.kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return err
	}
	dns, err := dnstest.Start()
	if err != nil {
		return err
	}
	defer dns.Close()
	start := time.Now()
	var written int64
	if err := parallel(ctx, o.n, o.writers, func(ctx context.Context, i int) error {
		return populateTenant(ctx, cl.c, dns, i, &written)
	}); err != nil {
		return fmt.Errorf("populating: %w (logs in %s)", err, o.workDir)
	}
	mr.PopulateS = time.Since(start).Seconds()
	mr.WritesPerTenant = int(written / int64(o.n))
	logf("memory: %d tenants written in %.1fs (%d writes)", o.n, mr.PopulateS, written)

	// withProfile adds --pprof-bind-address to a side's flags (-heap-profile).
	withProfile := func(args []string) ([]string, string, error) {
		if !o.heapProfile {
			return args, "", nil
		}
		addr, err := freeAddr()
		if err != nil {
			return nil, "", err
		}
		return append(append([]string{}, args...), "--pprof-bind-address="+addr), addr, nil
	}
	args, profile, err := withProfile(o.managerArgs)
	if err != nil {
		return err
	}
	if err := measureMemorySide(ctx, cl, o, o.manager, args, kubeconfig, dns, profile, &mr.Landlord); err != nil {
		return err
	}
	if o.compareManager != "" {
		mr.Compare, mr.CompareManager, mr.CompareArgs = &memorySide{}, o.compareManager, o.compareArgs
		if args, profile, err = withProfile(o.compareArgs); err != nil {
			return err
		}
		if err := measureMemorySide(ctx, cl, o, o.compareManager, args, kubeconfig, dns, profile, mr.Compare); err != nil {
			return err
		}
	}
	return nil
}

// populateTenant writes tenant i as converged: the tenant's objects with
// their finalizer, every child from Landlord's builders (as the baseline),
// the statuses Landlord reports, and the status the cluster's controllers
// would give the site's Deployment (available) and claim (Bound). Writes
// are counted in written (ObjectsPerTenant counts these, status writes included).
func populateTenant(ctx context.Context, c client.Client, dns *dnstest.Server, i int, written *int64) error {
	cfg := platform.Default()
	do := func(what string, f func() error) error {
		for {
			err := f()
			if err == nil {
				atomic.AddInt64(written, 1)
				return nil
			}
			// Quota admission refuses the claim until the quota controller
			// has computed the new quota's usage, and times out under load
			// (an internal error).
			if !apierrors.IsForbidden(err) && !apierrors.IsConflict(err) && !apierrors.IsInternalError(err) &&
				!apierrors.IsServerTimeout(err) && !apierrors.IsTimeout(err) && !apierrors.IsTooManyRequests(err) {
				return fmt.Errorf("%s: %w", what, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	t := newTenant(cfg, "m", i)
	for _, o := range []client.Object{t.account, t.membership, t.subscription, t.domain} {
		controllerutil.AddFinalizer(o, v1.Finalizer)
	}
	if err := do("account", func() error { return c.Create(ctx, t.account) }); err != nil {
		return err
	}
	// The TXT record a verified domain has: a manager re-checking it finds it.
	dns.SetTXT(customdomain.RecordName(t.host()), customdomain.Token(string(t.account.UID), t.host()))
	ws, err := children(cfg, t, benchPlan(), benchTemplate())
	if err != nil {
		return err
	}
	for _, w := range ws[:2] {
		if err := do(w.what, func() error { return landlordApply(ctx, c, w) }); err != nil {
			return err
		}
	}
	for _, o := range []client.Object{t.membership, t.subscription, t.domain} {
		if err := do(fmt.Sprintf("%T", o), func() error { return c.Create(ctx, o) }); err != nil {
			return err
		}
	}
	if ws, err = children(cfg, t, benchPlan(), benchTemplate()); err != nil {
		return err
	}
	for _, w := range claimFirst(ws[2:]) {
		if err := do(w.what, func() error { return landlordApply(ctx, c, w) }); err != nil {
			return err
		}
	}
	siteNS := t.domain.Namespace
	var deps appsv1.DeploymentList
	if err := c.List(ctx, &deps, client.InNamespace(siteNS)); err != nil || len(deps.Items) != 1 {
		return fmt.Errorf("the site Deployment in %s: %d found (%v)", siteNS, len(deps.Items), err)
	}
	d := &deps.Items[0]
	now := metav1.Now()
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
				Message: "Deployment has minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
				Message: fmt.Sprintf("ReplicaSet %q has successfully progressed.", d.Name+"-5d8c9b7f4"), LastUpdateTime: now, LastTransitionTime: now},
		},
	}
	if err := do("Deployment status", func() error { return c.Status().Update(ctx, d) }); err != nil {
		return err
	}
	var pvcs corev1.PersistentVolumeClaimList
	if err := c.List(ctx, &pvcs, client.InNamespace(siteNS)); err != nil || len(pvcs.Items) != 1 {
		return fmt.Errorf("the site claim in %s: %d found (%v)", siteNS, len(pvcs.Items), err)
	}
	pvc := &pvcs.Items[0]
	pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: pvc.Spec.AccessModes,
		Capacity: corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]}}
	if err := do("PersistentVolumeClaim status", func() error { return c.Status().Update(ctx, pvc) }); err != nil {
		return err
	}
	convergedStatuses(cfg, t, benchPlan(), time.Now())
	for _, o := range []client.Object{t.account, t.membership, t.subscription, t.domain} {
		if err := do(fmt.Sprintf("status of %T", o), func() error { return c.Status().Update(ctx, o) }); err != nil {
			return err
		}
	}
	return nil
}

// claimFirst is ws with the PersistentVolumeClaim first: written before the
// site's ResourceQuota exists, quota admission has nothing to check, so the
// populate does not wait for the quota controller to compute each new quota's
// usage (at thousands of tenants that wait set its pace).
func claimFirst(ws []write) []write {
	out := make([]write, 0, len(ws))
	for _, w := range ws {
		if w.what == "PersistentVolumeClaim" {
			out = append([]write{w}, out...)
		} else {
			out = append(out, w)
		}
	}
	return out
}

// landlordApply writes w as Landlord's applier does (kernel.Apply): in its
// apply form, with the applied-hash annotation, so that the manager finds
// the child unchanged.
func landlordApply(ctx context.Context, c client.Client, w write) error {
	if w.obj == nil {
		return w.do(ctx, c)
	}
	u, err := kernel.ApplyForm(c.Scheme(), w.obj)
	if err != nil {
		return err
	}
	return c.Patch(ctx, u, client.Apply, client.FieldOwner(platform.FieldManager), client.ForceOwnership)
}

// measureMemorySide starts one manager against the populated API server,
// waits until it has reconciled every tenant object and then been quiet
// (nothing queued, no reconcile, no audited write) for 10 s, reads its
// memory, and stops it.
func measureMemorySide(ctx context.Context, cl *cluster, o options, bin string, args []string, kubeconfig string, dns *dnstest.Server, pprof string, side *memorySide) error {
	const quiet = 10 * time.Second
	side.Manager, side.QuietS = bin, quiet.Seconds()
	if err := auditQuiet(ctx, cl.audit, 3*time.Second, 5*time.Minute); err != nil {
		return err
	}
	log, err := openLog(filepath.Join(cl.dir, "manager-"+filepath.Base(bin)+".log"))
	if err != nil {
		return err
	}
	defer log.Close()
	w0, by0 := cl.audit.writes()
	logf("memory: starting %s %s", bin, strings.Join(args, " "))
	start := time.Now()
	mgr, err := startManager(ctx, bin, kubeconfig, dns.Addr(), args, log)
	if err != nil {
		return err
	}
	defer mgr.stop()
	side.ReadyS = time.Since(start).Seconds()
	want := float64(4 * o.n)
	var lastWrites int
	var lastRec float64
	last := time.Now()
	if err := waitEvery(ctx, 60*time.Minute, 500*time.Millisecond, func() (bool, error) {
		mt, err := mgr.metricsText()
		if err != nil {
			return false, nil
		}
		w, _ := cl.audit.writes()
		rec := mt["controller_runtime_reconcile_total"]
		if side.ReconciledS == 0 && rec >= want {
			side.ReconciledS = time.Since(start).Seconds()
		}
		if w != lastWrites || rec != lastRec || mt["workqueue_depth"] > 0 {
			lastWrites, lastRec, last = w, rec, time.Now()
			return false, nil
		}
		return rec >= want && time.Since(last) >= quiet, nil
	}); err != nil {
		return fmt.Errorf("%s did not sync: %w (%.0f of at least %.0f reconciles)", bin, err, lastRec, want)
	}
	side.SyncedS = last.Sub(start).Seconds()
	side.Reconciles = lastRec
	pid := mgr.cmd.Process.Pid
	side.RSSMiB, side.HWMMiB = procStatusMiB(pid, "VmRSS"), procStatusMiB(pid, "VmHWM")
	mt, err := mgr.metricsText()
	if err != nil {
		return err
	}
	side.HeapInuseMiB = mt["go_memstats_heap_inuse_bytes"] / (1 << 20)
	side.HeapAllocMiB = mt["go_memstats_heap_alloc_bytes"] / (1 << 20)
	side.HeapInusePeak = mgr.heapPeakMiB()
	per := 1000 / float64(o.n)
	side.RSSPer1000MiB, side.HeapPer1000MiB = side.RSSMiB*per, side.HeapInuseMiB*per
	w1, by1 := cl.audit.writes()
	side.Writes, side.WritesBy = w1-w0, diff(by1, by0)
	if pprof != "" {
		// The profile's GC first: then the heap allocated is what is live.
		if err := saveHeapProfile(pprof, filepath.Join(o.workDir, "heap-"+filepath.Base(bin)+".pb.gz")); err != nil {
			logf("memory: no heap profile: %v", err)
		} else if mt, err := mgr.metricsText(); err == nil {
			side.LiveHeapMiB = mt["go_memstats_heap_alloc_bytes"] / (1 << 20)
			side.LiveHeapPer1000MiB = side.LiveHeapMiB * per
		}
	}
	logf("memory: %s synced in %.1fs: RSS %.0f MiB (peak %.0f), heap in use %.0f MiB, %d writes %s",
		filepath.Base(bin), side.SyncedS, side.RSSMiB, side.HWMMiB, side.HeapInuseMiB, side.Writes, describe(side.WritesBy))
	return nil
}

// saveHeapProfile writes the manager's heap profile (after a GC) to path:
// `go tool pprof -sample_index=inuse_space` shows what the cache holds.
func saveHeapProfile(addr, path string) error {
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /debug/pprof/heap: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func printMemory(r results) {
	m := r.Memory
	w := newTable()
	sides := []memorySide{m.Landlord}
	header := "measure\t" + filepath.Base(m.Landlord.Manager)
	if m.Compare != nil {
		sides = append(sides, *m.Compare)
		header += "\t" + filepath.Base(m.CompareManager)
	}
	fmt.Fprintln(w, header)
	row := func(name, format string, get func(memorySide) float64) {
		line := name
		for _, s := range sides {
			line += "\t" + fmt.Sprintf(format, get(s))
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "tenants (populated in %.1fs)\t%d\n", m.PopulateS, r.Tenants)
	row("start -> ready (s)", "%.1f", func(s memorySide) float64 { return s.ReadyS })
	row("start -> every tenant object reconciled (s)", "%.1f", func(s memorySide) float64 { return s.ReconciledS })
	row("start -> synced, then quiet (s)", "%.1f", func(s memorySide) float64 { return s.SyncedS })
	row("reconciles", "%.0f", func(s memorySide) float64 { return s.Reconciles })
	row("VmRSS (MiB)", "%.1f", func(s memorySide) float64 { return s.RSSMiB })
	row("VmHWM (MiB)", "%.1f", func(s memorySide) float64 { return s.HWMMiB })
	row("Go heap in use (MiB)", "%.1f", func(s memorySide) float64 { return s.HeapInuseMiB })
	row("Go heap in use, peak (MiB)", "%.1f", func(s memorySide) float64 { return s.HeapInusePeak })
	row("Go heap allocated (MiB)", "%.1f", func(s memorySide) float64 { return s.HeapAllocMiB })
	row("VmRSS per 1,000 tenants (MiB)", "%.1f", func(s memorySide) float64 { return s.RSSPer1000MiB })
	if m.Landlord.LiveHeapMiB > 0 {
		row("live heap after a GC (MiB)", "%.1f", func(s memorySide) float64 { return s.LiveHeapMiB })
		row("live heap per 1,000 tenants (MiB)", "%.1f", func(s memorySide) float64 { return s.LiveHeapPer1000MiB })
	}
	row("writes", "%.0f", func(s memorySide) float64 { return float64(s.Writes) })
	_ = w.Flush()
	for _, s := range sides {
		if len(s.WritesBy) > 0 {
			fmt.Println(filepath.Base(s.Manager), "wrote:", describe(s.WritesBy))
		}
	}
}
