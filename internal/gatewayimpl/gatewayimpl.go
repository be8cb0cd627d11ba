// Package gatewayimpl runs Envoy Gateway's controller — a real Gateway API
// implementation — out of cluster against a control plane on this machine,
// so that the local platform (make run-local) and test/gateway see the
// status a real implementation writes on Landlord's Gateways and routes.
//
// Envoy Gateway expects to run in a Pod: it reads its TLS files from the
// fixed path /certs, keeps a Wasm cache in /var/lib/eg and listens on
// 0.0.0.0 (xDS 18000, Wasm 18002) and :8081 (health), none of which its
// configuration can change. So the server runs in a private mount namespace
// (a tmpfs root holding bind mounts of the host's top-level directories,
// plus /certs and /var/lib from this package's state directory) and a
// private network namespace whose only interface is loopback. Nothing it
// listens on is reachable from the host, nothing clashes with the host's
// ports, and nothing on the host is written. It reaches the API server
// through a forwarder: 127.0.0.1:<port> inside its namespace to the API
// server's address outside. This needs root (CAP_SYS_ADMIN), as it has here.
//
// The Envoy proxies it creates are Deployments on the kwok node: they never
// serve traffic, and Gateways stay Programmed=False (AddressNotAssigned).
// What it does check is everything a real implementation decides from the
// objects: Accepted, ResolvedRefs, listener and ListenerSet status.
package gatewayimpl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/landlord-dev/landlord/internal/controlplane"
)

const (
	// Version is the Envoy Gateway release built into bin/ (the Makefile's
	// ENVOY_GATEWAY_VERSION, hack/envoy-gateway/go.mod).
	Version = "v1.9.1"
	// Module is Envoy Gateway's Go module; its CRDs ship in it.
	Module = "github.com/envoyproxy/gateway"
	// Namespace is Envoy Gateway's own namespace (its Secrets, the proxies).
	Namespace = "envoy-gateway-system"
	// ControllerName is the GatewayClass controllerName Envoy Gateway serves.
	ControllerName = "gateway.envoyproxy.io/gatewayclass-controller"
	// GatewayAPIVersion is the version of the Gateway API CRDs installed
	// with it: Landlord's pin (go.mod), every standard-channel CRD.
	GatewayAPIVersion = "v1.5.0"

	// healthAddr is the health probe listener, inside the private network
	// namespace (127.0.0.1 by the Makefile's -X; :8081 in Envoy Gateway).
	healthAddr = "127.0.0.1:8081"
	// adminPort is Envoy Gateway's admin server, inside the namespace.
	adminPort = 19000
)

// Binary is the path of the envoy-gateway binary the Makefile builds.
func Binary(binDir string) string {
	return filepath.Join(binDir, "envoy-gateway-"+Version)
}

// Options configure Start.
type Options struct {
	// Binary is the envoy-gateway binary; default Binary(controlplane.BinDir()).
	Binary string
	// Kubeconfig is an admin (system:masters) kubeconfig file of the control plane.
	Kubeconfig string
	// StateDir holds the configuration, certificates and the private root;
	// empty means a temporary directory removed by Stop.
	StateDir string
	// Log receives Envoy Gateway's output; nil discards it.
	Log io.Writer
	// ReadyTimeout bounds the wait for the server's readiness; default 2m.
	ReadyTimeout time.Duration
}

// EnvoyGateway is a running Envoy Gateway controller.
type EnvoyGateway struct {
	cmd    *exec.Cmd
	done   chan error
	bridge net.Listener
	tmpDir string
}

// ModuleDir is the directory of module@version in the module cache
// (downloaded through the Go module proxy if need be).
func ModuleDir(module, version string) (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", module+"@"+version).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	if info.Error != "" {
		return "", errors.New(info.Error)
	}
	return info.Dir, nil
}

// CRDPaths are the CRDs Envoy Gateway needs: its own (from its module) and
// the Gateway API standard channel at GatewayAPIVersion (ListenerSet,
// GRPCRoute, TLSRoute and BackendTLSPolicy included).
func CRDPaths() ([]string, error) {
	eg, err := ModuleDir(Module, Version)
	if err != nil {
		return nil, err
	}
	gw, err := ModuleDir("sigs.k8s.io/gateway-api", GatewayAPIVersion)
	if err != nil {
		return nil, err
	}
	paths := []string{filepath.Join(eg, "charts", "gateway-helm", "charts", "crds", "crds", "generated")}
	for _, kind := range []string{"gatewayclasses", "gateways", "httproutes", "referencegrants", "listenersets", "grpcroutes", "tlsroutes", "backendtlspolicies"} {
		paths = append(paths, filepath.Join(gw, "config", "crd", "standard", "gateway.networking.k8s.io_"+kind+".yaml"))
	}
	return paths, nil
}

