// Command bench measures Landlord against the physical limit of the local
// control plane (make bench): the same tenants written straight through a
// client (the baseline) and through Landlord, side by side in one run, each
// on a fresh control plane; then Landlord's writes per tenant, idle and
// restart writes, memory, and an expiry burst. It prints a table and writes
// the figures as JSON.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/landlord-dev/landlord/internal/platform"
)

type options struct {
	n, writers  int
	idle        time.Duration
	out         string
	manager     string
	managerArgs []string
	workDir     string
	skipRaw     bool
	// tenancyRounds: -mode tenancy runs the floor and Landlord this often.
	tenancyRounds int
	mode          string
	rounds        int
	// compareManager: -mode tenancy and the full mode run a second
	// Landlord side with it.
	compareManager string
	// compareArgs are the second side's extra manager flags (default: managerArgs).
	compareArgs []string
	compareSet  bool
	// heapProfile: -mode memory saves each manager's heap profile.
	heapProfile bool
	// skipBurst: the full mode ends after the restart (no expiry burst).
	skipBurst bool
	// apiProfile: -mode tenancy profiles kube-apiserver's CPU for this long
	// from each side's first create.
	apiProfile time.Duration
}

// results is what bin/bench/results.json holds.
type results struct {
	Tenants                int            `json:"tenants"`
	Writers                int            `json:"writers"`
	TRawS                  float64        `json:"t_raw_s"`
	RawWrites              int64          `json:"raw_writes"`
	RawRetries             int64          `json:"raw_retries"`
	RawWritesPerS          float64        `json:"raw_writes_per_s"`
	TOpS                   float64        `json:"t_op_s"`
	Efficiency             float64        `json:"efficiency"`
	Writes                 int            `json:"writes"`
	WritesPerTenant        float64        `json:"writes_per_tenant"`
	EventWritesPerTenant   float64        `json:"event_writes_per_tenant"`
	MinimalWritesPerTenant int            `json:"minimal_writes_per_tenant"`
	MinimalWrites          []string       `json:"minimal_writes"`
	WritesBy               map[string]int `json:"writes_by"`
	IdleWindowS            float64        `json:"idle_window_s"`
	IdleWrites             int            `json:"idle_writes"`
	IdleWritesBy           map[string]int `json:"idle_writes_by,omitempty"`
	RestartWrites          int            `json:"restart_writes"`
	RestartWritesBy        map[string]int `json:"restart_writes_by,omitempty"`
	RSSMiB                 float64        `json:"rss_mib"`
	HeapMiB                float64        `json:"heap_mib"`
	BurstSuspendedS        float64        `json:"burst_suspended_s"`
	BurstScaledS           float64        `json:"burst_scaled_s"`
	BurstWrites            int            `json:"burst_writes"`
	// BurstWritesBy are burst_writes by verb and resource; the
	// suspension fields count the writes from the deadline on (those
	// before it take the sites PastDue), per subscription.
	BurstWritesBy            map[string]int `json:"burst_writes_by,omitempty"`
	BurstSuspensionWrites    int            `json:"burst_suspension_writes"`
	BurstSuspensionWritesBy  map[string]int `json:"burst_suspension_writes_by,omitempty"`
	BurstWritesPerSuspension float64        `json:"burst_writes_per_suspension"`
	// BurstCPUS is each process's CPU seconds from the deadline until all
	// were Suspended: kube-apiserver, etcd, kube-controller-manager,
	// kube-scheduler, kwok, the manager and the benchmark itself.
	BurstCPUS map[string]float64 `json:"burst_cpu_s,omitempty"`
	// Compare is a second Landlord side of the full benchmark, with
	// -compare-manager's binary, on a fresh control plane after the first.
	Compare        *results `json:"landlord_compare,omitempty"`
	CompareManager string   `json:"compare_manager,omitempty"`
	ManagerArgs    []string `json:"manager_args,omitempty"`
	Date           string   `json:"date"`
	// Mode is the -mode of the run; empty for the full benchmark, whose
	// figures are the fields above.
	Mode    string          `json:"mode,omitempty"`
	Tenancy *tenancyResults `json:"tenancy,omitempty"`
	APICost *apiCostResults `json:"api_cost,omitempty"`
	Memory  *memoryResults  `json:"memory,omitempty"`
}

