// Package controlplane starts a real Kubernetes control plane on loopback from
// the binaries in bin/: envtest's etcd and kube-apiserver, with
// kube-controller-manager beside them so that garbage collection, namespace
// deletion and quota status are real. With Kwok, kube-scheduler and kwok run
// too, with one fake node, so that pods are scheduled and "run".
//
// The integration tests and the local platform (make cluster-up) share it.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// NodeName is the name of the kwok node of the local platform.
const NodeName = "kwok-node-0"

// Options configure Start.
type Options struct {
	// BinDir holds etcd, kube-apiserver, kube-controller-manager and, with
	// Kwok, kube-scheduler, kwok and kwok-stages.yaml. Default: BinDir().
	BinDir string
	// CRDPaths are directories or files of CRDs to install.
	CRDPaths []string
	// Kwok also starts kube-scheduler and kwok with one fake node.
	Kwok bool
	// Scheduler starts kube-scheduler and the node lifecycle controller
	// without kwok: for a real node (internal/node), which registers itself.
	Scheduler bool
	// StateDir keeps etcd data, certificates and the kubeconfig; empty means
	// temporary directories removed by Stop.
	StateDir string
	// VolumeProvisioner runs kube-controller-manager's volume binder with its
	// host-path provisioner and makes "standard" the default StorageClass, so
	// that PersistentVolumeClaims bind and pods using them are scheduled.
	VolumeProvisioner bool
	// Log receives the output of the child processes; nil discards it.
	Log io.Writer
	// APIServerArgs are extra kube-apiserver flags (name without "--" → value).
	APIServerArgs map[string]string
	// Controllers, when set, replaces kube-controller-manager's --controllers
	// (the benchmark's memory mode writes Deployment and volume status itself,
	// so no controller may rewrite them).
	Controllers string
}

// ControlPlane is a running control plane.
type ControlPlane struct {
	// Config is an admin (system:masters) client config.
	Config *rest.Config
	// Kubeconfig is the admin kubeconfig, also written to KubeconfigPath.
	Kubeconfig     []byte
	KubeconfigPath string

	env      *envtest.Environment
	children []*exec.Cmd
	tmpDir   string
}

// BinDir is where the control-plane binaries are: $LANDLORD_BIN_DIR, or the
// repository's bin/ found by walking up from the working directory.
func BinDir() string {
	if d := os.Getenv("LANDLORD_BIN_DIR"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), "bin")
}