// config is the EnvoyGateway configuration: the Kubernetes provider, no
// topology-injector webhook (it needs an in-cluster Service), no Prometheus
// listener, the admin server on loopback.
const config = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyGateway
gateway:
  controllerName: ` + ControllerName + `
provider:
  type: Kubernetes
  kubernetes:
    topologyInjector:
      disable: true
logging:
  level:
    default: info
admin:
  address:
    host: 127.0.0.1
    port: %d
telemetry:
  metrics:
    prometheus:
      disable: true
`

// Start installs the CRDs, creates Envoy Gateway's namespace and
// control-plane certificates (envoy-gateway certgen) and starts the server;
// it returns when the server reports ready. Stop it with Stop.
func Start(ctx context.Context, opts Options) (_ *EnvoyGateway, err error) {
	if opts.Binary == "" {
		opts.Binary = Binary(controlplane.BinDir())
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 2 * time.Minute
	}
	if _, err := os.Stat(opts.Binary); err != nil {
		return nil, fmt.Errorf("envoy-gateway (run 'make envoy-gateway'): %w", err)
	}
	eg := &EnvoyGateway{}
	defer func() {
		if err != nil {
			_ = eg.Stop()
		}
	}()
	state := opts.StateDir
	if state == "" {
		if eg.tmpDir, err = os.MkdirTemp("", "landlord-eg-"); err != nil {
			return nil, err
		}
		state = eg.tmpDir
	}
	if state, err = filepath.Abs(state); err != nil {
		return nil, err
	}
	for _, d := range []string{"certs", "root", "varlib"} {
		if err := os.MkdirAll(filepath.Join(state, d), 0o700); err != nil {
			return nil, err
		}
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", opts.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", opts.Kubeconfig, err)
	}
	if err := install(ctx, cfg); err != nil {
		return nil, err
	}

	env := append(os.Environ(), "ENVOY_GATEWAY_NAMESPACE="+Namespace, "KUBECONFIG="+opts.Kubeconfig)
	certgen := exec.CommandContext(ctx, opts.Binary, "certgen", "--disable-topology-injector")
	certgen.Env, certgen.Stdout, certgen.Stderr = env, opts.Log, opts.Log
	if err := certgen.Run(); err != nil {
		return nil, fmt.Errorf("envoy-gateway certgen: %w", err)
	}
	if err := writeCerts(ctx, cfg, filepath.Join(state, "certs")); err != nil {
		return nil, err
	}
	configPath := filepath.Join(state, "envoy-gateway.yaml")
	if err := os.WriteFile(configPath, fmt.Appendf(nil, config, adminPort), 0o600); err != nil {
		return nil, err
	}

	apiHost, err := hostPort(cfg.Host)
	if err != nil {
		return nil, err
	}
	// The private root: a tmpfs with the host's top-level directories bound
	// in (recursively, read-write as they are), symlinks copied, and /certs
	// and /var/lib from the state directory. `mount --make-rprivate /` first:
	// no mount made here propagates to the host.
	script := `set -e
