// Command manager runs the Landlord controllers.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/landlord-dev/landlord/internal/clock"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	hostingv1alpha1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/logging"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/memlimit"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/suspendedpage"
	"github.com/landlord-dev/landlord/internal/version"
)

// groupList is a repeatable string flag.
type groupList []string

func (g *groupList) String() string     { return strings.Join(*g, ",") }
func (g *groupList) Set(v string) error { *g = append(*g, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "landlord:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		metricsAddr, probeAddr string
		suspendedPageAddr      string
		pprofAddr              string
		leaderElect            bool
		leaderElectNamespace   string
		qps                    float64
		burst                  int
		workers                int
		printVersion           bool
		memoryLimit            string
	)
	cfg := platform.Default()
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	flag.StringVar(&suspendedPageAddr, "suspended-page-bind-address", ":8082", "Address of the page suspended sites show (fronted by --suspended-service); 0 disables it.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "Address of Go's /debug/pprof endpoints (heap profiles of the cache); 0 disables them.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader, so that only one replica reconciles at a time.")
	flag.StringVar(&leaderElectNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease (default: the operator namespace when in a cluster).")
	// Reads come from the cache; these bound writes (~35 per tenant while
	// provisioning, 8 per subscription in an expiry burst). make bench at
	// 200 tenants on 2 cores: 1 worker/100 qps and 4 workers/300 qps gave
	// the same T_op and burst (the API server was the limit); 16 workers
	// were slower. Not yet measured at 1,000.
	flag.Float64Var(&qps, "kube-api-qps", 300, "Client-side rate limit of API requests per second.")
	flag.IntVar(&burst, "kube-api-burst", 600, "Client-side burst of API requests.")
	flag.StringVar(&memoryLimit, "memory-limit", memlimit.Auto, "Go's soft memory limit: auto (90% of the container's memory limit, if it has one), a quantity such as 450Mi, or 0 for none. GOMEMLIMIT, if set, wins.")
	flag.IntVar(&workers, "max-concurrent-reconciles", manager.DefaultWorkers, "Reconciles each controller runs at once.")
	cfg.BindFlags(flag.CommandLine)
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	logFormat := logging.JSON
	flag.Var(&logFormat, "log-format", "Log format: json (for log pipelines) or console (one readable line per entry; replaces --zap-encoder).")
	flag.BoolVar(&printVersion, "version", false, "Print the version and commit, and exit.")
	var asUser string
	var asGroups groupList
	flag.StringVar(&asUser, "as", "", "Act as this user (impersonation), e.g. when running on a host with an admin kubeconfig (make run).")
	flag.Var(&asGroups, "as-group", "Act in this group (repeatable; with --as). Landlord's lifecycle facts are admitted only from "+platform.ManagerGroup+" or its ServiceAccount.")
	flag.Parse()
	if printVersion {
		fmt.Println(version.String())
		return nil
	}
	logFormat.Apply(&opts)
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	limit, err := memlimit.Choose(memoryLimit, "/sys/fs/cgroup", os.Getenv)
	if err != nil {
		return err
	}
	if limit.Bytes > 0 {
		debug.SetMemoryLimit(limit.Bytes)
	}
	ctrl.Log.Info("soft memory limit", "bytes", limit.Bytes, "from", limit.Source)

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(hostingv1alpha1.AddToScheme(scheme))
	utilruntime.Must(gatewayv1.Install(scheme))

	restConfig := ctrl.GetConfigOrDie()
	if asUser != "" {
		restConfig.Impersonate = rest.ImpersonationConfig{UserName: asUser, Groups: asGroups}
	}
	restConfig.QPS, restConfig.Burst = float32(qps), burst

	mgrOpts := manager.Options(scheme, cfg)
	mgrOpts.Metrics = metricsserver.Options{BindAddress: metricsAddr}
	mgrOpts.HealthProbeBindAddress = probeAddr
	mgrOpts.PprofBindAddress = pprofAddr
	mgrOpts.Controller.MaxConcurrentReconciles = workers
	mgrOpts.LeaderElection = leaderElect
	mgrOpts.LeaderElectionID = "landlord.hosting.landlord.dev"
	mgrOpts.LeaderElectionNamespace = leaderElectNamespace
	mgrOpts.LeaderElectionReleaseOnCancel = true

	mgr, err := ctrl.NewManager(restConfig, mgrOpts)
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := manager.SetupControllers(mgr, cfg, clock.Real{}); err != nil {
		return err
	}
	if err := mgr.Add(suspendedpage.Server(suspendedPageAddr)); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	ctrl.Log.Info("starting Landlord", "namespacePrefix", cfg.NamespacePrefix, "baseDomain", cfg.BaseDomain, "routeKind", cfg.RouteKind)
	return mgr.Start(ctrl.SetupSignalHandler())
}
