// Package upgrade upgrades Landlord from the previous release to this tree
// with tenants of every kind in every phase, and checks that the upgrade
// keeps them: nothing deleted, every object in the same phase, no site's
// Deployment rolled, and no object written by Landlord more than once (and
// none at all unless its stored form changed).
//
// `make test-upgrade` builds the previous release's manager and install
// manifests from its recorded commit (CHANGELOG.md, else the commit before
// the release work) and this tree's, and sets LANDLORD_UPGRADE_DIR. The
// managers (old/manager and new/manager: the same binary name, as in the
// image) run as processes against a real control plane with kwok, as in
// make run-local, with cluster-admin credentials.
package upgrade

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/landlord-dev/landlord/internal/controlplane"
	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/testenv"
)

const (
	group = "hosting.landlord.dev"
	// accountLabel is on every object Landlord creates.
	accountLabel = "hosting.landlord.dev/account"
	// unpublished hostnames get no TXT record.
	unpublishedSuffix = ".no-record.example"
)

// untracked are resources written by Kubernetes itself for Landlord's
// objects (pods of a site's Deployment, and the like), not by Landlord.
var untracked = map[string]bool{
	"pods": true, "replicasets": true, "controllerrevisions": true, "events": true,
	"endpoints": true, "endpointslices": true, "leases": true,
}