mount --make-rprivate /
root="$1"; shift
mount -t tmpfs landlord-eg-root "$root"
for e in /*; do
  n=${e#/}
  if [ -L "$e" ]; then cp -P "$e" "$root/$n"
  elif [ -d "$e" ]; then mkdir "$root/$n"; mount --rbind "$e" "$root/$n"
  fi
done
mkdir "$root/certs"
mount --bind "$STATE/certs" "$root/certs"
mount --bind "$STATE/varlib" "$root/var/lib"
exec chroot "$root" "$@"
`
	cmd := exec.Command("/bin/sh", "-c", script, "envoy-gateway-ns", filepath.Join(state, "root"),
		opts.Binary, "server", "--config-path", configPath)
	cmd.Env = append(env, "STATE="+state)
	cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Cloneflags: syscall.CLONE_NEWNS}

	eg.done = make(chan error, 1)
	started := make(chan error, 1)
	ready := make(chan error, 1)
	go eg.run(cmd, apiHost, opts.ReadyTimeout, started, ready)
	if err := <-started; err != nil {
		return nil, err
	}
	eg.cmd = cmd
	select {
	case err := <-ready:
		if err != nil {
			return nil, err
		}
	case err := <-eg.done:
		eg.done <- err
		return nil, fmt.Errorf("envoy-gateway server exited: %v", err)
	}
	return eg, nil
}

// run is the goroutine of the private network namespace: it locks its OS
// thread, moves the thread into a new network namespace with loopback up,
// opens the API server forwarder there and starts the server from this
// thread (a child inherits its thread's namespaces). It then polls readiness
// from inside the namespace and waits for the server. The thread is never
// unlocked, so it ends with the goroutine instead of serving others; the
// child's Pdeathsig fires then.
func (eg *EnvoyGateway) run(cmd *exec.Cmd, apiHost string, readyTimeout time.Duration, started, ready chan<- error) {
	runtime.LockOSThread()
	ln, err := netnsListener(apiHost)
	if err != nil {
		started <- err
		return
	}
	eg.bridge = ln
	go forward(ln, apiHost)
	if err := cmd.Start(); err != nil {
		_ = ln.Close()
		started <- fmt.Errorf("starting envoy-gateway server: %w", err)
		return
	}
	started <- nil
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	ready <- waitReady(waited, readyTimeout)
	eg.done <- <-waited
}

// waitReady polls readiness until the server is ready, exits or timeout
// passes; an exit is put back on waited.
func waitReady(waited chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for probeReady() != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("envoy-gateway server not ready on %s (inside its namespace) within %s", healthAddr, timeout)
		}
		select {
		case err := <-waited:
			waited <- err
			return fmt.Errorf("envoy-gateway server exited: %v", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}

// netnsListener moves the calling (locked) thread into a new network
// namespace, brings its loopback up and listens on addr there.
func netnsListener(addr string) (net.Listener, error) {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("a private network namespace for envoy-gateway (needs root): %w", err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return nil, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return nil, fmt.Errorf("reading the loopback's flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return nil, fmt.Errorf("bringing the loopback up: %w", err)
	}
	return net.Listen("tcp", addr)
}

// forward copies each connection accepted inside the namespace to the API
// server outside it (dialled from goroutines on other threads: the host's
// network namespace). TLS passes through untouched.
func forward(ln net.Listener, apiHost string) {
	for {
		in, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer in.Close()
			out, err := net.DialTimeout("tcp", apiHost, 10*time.Second)
			if err != nil {
				return
			}
			defer out.Close()
			go func() { _, _ = io.Copy(out, in); _ = out.(*net.TCPConn).CloseWrite() }()
			_, _ = io.Copy(in, out)
		}()
	}
}

// probeReady asks the health listener for /readyz. It dials on the calling
// (namespaced) thread itself: http.Client would dial from another goroutine,
// i.e. from the host's network namespace.
func probeReady() error {
	conn, err := net.DialTimeout("tcp", healthAddr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	req, _ := http.NewRequest(http.MethodGet, "http://"+healthAddr+"/readyz", nil)
	if err := req.Write(conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	return nil
}

// install applies the CRDs and creates the namespace.
func install(ctx context.Context, cfg *rest.Config) error {
	paths, err := CRDPaths()
	if err != nil {
		return err
	}
	if _, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true, MaxTime: 3 * time.Minute}); err != nil {
		return fmt.Errorf("installing Envoy Gateway's and the Gateway API CRDs: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", Namespace, err)
	}
	return nil
}

// writeCerts writes the envoy-gateway Secret certgen made into dir, as the
// Pod's /certs volume would hold it.
func writeCerts(ctx context.Context, cfg *rest.Config, dir string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	s, err := cs.CoreV1().Secrets(Namespace).Get(ctx, "envoy-gateway", metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading the Secret certgen writes: %w", err)
	}
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if len(s.Data[k]) == 0 {
			return fmt.Errorf("secret %s/envoy-gateway has no %s", Namespace, k)
		}
		if err := os.WriteFile(filepath.Join(dir, k), s.Data[k], 0o600); err != nil {
			return err
		}
	}
	return nil
}

func hostPort(host string) (string, error) {
	u, err := url.Parse(host)
	if err != nil {
		return "", fmt.Errorf("the API server address %q: %w", host, err)
	}
	if u.Port() == "" {
		return "", fmt.Errorf("the API server address %q has no port", host)
	}
	return u.Host, nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 10s), closes the
// forwarder and removes temporary state.
func (eg *EnvoyGateway) Stop() error {
	var errs []error
	if eg.cmd != nil && eg.cmd.Process != nil {
		_ = eg.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-eg.done:
		case <-time.After(10 * time.Second):
			_ = eg.cmd.Process.Kill()
			<-eg.done
		}
		eg.cmd = nil
	}
	if eg.bridge != nil {
		_ = eg.bridge.Close()
	}
	if eg.tmpDir != "" {
		errs = append(errs, os.RemoveAll(eg.tmpDir))
	}
	return errors.Join(errs...)
}
