package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// tenancyResults are the figures of -mode tenancy: Accounts only, Landlord
// beside the floor (the API server creating the same objects from a client).
type tenancyResults struct {
	Creators int `json:"creators"`
	// FloorObjects are the objects the floor creates for each Account, from
	// the builders the account controller uses (accountChildren).
	FloorObjects []string `json:"floor_objects"`
	// FloorMissing are resources Landlord wrote that the floor did not
	// create: the floor is out of step with the account controller.
	FloorMissing []string    `json:"floor_missing,omitempty"`
	Floor        tenancySide `json:"floor"`
	Landlord     tenancySide `json:"landlord"`
	// Compare is a second Landlord side, with -compare-manager's binary
	// (e.g. another applier), on a fresh control plane after the last round.
	Compare        *tenancySide `json:"landlord_compare,omitempty"`
	CompareManager string       `json:"compare_manager,omitempty"`
	CompareArgs    []string     `json:"compare_manager_args,omitempty"`
	Efficiency     float64      `json:"efficiency"` // T_floor / T_landlord
	Ratios         tenancyRatio `json:"ratios"`     // Landlord / floor
	// Rounds, with -tenancy-rounds above 1: every round's figures, the first
	// (Floor, Landlord above) included, and the medians of their ratios.
	Rounds []tenancyRound `json:"rounds,omitempty"`
	Median *tenancyMedian `json:"median,omitempty"`
}

// tenancyRound is one round: the floor, then Landlord, each on a fresh
// control plane.
type tenancyRound struct {
	Floor      tenancySide  `json:"floor"`
	Landlord   tenancySide  `json:"landlord"`
	Efficiency float64      `json:"efficiency"`
	Ratios     tenancyRatio `json:"ratios"`
}

// tenancyMedian are the medians over the rounds.
type tenancyMedian struct {
	Efficiency float64      `json:"efficiency"`
	Ratios     tenancyRatio `json:"ratios"`
	// Landlord's manager, over the rounds.
	ManagerCPUS float64 `json:"manager_cpu_s"`
	RSSMiB      float64 `json:"manager_rss_mib"`
}

// tenancySide is one side's figures.
type tenancySide struct {
	// Seconds: from the first Account's create to every Account Ready=True.
	Seconds         float64        `json:"t_s"`
	Writes          int            `json:"writes"`
	WritesPerTenant float64        `json:"writes_per_tenant"`
	WritesBy        map[string]int `json:"writes_by"`
	// CPU seconds of kube-apiserver and etcd from the first create until
	// the side has settled (no audited write for 3 s).
	APIServerCPUS float64 `json:"apiserver_cpu_s"`
	EtcdCPUS      float64 `json:"etcd_cpu_s"`
	// CPU seconds of kube-apiserver and etcd over 5 s of rest before the
	// first create, scaled to the measured window: the part of the figures
	// above that is not the tenants'.
	APIServerIdleCPUS float64 `json:"apiserver_idle_cpu_s"`
	EtcdIdleCPUS      float64 `json:"etcd_idle_cpu_s"`
	SettledS          float64 `json:"settled_s"`
	ReadyP50S         float64 `json:"create_to_ready_p50_s"`
	ReadyP99S         float64 `json:"create_to_ready_p99_s"`
	ReadyMaxS         float64 `json:"create_to_ready_max_s"`

	// The same CPU figures over a longer window: until no client at all
	// (kube-controller-manager included, leases aside) has written for 3 s.
	// The controller-manager's work for each new namespace (its service
	// account, the quota's status) goes on after the side's own writes
	// stop, and more of it falls into the shorter window of the slower side.
	ClusterSettledS          float64 `json:"cluster_settled_s,omitempty"`
	APIServerCPUClusterS     float64 `json:"apiserver_cpu_cluster_settled_s,omitempty"`
	EtcdCPUClusterS          float64 `json:"etcd_cpu_cluster_settled_s,omitempty"`
	APIServerIdleCPUClusterS float64 `json:"apiserver_idle_cpu_cluster_settled_s,omitempty"`
	// The API server's requests per tenant (every user) over that window.
	RequestsPerTenantCluster map[string]float64 `json:"api_requests_per_tenant_cluster_settled,omitempty"`

	// The manager's CPU seconds until the side settled, and its reconciles
	// (all controllers) per tenant.
	ManagerCPUS float64 `json:"manager_cpu_s,omitempty"`
	// ... and until every client settled (it still decodes the quotas'
	// status updates, which its predicates then drop).
	ManagerCPUClusterS  float64 `json:"manager_cpu_cluster_settled_s,omitempty"`
	ReconcilesPerTenant float64 `json:"reconciles_per_tenant,omitempty"`
	RSSMiB              float64 `json:"manager_rss_mib,omitempty"`
	// RequestsPerTenant are the API server's requests (every user, reads
	// and watches included) and watch events sent, per tenant, over the
	// window of the CPU figures.
	RequestsPerTenant map[string]float64 `json:"api_requests_per_tenant,omitempty"`
	HeapMiB           float64            `json:"manager_heap_mib,omitempty"`
}