func TestUpgradeKeepsEveryTenant(t *testing.T) {
	dir := os.Getenv("LANDLORD_UPGRADE_DIR")
	if dir == "" {
		t.Skip("LANDLORD_UPGRADE_DIR is not set: run `make test-upgrade`")
	}
	from, _ := os.ReadFile(filepath.Join(dir, "from"))
	t.Logf("upgrading from %s", bytes.TrimSpace(from))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	gw, err := testenv.GatewayAPICRDs()
	if err != nil {
		t.Fatal(err)
	}
	cp, err := controlplane.Start(ctx, controlplane.Options{Kwok: true, VolumeProvisioner: true, CRDPaths: gw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	cs := kubernetes.NewForConfigOrDie(cp.Config)
	for _, ns := range []string{"landlord-system", "landlord-gateway"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	k := kubectl{path: filepath.Join(controlplane.BinDir(), "kubectl"), kubeconfig: cp.KubeconfigPath}

	dns, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	reader, err := client.New(cp.Config, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	go dns.Publish(ctx, reader, 200*time.Millisecond, func(h string) bool { return !strings.HasSuffix(h, unpublishedSuffix) }, nil)

	// The previous release, and its tenants.
	k.applyFile(t, filepath.Join(dir, "install-old.yaml"))
	k.run(t, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
	old := startManager(t, filepath.Join(dir, "old", "manager"), cp.KubeconfigPath, dns.Addr())
	// Until the API server has loaded the new CRDs' schemas for the
	// finalizer policy, it answers creates of Landlord's kinds with 503.
	eventually(t, 2*time.Minute, func() error { return k.tryApply(tenants) })
	eventually(t, 2*time.Minute, func() error { return k.tryApply(accountObjects) })
	eventually(t, 2*time.Minute, func() error { return k.tryApply(siteObjects) })

	dyn := dynamic.NewForConfigOrDie(cp.Config)
	tracked := trackedResources(t, cs.Discovery())
	eventually(t, 4*time.Minute, func() error { return phasesAre(ctx, dyn, wantPhases) })
	before := settle(t, ctx, dyn, tracked, 10*time.Second, 3*time.Minute)
	t.Logf("previous release settled: %d objects: %s", len(before.objects), before.summary())

	// The upgrade: stop the old manager, apply this tree's CRDs, RBAC and
	// admission policies, start this tree's manager. Every write from here on
	// is counted.
	w := watchAll(t, ctx, dyn, tracked, before)
	old.stop(t)
	k.applyFile(t, filepath.Join(dir, "install-new.yaml"))
	k.run(t, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
	upgraded := startManager(t, filepath.Join(dir, "new", "manager"), cp.KubeconfigPath, dns.Addr())
	counts := map[string]int{}
	for kind, n := range before.countByKind() {
		counts[strings.ToLower(kind)] = n
	}
	eventually(t, 3*time.Minute, func() error { return upgraded.reconciledAll(counts) })
	after := settle(t, ctx, dyn, tracked, 15*time.Second, 3*time.Minute)
	writes := w.stop()
	t.Logf("upgrade: %d events, %d of them Landlord's writes", w.events, sum(writes))
	upgraded.stop(t)

	// Nothing deleted.
	for key, o := range before.objects {
		a, ok := after.objects[key]
		if !ok {
			t.Errorf("%s was deleted by the upgrade", key)
			continue
		}
		if a.GetUID() != o.GetUID() {
			t.Errorf("%s was replaced by the upgrade (uid %s → %s)", key, o.GetUID(), a.GetUID())
		}
	}
	for key := range after.objects {
		if _, ok := before.objects[key]; !ok {
			t.Logf("%s is new after the upgrade", key)
		}
	}
	// Every object in the same phase.
	if err := phasesAre(ctx, dyn, wantPhases); err != nil {
		t.Errorf("after the upgrade: %v", err)
	}
	for key, o := range before.objects {
		p, _, _ := unstructured.NestedString(o.Object, "status", "phase")
		a := after.objects[key]
		if a == nil {
			continue
		}
		if q, _, _ := unstructured.NestedString(a.Object, "status", "phase"); p != q {
			t.Errorf("%s: phase %q before the upgrade, %q after", key, p, q)
		}
	}
	// No site rolled: no Deployment's pod template may change. This holds
	// while this tree builds the same pod spec as the previous release; a
	// release that changes the pod spec on purpose has to relax this check
	// for what it changes.
	for key, o := range before.objects {
		if o.GetKind() != "Deployment" || after.objects[key] == nil {
			continue
		}
		tb, _, _ := unstructured.NestedMap(o.Object, "spec", "template")
		ta, _, _ := unstructured.NestedMap(after.objects[key].Object, "spec", "template")
		if !reflect.DeepEqual(tb, ta) {
			t.Errorf("%s: pod template changed, the site rolled", key)
		}
	}
	// At most one write per object whose stored form changed, none otherwise.
	for key, n := range writes {
		changed := before.objects[key] == nil || after.objects[key] == nil || !sameStored(before.objects[key], after.objects[key])
		switch {
		case !changed && n > 0:
			t.Errorf("%s: written %d times during the upgrade, but its stored form is unchanged", key, n)
		case n > 1:
			t.Errorf("%s: written %d times during the upgrade, want at most once", key, n)
		}
	}
}

func sum(m map[string]int) int {
	var n int
	for _, v := range m {
		n += v
	}
	return n
}

// sameStored compares two versions of an object without the fields every
// write changes.
func sameStored(a, b *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy()
		c.SetResourceVersion("")
		c.SetManagedFields(nil)
		return c.Object
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(time.Second)
	}
}

// phasesAre checks status.phase of Landlord's objects against want.
func phasesAre(ctx context.Context, dyn dynamic.Interface, want map[string]string) error {
	var wrong []string
	for key, phase := range want {
		kind, rest, _ := strings.Cut(key, "/")
		ns, name, _ := strings.Cut(rest, "/")
		gvr := schema.GroupVersionResource{Group: group, Version: "v1alpha1", Resource: strings.ToLower(kind) + "s"}
		o, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		got, _, _ := unstructured.NestedString(o.Object, "status", "phase")
		if got != phase {
			wrong = append(wrong, fmt.Sprintf("%s is %q, want %q", key, got, phase))
		}
	}
	sort.Strings(wrong)
	if len(wrong) > 0 {
		return fmt.Errorf("%s", strings.Join(wrong, "; "))
	}
	return nil
}

// resource is one listable, watchable resource and the selector that finds
// what Landlord wrote of it.
type resource struct {
	gvr      schema.GroupVersionResource
	selector string
}

// trackedResources: every Landlord kind (all objects), and every other
// resource Landlord writes (objects with its account label).
func trackedResources(t *testing.T, d discovery.DiscoveryInterface) []resource {
	t.Helper()
	lists, err := d.ServerPreferredResources()
	if err != nil {
		t.Fatal(err)
	}
	var out []resource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l.APIResources {
			verbs := strings.Join(r.Verbs, ",")
			if strings.Contains(r.Name, "/") || untracked[r.Name] || !strings.Contains(verbs, "list") || !strings.Contains(verbs, "watch") {
				continue
			}
			if gv.Group == "apiextensions.k8s.io" {
				continue // the upgrade itself
			}
			res := resource{gvr: gv.WithResource(r.Name)}
			if gv.Group != group {
				res.selector = accountLabel
			}
			out = append(out, res)
		}
	}
	return out
}

type snapshot struct {
	objects map[string]*unstructured.Unstructured
	// listRV is the resourceVersion of each resource's list.
	listRV map[schema.GroupVersionResource]string
}

func objKey(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

func (s snapshot) countByKind() map[string]int {
	n := map[string]int{}
	for _, o := range s.objects {
		if o.GroupVersionKind().Group == group {
			n[o.GetKind()]++
		}
	}
	return n
}

// summary counts the objects by kind, e.g. "Deployment=9 Namespace=11".
func (s snapshot) summary() string {
	n := map[string]int{}
	for _, o := range s.objects {
		n[o.GetKind()]++
	}
	var parts []string
	for k, c := range n {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func take(ctx context.Context, dyn dynamic.Interface, tracked []resource) (snapshot, error) {
	s := snapshot{objects: map[string]*unstructured.Unstructured{}, listRV: map[schema.GroupVersionResource]string{}}
	for _, r := range tracked {
		l, err := dyn.Resource(r.gvr).List(ctx, metav1.ListOptions{LabelSelector: r.selector})
		if err != nil {
			return s, fmt.Errorf("listing %s: %w", r.gvr, err)
		}
		s.listRV[r.gvr] = l.GetResourceVersion()
		for i := range l.Items {
			o := &l.Items[i]
			s.objects[objKey(o)] = o
		}
	}
	return s, nil
}

// settle waits until no tracked object changes for quiet, and returns them.
func settle(t *testing.T, ctx context.Context, dyn dynamic.Interface, tracked []resource, quiet, timeout time.Duration) snapshot {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last map[string]string
	stableSince := time.Now()
	for {
		s, err := take(ctx, dyn, tracked)
		if err != nil {
			t.Fatal(err)
		}
		rvs := map[string]string{}
		for k, o := range s.objects {
			rvs[k] = o.GetResourceVersion()
		}
		if !reflect.DeepEqual(rvs, last) {
			last, stableSince = rvs, time.Now()
		} else if time.Since(stableSince) >= quiet {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("objects still changing after %s", timeout)
		}
		time.Sleep(time.Second)
	}
}

// watcher counts Landlord's writes to each tracked object. An event is
// Landlord's write when Landlord's managedFields entries (managers "landlord*",
// or "manager", the binary's name, for its status updates) differ from the
// previous version's; writes of Kubernetes' own controllers (status of a
// Deployment, a quota's usage) are not counted. Two writes of Landlord within
// one second that touch the same fields count as one (managedFields times
// have a resolution of one second).
type watcher struct {
	mu       sync.Mutex
	last     map[string]*unstructured.Unstructured
	writes   map[string]int
	events   int
	watches  []watch.Interface
	wg       sync.WaitGroup
	failures []string
}

func watchAll(t *testing.T, ctx context.Context, dyn dynamic.Interface, tracked []resource, from snapshot) *watcher {
	t.Helper()
	w := &watcher{writes: map[string]int{}, last: map[string]*unstructured.Unstructured{}}
	for k, o := range from.objects {
		w.last[k] = o
	}
	for _, r := range tracked {
		wi, err := dyn.Resource(r.gvr).Watch(ctx, metav1.ListOptions{LabelSelector: r.selector, ResourceVersion: from.listRV[r.gvr]})
		if err != nil {
			t.Fatalf("watching %s: %v", r.gvr, err)
		}
		w.watches = append(w.watches, wi)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for ev := range wi.ResultChan() {
				o, ok := ev.Object.(*unstructured.Unstructured)
				if !ok || ev.Type == watch.Bookmark {
					continue
				}
				w.mu.Lock()
				if ev.Type == watch.Error {
					w.failures = append(w.failures, fmt.Sprintf("%s: %v", r.gvr, o.Object))
				} else {
					key := objKey(o)
					w.events++
					if prev := w.last[key]; prev == nil || !reflect.DeepEqual(landlordFields(prev), landlordFields(o)) {
						w.writes[key]++
					}
					w.last[key] = o
				}
				w.mu.Unlock()
			}
		}()
	}
	t.Cleanup(func() {
		if len(w.failures) > 0 {
			t.Errorf("watch errors (writes may be missed): %v", w.failures)
		}
	})
	return w
}

// landlordFields are the managedFields entries of Landlord's managers.
func landlordFields(u *unstructured.Unstructured) []metav1.ManagedFieldsEntry {
	var out []metav1.ManagedFieldsEntry
	for _, e := range u.GetManagedFields() {
		if strings.HasPrefix(e.Manager, "landlord") || e.Manager == "manager" {
			out = append(out, e)
		}
	}
	return out
}

func (w *watcher) stop() map[string]int {
	for _, wi := range w.watches {
		wi.Stop()
	}
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

type kubectl struct{ path, kubeconfig string }

func (k kubectl) run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(k.path, append([]string{"--kubeconfig", k.kubeconfig}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (k kubectl) applyFile(t *testing.T, file string) {
	t.Helper()
	k.run(t, "apply", "--server-side", "--force-conflicts", "-f", file)
}

func (k kubectl) tryApply(manifest string) error {
	cmd := exec.Command(k.path, "--kubeconfig", k.kubeconfig, "apply", "--server-side", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubectl apply: %v\n%s", err, out)
	}
	return nil
}

// manager is a manager binary running as a process, as in make run-local.
type manager struct {
	cmd     *exec.Cmd
	metrics string
	log     *os.File
	done    chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startManager(t *testing.T, bin, kubeconfig, dnsAddr string) *manager {
	t.Helper()
	name := filepath.Base(filepath.Dir(bin))
	log, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	m := &manager{metrics: freeAddr(t), log: log, done: make(chan error, 1)}
	m.cmd = exec.Command(bin, "--kubeconfig", kubeconfig,
		"--dns-server", dnsAddr,
		"--metrics-bind-address", m.metrics,
		"--health-probe-bind-address", freeAddr(t),
		"--suspended-page-bind-address", "0",
		// The tenants' dates are fixed: a terminated site must not wait the
		// default 24 h of observed suspension (both managers have the flag).
		"--termination-floor", "0s")
	m.cmd.Stdout, m.cmd.Stderr = log, log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.done <- m.cmd.Wait() }()
	t.Cleanup(func() {
		if m.cmd.ProcessState == nil {
			_ = m.cmd.Process.Kill()
		}
		if t.Failed() {
			data, _ := os.ReadFile(log.Name())
			if len(data) > 20000 {
				data = data[len(data)-20000:]
			}
			t.Logf("log of the %s manager (tail):\n%s", name, data)
		}
	})
	return m
}

// stop sends SIGTERM, as a rolling update does, and waits for the exit.
func (m *manager) stop(t *testing.T) {
	t.Helper()
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not stop within a minute of SIGTERM", m.cmd.Path)
	}
}

var metricLine = regexp.MustCompile(`^(controller_runtime_reconcile_total|workqueue_depth)\{([^}]*)\} ([0-9.e+]+)$`)

// reconciledAll is nil once each controller has reconciled at least as many
// times as there are objects of its kind, and its queue is empty.
func (m *manager) reconciledAll(counts map[string]int) error {
	resp, err := http.Get("http://" + m.metrics + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	reconciled, depth := map[string]float64{}, map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		mm := metricLine.FindStringSubmatch(line)
		if mm == nil {
			continue
		}
		v, _ := strconv.ParseFloat(mm[3], 64)
		ctrl := regexp.MustCompile(`(?:controller|name)="([^"]*)"`).FindStringSubmatch(mm[2])
		if ctrl == nil {
			continue
		}
		if mm[1] == "workqueue_depth" {
			depth[ctrl[1]] += v
		} else if strings.Contains(mm[2], `result="success"`) || strings.Contains(mm[2], `result="requeue`) {
			reconciled[ctrl[1]] += v
		}
	}
	for _, c := range []string{"account", "membership", "subscription", "customdomain"} {
		if reconciled[c] < float64(counts[c]) || depth[c] != 0 {
			return fmt.Errorf("controller %s: %v reconciles of %d objects, queue depth %v", c, reconciled[c], counts[c], depth[c])
		}
	}
	return nil
}