func main() {
	var o options
	var extra string
	flag.IntVar(&o.n, "n", 200, "Number of tenants.")
	flag.IntVar(&o.writers, "writers", 32, "Concurrent writers of the baseline and of the tenants' creation.")
	flag.DurationVar(&o.idle, "idle", 60*time.Second, "Idle window after convergence in which writes are counted.")
	flag.StringVar(&o.out, "out", "bin/bench/results.json", "Where to write the results as JSON.")
	flag.StringVar(&o.manager, "manager", "", "The manager binary (default: built from ./cmd/manager into .bench-bin/).")
	flag.StringVar(&extra, "manager-args", "", "Extra manager flags, space-separated.")
	flag.StringVar(&o.workDir, "work", "", "Directory for control-plane state and logs (default: a temporary one, removed on success).")
	flag.BoolVar(&o.skipRaw, "skip-baseline", false, "Measure Landlord only (no efficiency).")
	flag.DurationVar(&o.apiProfile, "apiserver-profile", 0, "-mode tenancy: profile kube-apiserver's CPU for this long from each side's first create (make it cover the side until settled) into apiserver-cpu.pb.gz in the side's -work directory.")
	flag.BoolVar(&auditStatusBodies, "audit-status-bodies", false, "Log the request body of the manager's status writes of Landlord's kinds in each side's audit.log (what each status write changed).")
	flag.BoolVar(&o.skipBurst, "skip-burst", false, "The full mode: end after the restart, without the expiry burst (its figures stay 0).")
	flag.StringVar(&o.mode, "mode", "", "What to measure: empty for the full benchmark; tenancy for Accounts only, Landlord beside the floor (16 creators unless -writers); apicost for the API server's CPU per request kind (-n of each, 16 clients unless -writers); memory for the manager's memory and writes once synced with -n converged tenants already in the API server.")
	flag.IntVar(&o.rounds, "rounds", 3, "-mode apicost: rounds of every request kind; each kind's figure is the median.")
	flag.IntVar(&o.tenancyRounds, "tenancy-rounds", 1, "-mode tenancy: run the floor and Landlord sides this many times, in turn, each on a fresh control plane, and report each round's ratios and their medians (the shared machine's noise moves one round's figures a lot).")
	flag.StringVar(&o.compareManager, "compare-manager", "", "-mode tenancy: also run this manager binary as a third side (e.g. built from another commit); -mode memory: also measure it, against the same API server, after the first; the full mode: as a second Landlord side after the first.")
	flag.BoolVar(&o.heapProfile, "heap-profile", false, "-mode memory: run each manager with --pprof-bind-address (it must have the flag); once synced, save its heap profile as heap-<binary>.pb.gz in the -work directory and report the heap live after the profile's GC.")
	var compareExtra string
	flag.StringVar(&compareExtra, "compare-manager-args", "", "-mode tenancy and memory: the other side's extra manager flags, space-separated (default: -manager-args); with it, -compare-manager defaults to -manager.")
	flag.Parse()
	writersSet := false
	flag.Visit(func(f *flag.Flag) { writersSet = writersSet || f.Name == "writers" })
	if (o.mode == "tenancy" || o.mode == "apicost") && !writersSet {
		o.writers = 16
	}
	o.managerArgs = strings.Fields(extra)
	o.compareArgs = o.managerArgs
	if compareExtra != "" {
		o.compareArgs, o.compareSet = strings.Fields(compareExtra), true
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	keep := o.workDir != ""
	if o.workDir == "" {
		d, err := os.MkdirTemp("", "landlord-bench-")
		if err != nil {
			return err
		}
		o.workDir = d
	}
	logf("bench: mode %q, %d tenants, %d writers; state and logs in %s", o.mode, o.n, o.writers, o.workDir)
	if o.manager == "" {
		o.manager = filepath.Join(".bench-bin", "manager")
		if err := buildManager(o.manager); err != nil {
			return err
		}
	}
	if o.compareSet && o.compareManager == "" {
		o.compareManager = o.manager
	}
	minimal, kinds, err := minimalWrites(platform.Default())
	if err != nil {
		return err
	}
	res := results{Tenants: o.n, Writers: o.writers, MinimalWritesPerTenant: minimal, ManagerArgs: o.managerArgs,
		MinimalWrites: append(kinds, fmt.Sprintf("%d status writes", statusWrites), fmt.Sprintf("%d finalizer writes", finalizerWrites)),
		IdleWindowS:   o.idle.Seconds(), Date: time.Now().UTC().Format(time.RFC3339), Mode: o.mode}

	switch o.mode {
	case "":
		if err := runFull(ctx, o, &res); err != nil {
			return err
		}
		printTable(res)
	case "tenancy":
		res.IdleWindowS, res.MinimalWritesPerTenant, res.MinimalWrites = 0, 0, nil
		if err := runTenancy(ctx, o, &res); err != nil {
			return err
		}
		printTenancy(res)
	case "apicost":
		res.IdleWindowS, res.MinimalWritesPerTenant, res.MinimalWrites = 0, 0, nil
		if err := runAPICost(ctx, o, &res); err != nil {
			return err
		}
		printAPICost(res)
	case "memory":
		res.IdleWindowS, res.MinimalWritesPerTenant, res.MinimalWrites = 0, 0, nil
		if err := runMemory(ctx, o, &res); err != nil {
			return err
		}
		printMemory(res)
	default:
		return fmt.Errorf("unknown -mode %q (want empty, tenancy, apicost or memory)", o.mode)
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	logf("bench: results in %s", o.out)
	if !keep {
		_ = os.RemoveAll(o.workDir)
	}
	return nil
}

// runFull is the full benchmark: the baseline, then Landlord with idle,
// restart and the expiry burst.
func runFull(ctx context.Context, o options, res *results) error {
	if !o.skipRaw {
		logf("baseline: starting a control plane")
		cl, err := startCluster(ctx, filepath.Join(o.workDir, "baseline"))
		if err != nil {
			return err
		}
		raw, err := runBaseline(ctx, cl, o.n, o.writers)
		cl.Stop()
		if err != nil {
			return fmt.Errorf("baseline: %w (logs in %s)", err, o.workDir)
		}
		res.TRawS, res.RawWrites, res.RawRetries = raw.seconds, raw.writes, raw.retries
		res.RawWritesPerS = float64(raw.writes) / raw.seconds
		logf("baseline: %d tenants converged in %.1fs (%d writes, %d retried)", o.n, raw.seconds, raw.writes, raw.retries)
	}

	if err := runFullLandlord(ctx, o, "landlord", res); err != nil {
		return err
	}
	if o.compareManager != "" {
		c := o
		c.manager, c.managerArgs = o.compareManager, o.compareArgs
		res.Compare = &results{Tenants: o.n, Writers: o.writers, MinimalWritesPerTenant: res.MinimalWritesPerTenant,
			IdleWindowS: res.IdleWindowS, ManagerArgs: c.managerArgs, Date: time.Now().UTC().Format(time.RFC3339)}
		res.CompareManager = o.compareManager
		logf("landlord (%s): the second side", o.compareManager)
		if err := runFullLandlord(ctx, c, "compare", res.Compare); err != nil {
			return err
		}
		if res.TRawS > 0 {
			res.Compare.Efficiency = res.TRawS / res.Compare.TOpS
		}
	}
	return nil
}

// runFullLandlord runs one Landlord side of the full benchmark (o.manager)
// on a fresh control plane in workDir/dir, into res.
func runFullLandlord(ctx context.Context, o options, dir string, res *results) error {
	logf("landlord: starting a control plane")
	cl, err := startCluster(ctx, filepath.Join(o.workDir, dir))
	if err != nil {
		return err
	}
	ll, err := runLandlord(ctx, cl, o)
	cl.Stop()
	if err != nil {
		return fmt.Errorf("landlord: %w (logs in %s)", err, o.workDir)
	}
	res.TOpS = ll.seconds
	if res.TRawS > 0 {
		res.Efficiency = res.TRawS / res.TOpS
	}
	res.Writes, res.WritesBy = ll.writes, ll.writesBy
	res.WritesPerTenant = float64(ll.writes) / float64(o.n)
	events := 0
	for k, v := range ll.writesBy {
		if strings.HasSuffix(k, " events") {
			events += v
		}
	}
	res.EventWritesPerTenant = float64(events) / float64(o.n)
	res.IdleWrites, res.IdleWritesBy = ll.idleWrites, ll.idleBy
	res.RestartWrites, res.RestartWritesBy = ll.restartWrites, ll.restartBy
	res.RSSMiB, res.HeapMiB = ll.rssMiB, ll.heapMiB
	res.BurstSuspendedS, res.BurstScaledS, res.BurstWrites = ll.burstSuspended, ll.burstScaled, ll.burstWrites
	res.BurstWritesBy, res.BurstSuspensionWrites, res.BurstSuspensionWritesBy = ll.burstBy, ll.burstDeadlineWrites, ll.burstDeadlineBy
	res.BurstWritesPerSuspension = float64(ll.burstDeadlineWrites) / float64(o.n)
	res.BurstCPUS = ll.burstCPU
	return nil
}

func buildManager(out string) error {
	logf("bench: building the manager into %s", out)
	cmd := execCommand("go", "build", "-o", out, "./cmd/manager")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

func newTable() *tabwriter.Writer { return tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0) }

func printTable(r results) {
	w := newTable()
	row := func(name, value, target string) { fmt.Fprintf(w, "%s\t%s\t%s\n", name, value, target) }
	fmt.Fprintln(w, "measure\tvalue\ttarget")
	row("tenants", itoa(r.Tenants), "")
	row("T_raw (baseline, s)", fmt.Sprintf("%.1f", r.TRawS), fmt.Sprintf("%d writes, %.0f/s", r.RawWrites, r.RawWritesPerS))
	row("T_op (Landlord, s)", fmt.Sprintf("%.1f", r.TOpS), "")
	row("efficiency T_raw/T_op", fmt.Sprintf("%.2f", r.Efficiency), ">= 0.8")
	row("writes per tenant", fmt.Sprintf("%.2f (%.2f events)", r.WritesPerTenant, r.EventWritesPerTenant),
		fmt.Sprintf("<= %.1f (1.1 x minimal %d)", 1.1*float64(r.MinimalWritesPerTenant), r.MinimalWritesPerTenant))
	row(fmt.Sprintf("idle writes (%.0fs)", r.IdleWindowS), itoa(r.IdleWrites), "0")
	row("restart writes", itoa(r.RestartWrites), "0")
	row("manager peak RSS (MiB)", fmt.Sprintf("%.0f", r.RSSMiB), "<= 200 at 10k")
	row("manager peak Go heap in use (MiB)", fmt.Sprintf("%.0f", r.HeapMiB), "")
	if r.BurstWrites == 0 {
		row("burst", "not run (-skip-burst)", "")
	} else {
		row("burst: deadline -> all Suspended (s)", fmt.Sprintf("%.1f", r.BurstSuspendedS), "<= 10 at 1k")
		row("burst: deadline -> all scaled to 0 (s)", fmt.Sprintf("%.1f", r.BurstScaledS), "")
		row("burst: writes per suspension (from the deadline)", fmt.Sprintf("%.2f", r.BurstWritesPerSuspension), "")
		row("burst: CPU-s to all Suspended (cores busy)", describeCPU(r.BurstCPUS, r.BurstSuspendedS), "")
	}
	if c := r.Compare; c != nil {
		row("compare ("+r.CompareManager+"): T_op (s)", fmt.Sprintf("%.1f", c.TOpS), "")
		row("compare: writes per tenant", fmt.Sprintf("%.2f (%.2f events)", c.WritesPerTenant, c.EventWritesPerTenant), "")
		row("compare: idle / restart writes", itoa(c.IdleWrites)+" / "+itoa(c.RestartWrites), "")
		row("compare: burst -> all Suspended (s)", fmt.Sprintf("%.1f", c.BurstSuspendedS), "")
		row("compare: burst -> all scaled to 0 (s)", fmt.Sprintf("%.1f", c.BurstScaledS), "")
		row("compare: burst writes per suspension", fmt.Sprintf("%.2f", c.BurstWritesPerSuspension), "")
	}
	_ = w.Flush()
	fmt.Println("Landlord's writes by verb and resource:", describe(r.WritesBy))
	fmt.Println("burst writes from the deadline:", describe(r.BurstSuspensionWritesBy))
	if c := r.Compare; c != nil {
		fmt.Println("compare: writes by verb and resource:", describe(c.WritesBy))
		fmt.Println("compare: burst writes from the deadline:", describe(c.BurstSuspensionWritesBy))
	}
	if len(r.IdleWritesBy) > 0 {
		fmt.Println("idle writes:", describe(r.IdleWritesBy))
	}
	if len(r.RestartWritesBy) > 0 {
		fmt.Println("restart writes:", describe(r.RestartWritesBy))
	}
}

// describeCPU is each process's CPU seconds, largest first, their total and
// the cores that total kept busy over seconds.
func describeCPU(cpu map[string]float64, seconds float64) string {
	names := make([]string, 0, len(cpu))
	total := 0.0
	for name, s := range cpu {
		names = append(names, name)
		total += s
	}
	sort.Slice(names, func(i, j int) bool { return cpu[names[i]] > cpu[names[j]] })
	parts := make([]string, 0, len(names)+1)
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f", name, cpu[name]))
	}
	if seconds > 0 {
		parts = append(parts, fmt.Sprintf("total %.1f (%.2f cores)", total, total/seconds))
	}
	return strings.Join(parts, ", ")
}