type tenancyRatio struct {
	Time         float64 `json:"time"`
	Writes       float64 `json:"writes"`
	APIServerCPU float64 `json:"apiserver_cpu"`
	EtcdCPU      float64 `json:"etcd_cpu"`
	// Over the windows until every client has settled.
	APIServerCPUCluster float64 `json:"apiserver_cpu_cluster_settled,omitempty"`
}

// accountChildren are the objects the account controller applies for acct
// (controllers/account/phases.go), from the same pure builders. When the
// controller gains a child, add its builder here: the run reports a
// resource Landlord wrote and the floor did not (FloorMissing).
func accountChildren(acct *v1.Account, cfg platform.Config) []any {
	return []any{
		tenancy.BuildNamespace(acct, cfg),
		tenancy.BuildNetworkPolicy(acct, cfg),
		tenancy.BuildAccountQuota(acct, cfg),
		tenancy.BuildOwnerBinding(acct, cfg),
	}
}

// accountStatus is the status Landlord reports for a provisioned Account
// with no subscription or member yet (controllers/account/status.go).
func accountStatus(cfg platform.Config, a *v1.Account, now time.Time) v1.AccountStatus {
	return convergedAccountStatus(cfg, a, v1.SubscriptionCounts{}, 0, now)
}

// readyTracker records, per Account, when it was created and when the
// benchmark's informer first saw it Ready=True.
type readyTracker struct {
	mu      sync.Mutex
	n       int
	created map[string]time.Time
	ready   map[string]time.Time
	all     chan struct{}
}

func newReadyTracker(n int) *readyTracker {
	return &readyTracker{n: n, created: map[string]time.Time{}, ready: map[string]time.Time{}, all: make(chan struct{})}
}

func (t *readyTracker) creating(name string) {
	t.mu.Lock()
	t.created[name] = time.Now()
	t.mu.Unlock()
}

func (t *readyTracker) observe(obj any) {
	a, ok := obj.(*v1.Account)
	if !ok || !meta.IsStatusConditionTrue(a.Status.Conditions, v1.ConditionReady) {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, seen := t.ready[a.Name]; seen {
		return
	}
	t.ready[a.Name] = now
	if len(t.ready) == t.n {
		close(t.all)
	}
}

func (t *readyTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.ready)
}

// latencies are the create → Ready durations, sorted.
func (t *readyTracker) latencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var d []time.Duration
	for name, r := range t.ready {
		if c, ok := t.created[name]; ok {
			d = append(d, r.Sub(c))
		}
	}
	slices.Sort(d)
	return d
}

func (t *readyTracker) last() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var last time.Time
	for _, r := range t.ready {
		if r.After(last) {
			last = r
		}
	}
	return last
}

func quantile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	i := int(q*float64(len(d))+0.5) - 1
	i = min(max(i, 0), len(d)-1)
	return d[i].Seconds()
}

