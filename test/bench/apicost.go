package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/tenancy"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// apiCostResults are the figures of -mode apicost: what one request of each
// kind costs the API server and etcd, in CPU.
type apiCostResults struct {
	Ops         int          `json:"ops"`
	Rounds      int          `json:"rounds"`
	Concurrency int          `json:"concurrency"`
	Rows        []apiCostRow `json:"rows"`
	// Idle CPU seconds per second of kube-apiserver and etcd at rest,
	// subtracted from every row.
	APIServerIdleCPUPerS float64 `json:"apiserver_idle_cpu_per_s"`
	EtcdIdleCPUPerS      float64 `json:"etcd_idle_cpu_per_s"`
}

type apiCostRow struct {
	Op       string  `json:"op"`
	WallS    float64 `json:"wall_s"`
	APIMS    float64 `json:"apiserver_cpu_ms_per_op"`
	EtcdMS   float64 `json:"etcd_cpu_ms_per_op"`
	VsCreate float64 `json:"apiserver_vs_create"` // APIMS / the same resource's create
	// APIRoundsMS are the rounds' kube-apiserver figures (APIMS is their median).
	APIRoundsMS []float64 `json:"apiserver_cpu_ms_per_op_rounds"`
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

const costNamespace = "apicost"

// runAPICost is -mode apicost: on a fresh control plane without pods, as
// Landlord's identity (audited, as in the other modes), -n requests of each
// kind with -writers concurrent clients, one kind after the other; the CPU
// seconds kube-apiserver and etcd spent meanwhile, less their rate at rest.
func runAPICost(ctx context.Context, o options, res *results) error {
	cl, err := startClusterWith(ctx, filepath.Join(o.workDir, "apicost"), false)
	if err != nil {
		return err
	}
	defer cl.Stop()
	cfg, _, err := cl.cp.AddUser(managerUser, "system:masters", platform.ManagerGroup)
	if err != nil {
		return err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return err
	}
	meter, err := cl.cpuMeter()
	if err != nil {
		return err
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: costNamespace}}); err != nil {
		return err
	}
	owner := newAccount(platform.Default(), "cost", 0)
	if err := c.Create(ctx, owner); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	before := meter.sample()
	time.Sleep(5 * time.Second)
	idle := meter.sample().sub(before)
	ar := &apiCostResults{Ops: o.n, Rounds: o.rounds, Concurrency: o.writers,
		APIServerIdleCPUPerS: idle.apiserver / 5, EtcdIdleCPUPerS: idle.etcd / 5}

	round := 0 // names of this round's objects
	measure := func(name string, f func(ctx context.Context, i int) error) (apiCostRow, error) {
		time.Sleep(time.Second) // let the previous kind's trailing work (watchers, GC) pass
		start, cpu0 := time.Now(), meter.sample()
		if err := parallel(ctx, o.n, o.writers, f); err != nil {
			return apiCostRow{}, fmt.Errorf("%s: %w", name, err)
		}
		wall := time.Since(start).Seconds()
		d := meter.sample().sub(cpu0)
		row := apiCostRow{Op: name, WallS: wall,
			APIMS:  max(0, d.apiserver-ar.APIServerIdleCPUPerS*wall) * 1000 / float64(o.n),
			EtcdMS: max(0, d.etcd-ar.EtcdIdleCPUPerS*wall) * 1000 / float64(o.n)}
		logf("apicost: round %d: %-40s %6.2f ms apiserver, %6.2f ms etcd per op (%.1fs)", round+1, name, row.APIMS, row.EtcdMS, wall)
		return row, nil
	}
	apply := func(ctx context.Context, obj client.Object) error {
		return c.Patch(ctx, obj, client.Apply, client.FieldOwner(platform.FieldManager), client.ForceOwnership)
	}
	merge := func(ctx context.Context, obj client.Object, patch string) error {
		return c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch)))
	}

	// ConfigMaps: the smallest object, the request path's own cost.
	cm := func(name, value string) *unstructured.Unstructured {
		u, _ := kernel.ApplyForm(c.Scheme(), corev1ac.ConfigMap(name, costNamespace).
			WithLabels(platform.AccountLabels("cost00000")).WithData(map[string]string{"key": value}))
		return u
	}
	cmName := func(kind string, i int) string { return fmt.Sprintf("%s%d-%05d", kind, round, i) }
	// NetworkPolicies: the account controller's, from its builder, renamed.
	np := func(name string, egress bool) *unstructured.Unstructured {
		pc := platform.Default()
		if egress {
			pc.TenantEgress = platform.TenantEgressInternet
		}
		u, _ := kernel.ApplyForm(c.Scheme(), tenancy.BuildNetworkPolicy(owner, pc).WithName(name).WithNamespace(costNamespace))
		return u
	}
	// The Accounts as read (unmeasured) before their status updates.
	accounts := map[string]*v1.Account{}
	readAccounts := func() error {
		var list v1.AccountList
		if err := c.List(ctx, &list); err != nil {
			return err
		}
		for i := range list.Items {
			accounts[list.Items[i].Name] = &list.Items[i]
		}
		return nil
	}
	steps := []struct {
		name    string
		f       func(ctx context.Context, i int) error
		prepare func() error
	}{
		{name: "configmaps: create", f: func(ctx context.Context, i int) error {
			return c.Create(ctx, cm(cmName("c", i), "1"), client.FieldOwner(platform.FieldManager))
		}},
		{name: "configmaps: apply that creates", f: func(ctx context.Context, i int) error { return apply(ctx, cm(cmName("s", i), "1")) }},
		{name: "configmaps: apply, no change", f: func(ctx context.Context, i int) error { return apply(ctx, cm(cmName("s", i), "1")) }},
		{name: "configmaps: apply that changes", f: func(ctx context.Context, i int) error { return apply(ctx, cm(cmName("s", i), "2")) }},
		{name: "configmaps: merge patch that changes", f: func(ctx context.Context, i int) error {
			return merge(ctx, cm(cmName("c", i), ""), `{"data":{"key":"2"}}`)
		}},
		{name: "configmaps: merge patch, no change", f: func(ctx context.Context, i int) error {
			return merge(ctx, cm(cmName("c", i), ""), `{"data":{"key":"2"}}`)
		}},
		{name: "configmaps: get (uncached)", f: func(ctx context.Context, i int) error {
			return c.Get(ctx, client.ObjectKey{Namespace: costNamespace, Name: cmName("c", i)}, &corev1.ConfigMap{})
		}},
		{name: "networkpolicies: create", f: func(ctx context.Context, i int) error {
			return c.Create(ctx, np(cmName("c", i), false), client.FieldOwner(platform.FieldManager))
		}},
		{name: "networkpolicies: apply that creates", f: func(ctx context.Context, i int) error { return apply(ctx, np(cmName("s", i), false)) }},
		{name: "networkpolicies: apply, no change", f: func(ctx context.Context, i int) error { return apply(ctx, np(cmName("s", i), false)) }},
		{name: "networkpolicies: apply that changes", f: func(ctx context.Context, i int) error { return apply(ctx, np(cmName("s", i), true)) }},
		{name: "networkpolicies: merge patch that changes", f: func(ctx context.Context, i int) error {
			return merge(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: cmName("c", i), Namespace: costNamespace}},
				`{"metadata":{"labels":{"bench":"2"}}}`)
		}},
		{name: "accounts: create", f: func(ctx context.Context, i int) error {
			return c.Create(ctx, newAccount(platform.Default(), fmt.Sprintf("c%d-", round), i))
		}},
		{name: "accounts: status merge patch (Landlord's status write)", f: func(ctx context.Context, i int) error {
			a := &v1.Account{}
			a.Name = newAccount(platform.Default(), fmt.Sprintf("c%d-", round), i).Name
			a.Status = accountStatus(platform.Default(), a, time.Now())
			st, err := statusPatch(a)
			if err != nil {
				return err
			}
			return c.Status().Patch(ctx, a, client.RawPatch(types.MergePatchType, st))
		}},
		{name: "accounts: status update", f: func(ctx context.Context, i int) error {
			a := accounts[newAccount(platform.Default(), fmt.Sprintf("c%d-", round), i).Name]
			a.Status.Members = 1
			return c.Status().Update(ctx, a)
		}, prepare: readAccounts},
	}
	// Each round runs every kind once, on objects of its own; a kind's
	// figure is its median over the rounds.
	samples := make([][]apiCostRow, len(steps))
	for round = 0; round < o.rounds; round++ {
		for i, s := range steps {
			if s.prepare != nil {
				if err := s.prepare(); err != nil {
					return err
				}
			}
			row, err := measure(s.name, s.f)
			if err != nil {
				return err
			}
			samples[i] = append(samples[i], row)
		}
	}
	creates := map[string]float64{}
	for i, s := range steps {
		row := apiCostRow{Op: s.name}
		for _, r := range samples[i] {
			row.WallS += r.WallS
			row.APIRoundsMS = append(row.APIRoundsMS, r.APIMS)
		}
		row.APIMS = median(row.APIRoundsMS)
		row.EtcdMS = median(func() []float64 {
			var e []float64
			for _, r := range samples[i] {
				e = append(e, r.EtcdMS)
			}
			return e
		}())
		resource, verb, _ := strings.Cut(s.name, ": ")
		if verb == "create" {
			creates[resource] = row.APIMS
		}
		if cr := creates[resource]; cr > 0 {
			row.VsCreate = row.APIMS / cr
		}
		ar.Rows = append(ar.Rows, row)
	}
	res.APICost = ar
	return nil
}

// statusPatch is a merge patch that sets a's whole status.
func statusPatch(a *v1.Account) ([]byte, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(a)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"status": u["status"]})
}

func printAPICost(r results) {
	a := r.APICost
	w := newTable()
	fmt.Fprintf(w, "API server cost per request: %d requests of each kind per round, %d rounds (median), %d concurrent clients, idle rate subtracted\n", a.Ops, a.Rounds, a.Concurrency)
	fmt.Fprintln(w, "request\tkube-apiserver CPU ms/op\t(rounds)\tetcd CPU ms/op\tapiserver vs create\twall (s)")
	for _, row := range a.Rows {
		vs := ""
		if row.VsCreate > 0 {
			vs = fmt.Sprintf("%.2f", row.VsCreate)
		}
		var rounds []string
		for _, r := range row.APIRoundsMS {
			rounds = append(rounds, fmt.Sprintf("%.2f", r))
		}
		fmt.Fprintf(w, "%s\t%.2f\t%s\t%.2f\t%s\t%.1f\n", row.Op, row.APIMS, strings.Join(rounds, " "), row.EtcdMS, vs, row.WallS)
	}
	_ = w.Flush()
}
