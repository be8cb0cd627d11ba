package logging_test

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/landlord-dev/landlord/internal/logging"
)

// newLogger builds the manager's logger as cmd/manager does, from flags.
func newLogger(t *testing.T, out *bytes.Buffer, args ...string) func() {
	t.Helper()
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	opts := zap.Options{Development: false, DestWriter: out}
	opts.BindFlags(fs)
	format := logging.JSON
	fs.Var(&format, "log-format", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	format.Apply(&opts)
	log := zap.New(zap.UseFlagOptions(&opts))
	// A reconciler's logger: controller-runtime's values, then the reconciler's.
	rec := log.WithName("controller-runtime").WithValues(
		"controller", "subscription", "controllerGroup", "hosting.landlord.dev", "controllerKind", "Subscription",
		"Subscription", klog.KRef("acct-acme", "www"), "namespace", "acct-acme", "name", "www",
		"reconcileID", "5b0c6d3e-0f0e-4c33-9d52-0d7f1b5e2a11",
	).WithValues("subscription", klog.KRef("acct-acme", "www"))
	return func() {
		rec.Info("site is ready", "url", "http://www-acme.sites.landlord.localhost", "phase", "Active", "replicas", 2)
		rec.Error(errors.New("conflict on Deployment"), "requeue")
		rec.V(1).Info("debug detail")
		log.WithName("apiwatch").Info("Gateway API CRDs are not installed", "missingKinds", []string{"HTTPRoute", "ReferenceGrant"})
		type routeKind string
		log.Info("starting Landlord", "routeKind", routeKind("HTTPRoute"))
	}
}

func TestConsoleFormat(t *testing.T) {
	var out bytes.Buffer
	newLogger(t, &out, "--log-format=console")()
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	t.Logf("output:\n%s", out.String())
	if len(lines) < 3 {
		t.Fatalf("want 3 lines (info, error, apiwatch), got %d", len(lines))
	}
	info := lines[0]
	// time level controller object message key=values
	fields := strings.Fields(info)
	if len(fields) < 5 || len(fields[0]) != len("15:04:05.000") || fields[1] != "INFO" ||
		fields[2] != "subscription" || fields[3] != "acct-acme/www" || !strings.Contains(info, "  site is ready  ") {
		t.Errorf("info line is not 'time INFO subscription acct-acme/www site is ready ...': %q", info)
	}
	for _, kv := range []string{"url=http://www-acme.sites.landlord.localhost", "phase=Active", "replicas=2"} {
		if !strings.Contains(info, kv) {
			t.Errorf("info line lacks %s: %q", kv, info)
		}
	}
	for _, noise := range []string{"reconcileID", "controllerGroup", "controllerKind", "Subscription=", "namespace=", "name=", "{", "\""} {
		if strings.Contains(info, noise) {
			t.Errorf("info line holds %q: %q", noise, info)
		}
	}
	if e := lines[1]; !strings.Contains(e, " ERROR  subscription  acct-acme/www  requeue") || !strings.Contains(e, `error="conflict on Deployment"`) {
		t.Errorf("error line: %q", e)
	}
	if strings.Contains(out.String(), "debug detail") {
		t.Error("a V(1) line was printed at the default level")
	}
	var api string
	for _, l := range lines {
		if strings.Contains(l, "apiwatch") {
			api = l
		}
	}
	if !strings.Contains(api, " INFO   apiwatch  Gateway API CRDs are not installed  missingKinds=HTTPRoute,ReferenceGrant") {
		t.Errorf("apiwatch line: %q", api)
	}
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, " INFO   starting Landlord  routeKind=HTTPRoute") {
		t.Errorf("a named string type is not printed as is: %q", last)
	}
}

// The zap flags keep working with either format.
func TestZapFlagsStillApply(t *testing.T) {
	var out bytes.Buffer
	newLogger(t, &out, "--log-format=console", "--zap-log-level=debug")()
	if !strings.Contains(out.String(), "DEBUG  subscription  acct-acme/www  debug detail") {
		t.Errorf("--zap-log-level=debug did not apply with --log-format=console:\n%s", out.String())
	}
	out.Reset()
	newLogger(t, &out, "--zap-log-level=error")()
	if strings.Contains(out.String(), "site is ready") || !strings.Contains(out.String(), `"msg":"requeue"`) {
		t.Errorf("--zap-log-level=error with the default json format:\n%s", out.String())
	}
}

// json stays the default: one JSON object per line.
func TestJSONIsTheDefault(t *testing.T) {
	var out bytes.Buffer
	newLogger(t, &out)()
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(l, "{") || !strings.HasSuffix(l, "}") {
			t.Errorf("not a JSON line: %q", l)
		}
	}
	var f logging.Format
	if err := f.Set("yaml"); err == nil {
		t.Error("--log-format=yaml accepted")
	}
}
