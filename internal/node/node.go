// Package node runs a real Kubernetes node on this machine for the local
// platform (make run-local) and the end-to-end tests (test/node): the
// kubelet built from the pinned Kubernetes module, Debian's containerd and
// runc, the CNI bridge, host-local, loopback and portmap plugins, and
// kube-router's network-policy controller (policy.go), which enforces
// NetworkPolicies on the packets crossing the node's bridge. Pods
// really run: their containers start from images built here and imported
// into the node's containerd (no registry), their files live in real
// volumes, the kubelet enforces their limits and serves logs, exec and
// port-forward.
//
// The node lives in namespaces of its own: a mount namespace (nothing it
// mounts is seen by the host; /run, /var/lib and /var/log are private
// tmpfs), a PID namespace (killing its first process kills every process of
// the node, containers included) and a network namespace whose only
// interfaces are loopback and the node's bridge, on a subnet of its own
// (DefaultNetwork). Pod addresses exist only in there; nothing is routed to
// or from the host, let alone outside the machine. Two links cross the
// boundary, both made here: the kubelet reaches the API server through a
// listener in the namespace that forwards to the API server's loopback
// address, and the API server reaches the kubelet and pods through an HTTP
// CONNECT proxy on a unix socket, its egress selector for the cluster
// (APIServerArgs). It needs root (namespaces, mounts, cgroups).
//
//	n, _ := node.New(node.Options{})
//	cp, _ := controlplane.Start(ctx, controlplane.Options{Scheduler: true, APIServerArgs: n.APIServerArgs()})
//	_ = n.Start(ctx, cp.Kubeconfig)
//	defer n.Stop()
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/landlord-dev/landlord/internal/controlplane"
)

// Name is the default node name.
const Name = "landlord-node"

// Options configure New.
type Options struct {
	// Name is the node's name; default Name.
	Name string
	// BinDir holds the kubelet, kube-router and cni/ (make node); default
	// controlplane.BinDir().
	BinDir string
	// StateDir holds everything of the node; empty means a temporary
	// directory. Stop removes it either way (it is the node's disk).
	StateDir string
	// Log receives the output of containerd and the kubelet; nil discards it.
	// It is also kept in StateDir/logs while the node runs.
	Log io.Writer
	// ReadyTimeout bounds Start's wait for a Ready node; default 3m.
	ReadyTimeout time.Duration
}

// Node is a node whose namespaces exist (New) and, after Start, whose
// containerd and kubelet run.
type Node struct {
	Name    string
	Network Network

	opts       Options
	layout     Layout
	init       *exec.Cmd
	initDone   chan error
	ns         *netns
	egress     *egressProxy
	apiFwd     net.Listener
	children   []*child
	logs       []*os.File
	cgroupRoot string
	volumes    *volumeFixer
	stopOnce   sync.Once
	stopErr    error
}

// Preflight says why a node cannot run here, or nil: it needs root, the
// kubelet, kube-router and CNI plugins in binDir (make node), containerd,
// runc, ctr, nsenter, ip, busybox, iptables and ipset on PATH (make node
// installs them with apt-get).
func Preflight(binDir string) error {
	if os.Geteuid() != 0 {
		return errors.New("a real node needs root (namespaces, mounts, cgroups)")
	}
	var missing []string
	for _, f := range []string{"kubelet", "kube-router", "cni/bridge", "cni/host-local", "cni/loopback", "cni/portmap"} {
		if _, err := os.Stat(filepath.Join(binDir, f)); err != nil {
			missing = append(missing, filepath.Join(binDir, f))
		}
	}
	for _, p := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "nsenter", "ip", "mount", "busybox", "iptables", "iptables-save", "iptables-restore", "ipset"} {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s (run 'make node')", strings.Join(missing, ", "))
	}
	return nil
}