// tenancyCluster is a control plane for one side of -mode tenancy, with
// the clients of the creators (user creatorUser) and of Landlord's
// identity, both audited.
type tenancyCluster struct {
	*cluster
	creator           client.Client
	manager           client.Client
	managerKubeconfig string
	tracker           *readyTracker
	meter             cpuMeter
	idle              cpuSample // CPU seconds per second at rest
	// profile: how long to profile kube-apiserver's CPU from the first
	// create (0: no profile).
	profile time.Duration
}

func startTenancyCluster(ctx context.Context, dir string, n int, profile time.Duration) (*tenancyCluster, error) {
	cl, err := startClusterWith(ctx, dir, false)
	if err != nil {
		return nil, err
	}
	tc := &tenancyCluster{cluster: cl, tracker: newReadyTracker(n), profile: profile}
	fail := func(err error) (*tenancyCluster, error) { cl.Stop(); return nil, err }
	newClient := func(user string, groups ...string) (client.Client, []byte, error) {
		cfg, kc, err := cl.cp.AddUser(user, groups...)
		if err != nil {
			return nil, nil, err
		}
		cfg = rest.CopyConfig(cfg)
		cfg.QPS, cfg.Burst = -1, 0
		c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
		return c, kc, err
	}
	if tc.creator, _, err = newClient(creatorUser, "system:masters"); err != nil {
		return fail(err)
	}
	var kc []byte
	if tc.manager, kc, err = newClient(managerUser, "system:masters", platform.ManagerGroup); err != nil {
		return fail(err)
	}
	tc.managerKubeconfig = filepath.Join(dir, "manager.kubeconfig")
	if err := os.WriteFile(tc.managerKubeconfig, kc, 0o600); err != nil {
		return fail(err)
	}
	inf, err := cl.cache.GetInformer(ctx, &v1.Account{})
	if err != nil {
		return fail(err)
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    tc.tracker.observe,
		UpdateFunc: func(_, obj any) { tc.tracker.observe(obj) },
	}); err != nil {
		return fail(err)
	}
	if err := cl.watch(ctx, &v1.Account{}); err != nil {
		return fail(err)
	}
	if tc.meter, err = cl.cpuMeter(); err != nil {
		return fail(err)
	}
	// The control plane at rest (its controllers, the benchmark's watches).
	before := tc.meter.sample()
	time.Sleep(5 * time.Second)
	d := tc.meter.sample().sub(before)
	tc.idle = cpuSample{apiserver: d.apiserver / 5, etcd: d.etcd / 5}
	return tc, nil
}

// measure runs create (the side's work) and fills side: time to all Ready,
// create → Ready quantiles, audited writes and CPU until settled.
func (tc *tenancyCluster) measure(ctx context.Context, n int, side *tenancySide, create func(context.Context) error, settle func() error) error {
	w0, by0 := tc.audit.writes()
	req0, err := tc.apiRequests(ctx)
	if err != nil {
		return err
	}
	cpu0 := tc.meter.sample()
	start := time.Now()
	profiled := tc.profileAPIServer(ctx)
	if err := create(ctx); err != nil {
		return err
	}
	select {
	case <-tc.tracker.all:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Minute):
		return fmt.Errorf("%d of %d Accounts Ready after 30 minutes", tc.tracker.count(), n)
	}
	side.Seconds = tc.tracker.last().Sub(start).Seconds()
	if err := settle(); err != nil {
		logf("tenancy: did not settle: %v", err)
	}
	cpu := tc.meter.sample().sub(cpu0)
	req1, err := tc.apiRequests(ctx)
	if err != nil {
		return err
	}
	side.RequestsPerTenant = requestsPerTenant(req0, req1, n)
	side.SettledS = time.Since(start).Seconds()
	side.APIServerCPUS, side.EtcdCPUS = cpu.apiserver, cpu.etcd
	side.APIServerIdleCPUS, side.EtcdIdleCPUS = tc.idle.apiserver*side.SettledS, tc.idle.etcd*side.SettledS
	w1, by1 := tc.audit.writes()
	side.Writes, side.WritesBy = w1-w0, diff(by1, by0)
	side.WritesPerTenant = float64(side.Writes) / float64(n)
	lat := tc.tracker.latencies()
	side.ReadyP50S, side.ReadyP99S, side.ReadyMaxS = quantile(lat, 0.5), quantile(lat, 0.99), quantile(lat, 1)
	if err := tc.clusterQuiet(ctx, 3*time.Second, 10*time.Minute); err != nil {
		logf("tenancy: the cluster did not settle: %v", err)
	}
	all := tc.meter.sample().sub(cpu0)
	side.ClusterSettledS = time.Since(start).Seconds()
	side.APIServerCPUClusterS, side.EtcdCPUClusterS = all.apiserver, all.etcd
	side.APIServerIdleCPUClusterS = tc.idle.apiserver * side.ClusterSettledS
	if req2, err := tc.apiRequests(ctx); err == nil {
		side.RequestsPerTenantCluster = requestsPerTenant(req0, req2, n)
	}
	if tc.profile > 0 && side.SettledS > tc.profile.Seconds() {
		logf("tenancy: WARNING: the side settled after %.0fs; the kube-apiserver profile covers only the first %s", side.SettledS, tc.profile)
	}
	return <-profiled
}