// RepoRoot is the nearest directory above the working directory holding the
// Landlord go.mod (tests run in their package directory).
func RepoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytesHasModule(b) {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

func bytesHasModule(goMod []byte) bool {
	const want = "module github.com/landlord-dev/landlord\n"
	return len(goMod) >= len(want) && string(goMod[:len(want)]) == want
}

// Start starts the control plane and returns when the API server answers and
// the controller manager (and, with Kwok, a Ready node) is running.
func Start(ctx context.Context, opts Options) (_ *ControlPlane, err error) {
	if opts.BinDir == "" {
		opts.BinDir = BinDir()
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	cp := &ControlPlane{}
	defer func() {
		if err != nil {
			_ = cp.Stop()
		}
	}()

	state := opts.StateDir
	if state == "" {
		if cp.tmpDir, err = os.MkdirTemp("", "landlord-cp-"); err != nil {
			return nil, err
		}
		state = cp.tmpDir
	}
	for _, d := range []string{"etcd", "certs"} {
		if err := os.MkdirAll(filepath.Join(state, d), 0o700); err != nil {
			return nil, err
		}
	}

	cp.env = &envtest.Environment{
		BinaryAssetsDirectory:    opts.BinDir,
		CRDDirectoryPaths:        opts.CRDPaths,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cp.env.ControlPlane.Etcd = &envtest.Etcd{DataDir: filepath.Join(state, "etcd"), Out: opts.Log, Err: opts.Log}
	api := cp.env.ControlPlane.GetAPIServer()
	api.CertDir = filepath.Join(state, "certs")
	api.Out, api.Err = opts.Log, opts.Log
	// envtest's default service range is a /24: too small for a thousand sites.
	api.Configure().Set("service-cluster-ip-range", "10.96.0.0/16")
	for k, v := range opts.APIServerArgs {
		api.Configure().Set(k, v)
	}

	if _, err := cp.env.Start(); err != nil {
		return nil, fmt.Errorf("starting etcd and kube-apiserver from %s (run 'make control-plane'): %w", opts.BinDir, err)
	}
	admin, err := cp.env.AddUser(envtest.User{Name: "landlord-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding the admin user: %w", err)
	}
	cp.Config = rest.CopyConfig(admin.Config())
	cp.Config.QPS, cp.Config.Burst = 200, 400
	if cp.Kubeconfig, err = admin.KubeConfig(); err != nil {
		return nil, fmt.Errorf("writing the admin kubeconfig: %w", err)
	}
	cp.KubeconfigPath = filepath.Join(state, "kubeconfig")
	if err := os.WriteFile(cp.KubeconfigPath, cp.Kubeconfig, 0o600); err != nil {
		return nil, err
	}

	// pvc-protection removes the kubernetes.io/pvc-protection finalizer: without
	// it a namespace holding a PersistentVolumeClaim never finishes deleting.
	controllers := "garbagecollector,namespace,resourcequota,deployment,replicaset,serviceaccount,pvc-protection"
	if opts.Kwok || opts.Scheduler {
		// nodelifecycle removes the not-ready taint the API server puts on a new node.
		controllers += ",nodelifecycle"
	}
	kcmArgs := []string{}
	if opts.VolumeProvisioner {
		controllers += ",persistentvolume-binder,persistentvolume-expander"
		kcmArgs = append(kcmArgs, "--enable-hostpath-provisioner=true")
	}
	if opts.Controllers != "" {
		controllers = opts.Controllers
	}
	if err := cp.spawn(opts, "kube-controller-manager", append(kcmArgs,
		"--kubeconfig="+cp.KubeconfigPath,
		"--controllers="+controllers,
		"--leader-elect=false",
		"--secure-port=0",
		"--concurrent-gc-syncs=10",
		"--concurrent-namespace-syncs=5",
	)...); err != nil {
		return nil, err
	}
	if opts.VolumeProvisioner {
		if err := createStorageClass(ctx, cp.Config); err != nil {
			return nil, err
		}
	}

	if opts.Kwok || opts.Scheduler {
		if err := cp.spawn(opts, "kube-scheduler",
			"--kubeconfig="+cp.KubeconfigPath, "--leader-elect=false", "--secure-port=0"); err != nil {
			return nil, err
		}
	}
	if opts.Kwok {
		if err := cp.spawn(opts, "kwok",
			"--kubeconfig="+cp.KubeconfigPath,
			"--manage-all-nodes=true",
			"--config="+filepath.Join(opts.BinDir, "kwok-stages.yaml"),
			// kwok's default pod range is a /24: too small for a thousand sites.
			"--cidr=10.244.0.0/16",
		); err != nil {
			return nil, err
		}
		if err := createNode(ctx, cp.Config); err != nil {
			return nil, err
		}
	}
	return cp, nil
}

// spawn starts a child process that dies with this one.
func (cp *ControlPlane) spawn(opts Options, name string, args ...string) error {
	path := filepath.Join(opts.BinDir, name)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s not found in %s (run 'make control-plane'): %w", name, opts.BinDir, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// Pdeathsig fires when the creating OS thread exits; pin it while starting.
	runtime.LockOSThread()
	err := cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	cp.children = append(cp.children, cmd)
	return nil
}

// createNode registers the kwok node and waits until it is Ready and untainted.
func createNode(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux"},
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
		},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("1000"),
				corev1.ResourceMemory: resource.MustParse("4Ti"),
				corev1.ResourcePods:   resource.MustParse("100000"),
				// As a kubelet reports it: pods that request ephemeral
				// storage (every tenant pod: the quota counts it) fit.
				corev1.ResourceEphemeralStorage: resource.MustParse("100Ti"),
			},
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("1000"),
				corev1.ResourceMemory: resource.MustParse("4Ti"),
				corev1.ResourcePods:   resource.MustParse("100000"),
				// As a kubelet reports it: pods that request ephemeral
				// storage (every tenant pod: the quota counts it) fit.
				corev1.ResourceEphemeralStorage: resource.MustParse("100Ti"),
			},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the kwok node: %w", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err == nil && nodeReady(n) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("the kwok node did not become Ready and untainted within 2 minutes")
}

// createStorageClass makes the host-path provisioner the default, with
// expansion allowed (Landlord grows site volumes).
func createStorageClass(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	sc := &storagev1.StorageClass{
		ObjectMeta:           metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner:          "kubernetes.io/host-path",
		AllowVolumeExpansion: ptr.To(true),
	}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the default StorageClass: %w", err)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	if len(n.Spec.Taints) > 0 {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// AddUser returns a client config authenticating as a new user in groups.
func (cp *ControlPlane) AddUser(name string, groups ...string) (*rest.Config, []byte, error) {
	u, err := cp.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, nil, err
	}
	kc, err := u.KubeConfig()
	if err != nil {
		return nil, nil, err
	}
	return u.Config(), kc, nil
}

// Stop stops the child processes, then kube-apiserver and etcd, and removes
// temporary state.
func (cp *ControlPlane) Stop() error {
	var errs []error
	for i := len(cp.children) - 1; i >= 0; i-- {
		c := cp.children[i]
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
	cp.children = nil
	if cp.env != nil {
		if err := cp.env.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if cp.tmpDir != "" {
		errs = append(errs, os.RemoveAll(cp.tmpDir))
	}
	return errors.Join(errs...)
}