// New creates the node's namespaces, its bridge and the egress proxy. Start
// the control plane with APIServerArgs, then call Start.
func New(opts Options) (_ *Node, err error) {
	if opts.Name == "" {
		opts.Name = Name
	}
	if opts.BinDir == "" {
		opts.BinDir = controlplane.BinDir()
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 3 * time.Minute
	}
	if err := Preflight(opts.BinDir); err != nil {
		return nil, err
	}
	binDir, err := filepath.Abs(opts.BinDir)
	if err != nil {
		return nil, err
	}
	opts.BinDir = binDir
	state := opts.StateDir
	if state == "" {
		if state, err = os.MkdirTemp("", "landlord-node-"); err != nil {
			return nil, err
		}
	}
	if state, err = filepath.Abs(state); err != nil {
		return nil, err
	}
	for _, private := range []string{"/run", "/var/lib", "/var/log"} {
		if state == private || strings.HasPrefix(state, private+"/") {
			return nil, fmt.Errorf("the node's state directory %s is under %s, which the node mounts over", state, private)
		}
	}
	n := &Node{Name: opts.Name, Network: DefaultNetwork, opts: opts, layout: Layout{State: state, CNIBin: filepath.Join(binDir, "cni")}}
	defer func() {
		if err != nil {
			_ = n.Stop()
		}
	}()
	for _, d := range []string{"logs", "cni/net.d", "cni/ipam", "containerd", "kubelet", "pod-logs", "volume-plugins", "images"} {
		if err := os.MkdirAll(n.layout.path(d), 0o700); err != nil {
			return nil, err
		}
	}

	ready := n.layout.path("namespaces-ready")
	n.init = exec.Command("/bin/sh", "-c", NamespaceScript(n.Network, ready))
	n.init.Stdout, n.init.Stderr = opts.Log, opts.Log
	n.init.SysProcAttr = &syscall.SysProcAttr{
		Pdeathsig:  syscall.SIGKILL,
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID,
	}
	// Pdeathsig fires when the creating OS thread exits; pin it while starting.
	runtime.LockOSThread()
	err = n.init.Start()
	runtime.UnlockOSThread()
	if err != nil {
		n.init = nil
		return nil, fmt.Errorf("creating the node's namespaces (needs root): %w", err)
	}
	n.initDone = make(chan error, 1)
	go func() { n.initDone <- n.init.Wait() }()
	if err := waitFor(10*time.Second, func() error {
		select {
		case err := <-n.initDone:
			n.initDone <- err
			return fmt.Errorf("the node's namespace script exited: %v", err)
		default:
		}
		_, err := os.Stat(ready)
		return err
	}); err != nil {
		return nil, err
	}
	if n.ns, err = openNetns(n.init.Process.Pid); err != nil {
		return nil, err
	}
	if n.egress, err = startEgressProxy(n.layout.EgressSocket(), n.ns, n.Network); err != nil {
		return nil, err
	}
	return n, nil
}

// APIServerArgs are the kube-apiserver flags the node needs: the egress
// selector (its way into the node's network namespace) and the node's
// InternalIP as the kubelet's address.
func (n *Node) APIServerArgs() map[string]string {
	path := n.layout.path("egress-selector.yaml")
	// Written here so that the flag never names a missing file.
	_ = os.WriteFile(path, []byte(EgressSelectorConfig(n.layout.EgressSocket())), 0o600)
	return map[string]string{
		"egress-selector-config-file":     path,
		"kubelet-preferred-address-types": "InternalIP",
	}
}

// Start starts containerd, imports Images, starts the kubelet with
// kubeconfig (a kubeconfig of the control plane, on loopback), waits until
// the node is registered, Ready and untainted, then starts kube-router's
// policy controller and waits until its chains filter the node's traffic.
func (n *Node) Start(ctx context.Context, kubeconfig []byte) error {
	kc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return fmt.Errorf("the node's kubeconfig: %w", err)
	}
	restCfg, err := clientcmd.NewDefaultClientConfig(*kc, nil).ClientConfig()
	if err != nil {
		return err
	}
	u, err := url.Parse(restCfg.Host)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() || u.Port() == "" {
		return fmt.Errorf("the API server %s is not on loopback with a port: the node reaches only the host's loopback", restCfg.Host)
	}
	if n.apiFwd, err = forwardInto(n.ns, u.Host); err != nil {
		return err
	}

	cgroupRoot, err := makeCgroupRoot("landlord-node-" + randomSuffix())
	n.cgroupRoot = cgroupRoot
	if err != nil {
		return err
	}
	files := map[string]string{
		"containerd.toml":                ContainerdConfig(n.layout),
		"cni/net.d/10-landlord.conflist": CNIConfig(n.layout, n.Network),
		"kubelet.yaml":                   KubeletConfig(n.layout, cgroupRoot),
		"kubelet.kubeconfig":             string(kubeconfig),
	}
	for name, data := range files {
		if err := os.WriteFile(n.layout.path(name), []byte(data), 0o600); err != nil {
			return err
		}
	}

	if err := n.spawn("containerd", "containerd", "--config", n.layout.path("containerd.toml")); err != nil {
		return err
	}
	if err := waitFor(30*time.Second, func() error { return n.ctr(ctx, "version") }); err != nil {
		return fmt.Errorf("containerd did not answer on %s: %w\n--- containerd:\n%s", n.layout.ContainerdSocket(), err, n.logTail("containerd"))
	}
	for _, img := range Images {
		archive, err := BuildArchive(ctx, controlplane.RepoRoot(), n.layout.path("images"), img)
		if err != nil {
			return err
		}
		if err := n.ctr(ctx, "-n", "k8s.io", "images", "import", archive); err != nil {
			return fmt.Errorf("importing %s: %w", img.Ref, err)
		}
	}

	if err := n.spawn("kubelet", filepath.Join(n.opts.BinDir, "kubelet"),
		"--config="+n.layout.path("kubelet.yaml"),
		"--kubeconfig="+n.layout.path("kubelet.kubeconfig"),
		"--root-dir="+n.layout.path("kubelet"),
		"--cert-dir="+n.layout.path("kubelet", "pki"),
		"--hostname-override="+n.Name,
		"--node-ip="+n.Network.NodeIP,
		"--v=1",
	); err != nil {
		return err
	}

	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	n.volumes = startVolumeFixer(cs)
	if err := n.waitReady(ctx, cs); err != nil {
		return err
	}
	return n.startPolicyController(ctx)
}