// profileAPIServer saves a CPU profile of kube-apiserver over the next
// tc.profile into apiserver-cpu.pb.gz in the side's directory; the channel
// yields its error once it is written (at once when there is no profile).
func (tc *tenancyCluster) profileAPIServer(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	if tc.profile <= 0 {
		done <- nil
		return done
	}
	go func() {
		cs, err := kubernetes.NewForConfig(tc.cp.Config)
		if err != nil {
			done <- err
			return
		}
		b, err := cs.RESTClient().Get().AbsPath("/debug/pprof/profile").
			Param("seconds", strconv.Itoa(int(tc.profile.Seconds()))).
			Timeout(tc.profile + time.Minute).DoRaw(ctx)
		if err != nil {
			done <- fmt.Errorf("profiling kube-apiserver: %w", err)
			return
		}
		done <- os.WriteFile(filepath.Join(tc.dir, "apiserver-cpu.pb.gz"), b, 0o600)
	}()
	return done
}

// auditQuiet waits until the audit log has grown by nothing for still.
func auditQuiet(ctx context.Context, a *auditLog, still, timeout time.Duration) error {
	last, since := -1, time.Now()
	return waitEvery(ctx, timeout, 250*time.Millisecond, func() (bool, error) {
		w, _ := a.writes()
		if w != last {
			last, since = w, time.Now()
			return false, nil
		}
		return time.Since(since) >= still, nil
	})
}

func newAccount(cfg platform.Config, prefix string, i int) *v1.Account {
	return newTenant(cfg, prefix, i).account
}

// runTenancyFloor creates, with `creators` concurrent writers, each Account
// (with Landlord's finalizer: the floor saves that write), then each object
// Landlord makes for it, as Landlord's identity and in Landlord's apply form
// (labels, owner references, the applied-hash annotation) but by a plain
// create, then the Account's Ready status as one status patch.
func runTenancyFloor(ctx context.Context, tc *tenancyCluster, n, creators int, side *tenancySide) error {
	cfg := platform.Default()
	scheme := tc.manager.Scheme()
	create := func(ctx context.Context) error {
		return parallel(ctx, n, creators, func(ctx context.Context, i int) error {
			acct := newAccount(cfg, "f", i)
			controllerutil.AddFinalizer(acct, v1.Finalizer)
			tc.tracker.creating(acct.Name)
			if err := tc.creator.Create(ctx, acct); err != nil {
				return fmt.Errorf("creating Account %s: %w", acct.Name, err)
			}
			for _, d := range accountChildren(acct, cfg) {
				u, err := kernel.ApplyForm(scheme, d)
				if err != nil {
					return err
				}
				if err := tc.manager.Create(ctx, u, client.FieldOwner(platform.FieldManager)); err != nil {
					return fmt.Errorf("creating %s %s: %w", u.GetKind(), u.GetName(), err)
				}
			}
			base := acct.DeepCopy()
			acct.Status = accountStatus(cfg, acct, time.Now())
			if err := tc.manager.Status().Patch(ctx, acct, client.MergeFrom(base)); err != nil {
				return fmt.Errorf("status of Account %s: %w", acct.Name, err)
			}
			return nil
		})
	}
	return tc.measure(ctx, n, side, create, func() error { return auditQuiet(ctx, tc.audit, 3*time.Second, time.Minute) })
}