func (n *Node) waitReady(ctx context.Context, cs kubernetes.Interface) error {
	var last string
	err := waitFor(n.opts.ReadyTimeout, func() error {
		for _, c := range n.children {
			if c.exited() {
				last = c.name + " exited (see " + n.LogPath(c.name) + ")"
				return permanent{errors.New(last)}
			}
		}
		node, err := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return err
		}
		if len(node.Spec.Taints) > 0 {
			last = fmt.Sprintf("taints %v", node.Spec.Taints)
			return errors.New(last)
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				last = fmt.Sprintf("Ready=%s (%s: %s)", c.Status, c.Reason, c.Message)
				if c.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		return errors.New(last)
	})
	if err != nil {
		return fmt.Errorf("node %s not Ready and untainted (last: %s)\n--- containerd:\n%s\n--- kubelet:\n%s", n.Name, last, n.logTail("containerd"), n.logTail("kubelet"))
	}
	return nil
}

// ctr runs containerd's client against the node's containerd.
func (n *Node) ctr(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"--address", n.layout.ContainerdSocket()}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// spawn starts a process in the node's namespaces (nsenter), its output
// to StateDir/logs/<name>.log and Options.Log.
func (n *Node) spawn(name, path string, args ...string) error {
	f, err := os.Create(n.layout.path("logs", name+".log"))
	if err != nil {
		return err
	}
	n.logs = append(n.logs, f)
	pid := fmt.Sprint(n.init.Process.Pid)
	cmd := exec.Command("nsenter", append([]string{"--target", pid, "--mount", "--net", "--pid", "--", path}, args...)...)
	w := io.MultiWriter(f, n.opts.Log)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.Dir = n.layout.State
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread()
	err = cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		return fmt.Errorf("starting %s in the node's namespaces: %w", name, err)
	}
	c := &child{name: name, done: make(chan struct{})}
	n.children = append(n.children, c)
	go func() { _ = cmd.Wait(); close(c.done) }()
	return nil
}

// child is a process started by spawn; done closes when it has exited.
type child struct {
	name string
	done chan struct{}
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// LogPath is the log file of "containerd", "kubelet" or "kube-router"
// (removed by Stop).
func (n *Node) LogPath(name string) string { return n.layout.path("logs", name+".log") }

// logTail is the last lines of a process's log, for an error that Stop
// will outlive.
func (n *Node) logTail(name string) string {
	b, _ := os.ReadFile(n.LogPath(name))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// Stop kills every process of the node (its PID namespace's first process:
// the kernel kills the rest, containers included), which takes its mounts
// and network with it, then removes its cgroups, the host-path volumes its
// pods used and its state directory.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() { n.stopErr = n.stop() })
	return n.stopErr
}

func (n *Node) stop() error {
	var errs []error
	if n.volumes != nil {
		n.volumes.stop()
	}
	if n.init != nil && n.init.Process != nil {
		_ = n.init.Process.Kill()
		<-n.initDone
	}
	for _, c := range n.children {
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
		}
	}
	if n.egress != nil {
		n.egress.close()
	}
	if n.apiFwd != nil {
		_ = n.apiFwd.Close()
	}
	if n.ns != nil {
		n.ns.close()
	}
	for _, f := range n.logs {
		_ = f.Close()
	}
	if n.cgroupRoot != "" {
		errs = append(errs, removeCgroupRoot(n.cgroupRoot))
	}
	if n.volumes != nil {
		errs = append(errs, n.volumes.remove())
	}
	if n.layout.State != "" {
		errs = append(errs, os.RemoveAll(n.layout.State))
	}
	return errors.Join(errs...)
}

// permanent is an error waitFor returns at once.
type permanent struct{ error }

// waitFor polls f until it returns nil, a permanent error or timeout passes.
func waitFor(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