// runTenancyLandlord runs the manager and creates the Accounts with
// `creators` concurrent writers; every Account is provisioned when Ready.
func runTenancyLandlord(ctx context.Context, tc *tenancyCluster, o options, manager string, args []string, side *tenancySide) error {
	dns, err := dnstest.Start()
	if err != nil {
		return err
	}
	defer dns.Close()
	log, err := openLog(filepath.Join(tc.dir, "manager.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	mgr, err := startManager(ctx, manager, tc.managerKubeconfig, dns.Addr(), args, log)
	if err != nil {
		return err
	}
	defer mgr.kill()
	cfg := platform.Default()
	create := func(ctx context.Context) error {
		return parallel(ctx, o.n, o.writers, func(ctx context.Context, i int) error {
			acct := newAccount(cfg, "t", i)
			tc.tracker.creating(acct.Name)
			if err := tc.creator.Create(ctx, acct); err != nil {
				return fmt.Errorf("creating Account %s: %w", acct.Name, err)
			}
			return nil
		})
	}
	pid := mgr.cmd.Process.Pid
	cpu0, _ := cpuSeconds(pid)
	rec0, _ := mgr.metric("controller_runtime_reconcile_total")
	var cpu1, rec1 float64
	settle := func() error {
		err := mgr.quiet(ctx, tc.audit, 3*time.Second, 2*time.Minute)
		cpu1, _ = cpuSeconds(pid)
		rec1, _ = mgr.metric("controller_runtime_reconcile_total")
		return err
	}
	if err := tc.measure(ctx, o.n, side, create, settle); err != nil {
		return err
	}
	cpu2, _ := cpuSeconds(pid)
	side.ManagerCPUS, side.ReconcilesPerTenant = cpu1-cpu0, (rec1-rec0)/float64(o.n)
	side.ManagerCPUClusterS = cpu2 - cpu0
	side.RSSMiB, side.HeapMiB = mgr.rssPeakMiB(), mgr.heapPeakMiB()
	return nil
}

// runTenancy is -mode tenancy: the floor, then Landlord, each on a fresh
// control plane.
func runTenancy(ctx context.Context, o options, res *results) error {
	tr := &tenancyResults{Creators: o.writers}
	cfg := platform.Default()
	for _, d := range accountChildren(newAccount(cfg, "x", 0), cfg) {
		u, err := kernel.ApplyForm(testenv.Scheme(), d)
		if err != nil {
			return err
		}
		tr.FloorObjects = append(tr.FloorObjects, u.GetKind())
	}
	for i := range max(o.tenancyRounds, 1) {
		suffix := ""
		if i > 0 {
			suffix = fmt.Sprintf("-%d", i+1)
			logf("round %d of %d", i+1, o.tenancyRounds)
		}
		var round tenancyRound
		if err := runTenancyRound(ctx, o, suffix, &round); err != nil {
			return err
		}
		tr.Rounds = append(tr.Rounds, round)
	}
	tr.Floor, tr.Landlord = tr.Rounds[0].Floor, tr.Rounds[0].Landlord
	tr.Efficiency, tr.Ratios = tr.Rounds[0].Efficiency, tr.Rounds[0].Ratios
	if len(tr.Rounds) > 1 {
		tr.Median = medianOf(tr.Rounds)
	} else {
		tr.Rounds = nil
	}
	if o.compareManager != "" {
		logf("landlord (%s): starting a control plane", o.compareManager)
		tc, err := startTenancyCluster(ctx, filepath.Join(o.workDir, "compare"), o.n, o.apiProfile)
		if err != nil {
			return err
		}
		tr.Compare, tr.CompareManager, tr.CompareArgs = &tenancySide{}, o.compareManager, o.compareArgs
		err = runTenancyLandlord(ctx, tc, o, o.compareManager, o.compareArgs, tr.Compare)
		tc.Stop()
		if err != nil {
			return fmt.Errorf("landlord (%s): %w (logs in %s)", o.compareManager, err, o.workDir)
		}
		logf("landlord (%s): %d Accounts Ready in %.1fs", o.compareManager, o.n, tr.Compare.Seconds)
	}
	if tr.Floor.Seconds > 0 {
		tr.FloorMissing = floorMissing(tr.Floor.WritesBy, tr.Landlord.WritesBy)
	}
	res.Tenancy = tr
	return nil
}

// runTenancyRound runs the floor (unless -skip-baseline), then Landlord,
// each on a fresh control plane in the -work directory's floor<suffix> and
// landlord<suffix>.
func runTenancyRound(ctx context.Context, o options, suffix string, round *tenancyRound) error {
	if !o.skipRaw {
		logf("floor: starting a control plane")
		tc, err := startTenancyCluster(ctx, filepath.Join(o.workDir, "floor"+suffix), o.n, o.apiProfile)
		if err != nil {
			return err
		}
		err = runTenancyFloor(ctx, tc, o.n, o.writers, &round.Floor)
		tc.Stop()
		if err != nil {
			return fmt.Errorf("floor: %w (logs in %s)", err, o.workDir)
		}
		logf("floor: %d Accounts Ready in %.1fs", o.n, round.Floor.Seconds)
	}
	logf("landlord: starting a control plane")
	tc, err := startTenancyCluster(ctx, filepath.Join(o.workDir, "landlord"+suffix), o.n, o.apiProfile)
	if err != nil {
		return err
	}
	err = runTenancyLandlord(ctx, tc, o, o.manager, o.managerArgs, &round.Landlord)
	tc.Stop()
	if err != nil {
		return fmt.Errorf("landlord: %w (logs in %s)", err, o.workDir)
	}
	logf("landlord: %d Accounts Ready in %.1fs", o.n, round.Landlord.Seconds)
	if f, l := round.Floor, round.Landlord; f.Seconds > 0 {
		round.Efficiency = f.Seconds / l.Seconds
		round.Ratios = tenancyRatio{Time: l.Seconds / f.Seconds, Writes: float64(l.Writes) / float64(f.Writes),
			APIServerCPU: l.APIServerCPUS / f.APIServerCPUS, EtcdCPU: l.EtcdCPUS / f.EtcdCPUS}
		if f.APIServerCPUClusterS > 0 {
			round.Ratios.APIServerCPUCluster = l.APIServerCPUClusterS / f.APIServerCPUClusterS
		}
	}
	return nil
}

// medianOf is each figure's median over the rounds.
func medianOf(rounds []tenancyRound) *tenancyMedian {
	of := func(get func(tenancyRound) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = get(r)
		}
		return median(v)
	}
	return &tenancyMedian{
		Efficiency: of(func(r tenancyRound) float64 { return r.Efficiency }),
		Ratios: tenancyRatio{
			Time:                of(func(r tenancyRound) float64 { return r.Ratios.Time }),
			Writes:              of(func(r tenancyRound) float64 { return r.Ratios.Writes }),
			APIServerCPU:        of(func(r tenancyRound) float64 { return r.Ratios.APIServerCPU }),
			EtcdCPU:             of(func(r tenancyRound) float64 { return r.Ratios.EtcdCPU }),
			APIServerCPUCluster: of(func(r tenancyRound) float64 { return r.Ratios.APIServerCPUCluster }),
		},
		ManagerCPUS: of(func(r tenancyRound) float64 { return r.Landlord.ManagerCPUS }),
		RSSMiB:      of(func(r tenancyRound) float64 { return r.Landlord.RSSMiB }),
	}
}

// floorMissing are the resources of Landlord's writes (but the Account's
// own, and Events) that the floor never wrote.
func floorMissing(floor, landlord map[string]int) []string {
	resources := func(by map[string]int) map[string]bool {
		out := map[string]bool{}
		for k := range by {
			_, res, _ := strings.Cut(k, " ")
			if strings.HasPrefix(res, "accounts") || res == "events" {
				continue
			}
			out[res] = true
		}
		return out
	}
	f := resources(floor)
	var missing []string
	for r := range resources(landlord) {
		if !f[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	return missing
}

func printTenancy(r results) {
	t := r.Tenancy
	w := newTable()
	fmt.Fprintf(w, "Accounts only: %d tenants, %d concurrent creators\n", r.Tenants, t.Creators)
	f, l := t.Floor, t.Landlord
	head := "measure\tfloor\tLandlord\tLandlord/floor"
	if t.Compare != nil {
		name := strings.Join(append([]string{filepath.Base(t.CompareManager)}, t.CompareArgs...), " ")
		head += "\t" + name + "\t/floor"
	}
	fmt.Fprintln(w, head)
	ratio := func(a, b float64) string {
		if a == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f", b/a)
	}
	row := func(name, format string, get func(tenancySide) float64) {
		floor := fmt.Sprintf(format, get(f))
		if get(f) == 0 {
			floor = "-" // the floor runs no manager
		}
		line := fmt.Sprintf("%s\t%s\t"+format+"\t%s", name, floor, get(l), ratio(get(f), get(l)))
		if t.Compare != nil {
			line += fmt.Sprintf("\t"+format+"\t%s", get(*t.Compare), ratio(get(f), get(*t.Compare)))
		}
		fmt.Fprintln(w, line)
	}
	row("T: first create -> all Ready (s)", "%.1f", func(s tenancySide) float64 { return s.Seconds })
	row("create -> Ready p50 (s)", "%.2f", func(s tenancySide) float64 { return s.ReadyP50S })
	row("create -> Ready p99 (s)", "%.2f", func(s tenancySide) float64 { return s.ReadyP99S })
	row("writes per tenant", "%.2f", func(s tenancySide) float64 { return s.WritesPerTenant })
	row("kube-apiserver CPU (s)", "%.1f", func(s tenancySide) float64 { return s.APIServerCPUS })
	row("  of which at rest (s)", "%.1f", func(s tenancySide) float64 { return s.APIServerIdleCPUS })
	row("etcd CPU (s)", "%.1f", func(s tenancySide) float64 { return s.EtcdCPUS })
	row("  of which at rest (s)", "%.1f", func(s tenancySide) float64 { return s.EtcdIdleCPUS })
	row("window to settled (s)", "%.1f", func(s tenancySide) float64 { return s.SettledS })
	row("kube-apiserver CPU, every client settled (s)", "%.1f", func(s tenancySide) float64 { return s.APIServerCPUClusterS })
	row("  of which at rest (s)", "%.1f", func(s tenancySide) float64 { return s.APIServerIdleCPUClusterS })
	row("etcd CPU, every client settled (s)", "%.1f", func(s tenancySide) float64 { return s.EtcdCPUClusterS })
	row("window to every client settled (s)", "%.1f", func(s tenancySide) float64 { return s.ClusterSettledS })
	row("manager CPU (s)", "%.1f", func(s tenancySide) float64 { return s.ManagerCPUS })
	row("manager CPU, every client settled (s)", "%.1f", func(s tenancySide) float64 { return s.ManagerCPUClusterS })
	row("manager reconciles per tenant", "%.2f", func(s tenancySide) float64 { return s.ReconcilesPerTenant })
	row("manager peak RSS (MiB)", "%.0f", func(s tenancySide) float64 { return s.RSSMiB })
	row("manager peak Go heap in use (MiB)", "%.0f", func(s tenancySide) float64 { return s.HeapMiB })
	fmt.Fprintf(w, "E = T_floor / T_landlord\t\t%.2f\t\n", t.Efficiency)
	if c := t.Compare; c != nil && c.Seconds > 0 {
		fmt.Fprintf(w, "E of %s\t\t\t\t%.2f\n", filepath.Base(t.CompareManager), f.Seconds/c.Seconds)
	}
	_ = w.Flush()
	perTenant := func(by map[string]int) string {
		keys := make([]string, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%.2f", k, float64(by[k])/float64(r.Tenants)))
		}
		return strings.Join(parts, ", ")
	}
	fmt.Println("floor objects per Account:", strings.Join(t.FloorObjects, ", "))
	fmt.Println("floor writes per tenant:", perTenant(f.WritesBy))
	fmt.Println("Landlord writes per tenant:", perTenant(l.WritesBy))
	if t.Compare != nil {
		fmt.Println(filepath.Base(t.CompareManager), "writes per tenant:", perTenant(t.Compare.WritesBy))
	}
	requests := func(m map[string]float64) string {
		keys := make([]string, 0, len(m))
		for k, v := range m {
			if v >= 0.05 {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%.2f", k, m[k]))
		}
		return strings.Join(parts, ", ")
	}
	fmt.Println("floor API requests per tenant (every user):", requests(f.RequestsPerTenant))
	fmt.Println("Landlord API requests per tenant (every user):", requests(l.RequestsPerTenant))
	fmt.Println("floor API requests per tenant, every client settled:", requests(f.RequestsPerTenantCluster))
	fmt.Println("Landlord API requests per tenant, every client settled:", requests(l.RequestsPerTenantCluster))
	if t.Median != nil {
		printRounds(t)
	}
	if len(t.FloorMissing) > 0 {
		fmt.Println("WARNING: Landlord wrote resources the floor does not create (add their builders to accountChildren):",
			strings.Join(t.FloorMissing, ", "))
	}
}

// printRounds prints every round's ratios and their medians; the table
// above is the first round's.
func printRounds(t *tenancyResults) {
	w := newTable()
	fmt.Fprintf(w, "%d rounds (the table above is round 1)\n", len(t.Rounds))
	fmt.Fprintln(w, "round\tT floor (s)\tT Landlord (s)\tE\tkube-apiserver CPU /floor\tevery client settled /floor\tmanager CPU (s)\tmanager peak RSS (MiB)")
	line := func(name string, tf, tl, e float64, r tenancyRatio, cpu, rss float64) {
		times := "\t"
		if tf > 0 {
			times = fmt.Sprintf("%.1f\t%.1f", tf, tl)
		}
		fmt.Fprintf(w, "%s\t%s\t%.2f\t%.2f\t%.2f\t%.1f\t%.0f\n", name, times, e, r.APIServerCPU, r.APIServerCPUCluster, cpu, rss)
	}
	for i, r := range t.Rounds {
		line(fmt.Sprint(i+1), r.Floor.Seconds, r.Landlord.Seconds, r.Efficiency, r.Ratios, r.Landlord.ManagerCPUS, r.Landlord.RSSMiB)
	}
	m := t.Median
	line("median", 0, 0, m.Efficiency, m.Ratios, m.ManagerCPUS, m.RSSMiB)
	_ = w.Flush()
}

// requestsPerTenant are the counters that grew from before to after, per
// tenant of n.
func requestsPerTenant(before, after map[string]float64, n int) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d / float64(n)
		}
	}
	return out
}

// writeVerbs are the request verbs of kube-apiserver's counters that write.
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true}

// clusterQuiet waits until no client has written for still: kube-apiserver's
// counters of write requests (every user; leases aside, which components
// renew on a timer) stay the same.
func (tc *tenancyCluster) clusterQuiet(ctx context.Context, still, timeout time.Duration) error {
	last := -1.0
	since := time.Now()
	return waitEvery(ctx, timeout, 500*time.Millisecond, func() (bool, error) {
		req, err := tc.apiRequests(ctx)
		if err != nil {
			return false, nil
		}
		var writes float64
		for k, v := range req {
			verb, resource, _ := strings.Cut(k, " ")
			if writeVerbs[verb] && resource != "leases" {
				writes += v
			}
		}
		if writes != last {
			last, since = writes, time.Now()
			return false, nil
		}
		return time.Since(since) >= still, nil
	})
}
