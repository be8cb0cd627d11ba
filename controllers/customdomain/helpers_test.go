package customdomain_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/controllers/customdomain"
	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/hostname"
	"github.com/landlord-dev/landlord/internal/manager"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// harness is what the integration tests share: the environment, the running
// manager's configuration, its fake clock and the loopback DNS server.
type harness struct {
	env *testenv.Env
	cfg platform.Config
	clk *clock.Fake
	dns *dnstest.Server

	mu  sync.Mutex
	mgr *testenv.Manager
	// wire is the running manager's connection to the API server; a test
	// can make it die (see crashAfter).
	wire *wire
}

// workers is the manager binary's default --max-concurrent-reconciles.
const workers = manager.DefaultWorkers

// startManager starts a fresh Landlord manager (CustomDomain controller, the
// production worker count) behind a new wire.
func (h *harness) startManager() error {
	w := &wire{}
	mgr, err := h.env.StartManagerWith(testenv.ManagerOptions{
		Config: h.cfg, Clock: h.clk, Controllers: []string{manager.CustomDomainController},
		Workers: workers, WrapTransport: w.wrap,
	})
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.mgr, h.wire = mgr, w
	h.mu.Unlock()
	return nil
}

func (h *harness) stopManager() {
	h.mu.Lock()
	mgr := h.mgr
	h.mu.Unlock()
	if mgr != nil {
		_ = mgr.Stop()
	}
}

// restart stops the manager (a crashed one dies with errors) and starts a
// fresh one: new caches, new work queues, as a restarted pod.
func (h *harness) restart(t *testing.T) {
	t.Helper()
	h.stopManager()
	if err := h.startManager(); err != nil {
		t.Fatalf("restarting the manager: %v", err)
	}
}

// wire is a manager's HTTP connection to the API server. Once dead, every
// request fails, as if the process had been killed.
type wire struct {
	writes atomic.Int64 // successful writes since armed
	dieAt  atomic.Int64 // die after this many (0: never)
	dead   atomic.Bool
	died   chan struct{}
	once   sync.Once
}

var errKilled = errors.New("manager killed by the test")

// crashAfter makes the wire die after n more successful writes; the returned
// channel is closed when it does.
func (w *wire) crashAfter(n int64) <-chan struct{} {
	w.died = make(chan struct{})
	w.writes.Store(0)
	w.dieAt.Store(n)
	return w.died
}

func (w *wire) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if w.dead.Load() {
			return nil, errKilled
		}
		resp, err := rt.RoundTrip(req)
		if err != nil || req.Method == http.MethodGet || resp.StatusCode >= 300 {
			return resp, err
		}
		if n := w.dieAt.Load(); n > 0 && w.writes.Add(1) >= n {
			w.dead.Store(true)
			w.once.Do(func() { close(w.died) })
		}
		return resp, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// start runs a loopback DNS server and Landlord's manager against env.
func start(env *testenv.Env, mutate func(*platform.Config)) (*harness, func(), error) {
	srv, err := dnstest.Start()
	if err != nil {
		return nil, nil, err
	}
	cfg := platform.Default()
	cfg.BaseDomain = "sites.landlord.test"
	cfg.DomainTarget = "edge.landlord.test"
	cfg.DNSServer = srv.Addr()
	// A claim TTL short enough for a test to step past (default 72h).
	cfg.DomainClaimTTL = 6 * time.Hour
	if mutate != nil {
		mutate(&cfg)
	}
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	h := &harness{env: env, cfg: cfg, clk: clk, dns: srv}
	if err := h.startManager(); err != nil {
		_ = srv.Close()
		return nil, nil, err
	}
	return h, func() { h.stopManager(); _ = srv.Close() }, nil
}

const wait = time.Minute

type tenant struct {
	account *v1.Account
	ns      string
}

// newTenant creates an Account and its namespace (labelled as the account
// controller would label it).
func (h *harness) newTenant(t *testing.T, prefix string) tenant {
	t.Helper()
	ctx := context.Background()
	a := &v1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Name(prefix)},
		Spec:       v1.AccountSpec{Owner: v1.Subject{Kind: v1.SubjectUser, Name: "owner@" + prefix + ".example"}},
	}
	if err := h.env.Client.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   h.cfg.AccountNamespace(a.Name),
		Labels: platform.AccountLabels(a.Name),
	}}
	if err := h.env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	return tenant{account: a, ns: ns.Name}
}

// newSite creates a Subscription in phase with a customDomains limit and its
// site namespace, as the subscription controller would make and report them
// (status.site.namespace included). The subscription controller does not run
// here: these tests set phases and limits by hand, which it would recompute.
func (h *harness) newSite(t *testing.T, tn tenant, name string, phase v1.SubscriptionPhase, limit int32) *v1.Subscription {
	t.Helper()
	ctx := context.Background()
	ns := h.newSiteNamespace(t, tn, name)
	sub := &v1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Namespace: tn.ns, Name: name},
		Spec:       v1.SubscriptionSpec{Plan: "basic", Site: v1.SiteSpec{Template: "static"}},
	}
	if err := h.env.Client.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	before := sub.DeepCopy()
	sub.Status.Site.Namespace = ns
	if err := h.env.Client.Status().Patch(ctx, sub, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	h.setSite(t, sub, phase, &limit)
	return sub
}

// newSiteNamespace creates the site namespace of subscription, named and
// labelled as the subscription controller makes it (without its owner
// reference to the Account: the tests that delete an account watch its
// domains, which the namespace's garbage collection would delete).
func (h *harness) newSiteNamespace(t *testing.T, tn tenant, subscription string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   h.siteNS(tn, subscription),
		Labels: platform.SiteLabels(tn.account.Name, subscription),
	}}
	if err := h.env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// siteNS is the site namespace of the tenant's subscription: where its
// CustomDomains, routes and slots live.
func (h *harness) siteNS(tn tenant, subscription string) string {
	return h.cfg.SiteNamespace(tn.account.Name, subscription)
}

// setSite sets the Subscription's phase and effective customDomains limit.
func (h *harness) setSite(t *testing.T, sub *v1.Subscription, phase v1.SubscriptionPhase, limit *int32) {
	t.Helper()
	ctx := context.Background()
	if err := h.env.Client.Get(ctx, client.ObjectKeyFromObject(sub), sub); err != nil {
		t.Fatal(err)
	}
	before := sub.DeepCopy()
	sub.Status.Phase = phase
	if limit != nil {
		sub.Status.EffectiveLimits.CustomDomains = ptr.To(*limit)
	}
	if err := h.env.Client.Status().Patch(ctx, sub, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
}

// newDomain creates a CustomDomain where a portal would: in the namespace
// the tenant's Subscription sub reports in status.site.namespace.
func (h *harness) newDomain(t *testing.T, c client.Client, tn tenant, name, host, sub string, primary bool) *v1.CustomDomain {
	t.Helper()
	ctx := context.Background()
	s := &v1.Subscription{}
	if err := h.env.Client.Get(ctx, client.ObjectKey{Namespace: tn.ns, Name: sub}, s); err != nil {
		t.Fatal(err)
	}
	if s.Status.Site.Namespace == "" {
		t.Fatalf("subscription %s/%s reports no site namespace", tn.ns, sub)
	}
	cd := &v1.CustomDomain{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Status.Site.Namespace, Name: name},
		Spec:       v1.CustomDomainSpec{Hostname: host, Primary: primary},
	}
	if err := c.Create(ctx, cd); err != nil {
		t.Fatal(err)
	}
	return cd
}

// publish puts the account's verification token for host into DNS.
func (h *harness) publish(t *testing.T, tn tenant, host string) {
	t.Helper()
	c := canonical(t, host)
	h.dns.SetTXT(customdomain.RecordName(c), customdomain.Token(string(tn.account.UID), c))
}

// recheck moves the clock past the next lookup of pending domains (their
// backoff is at most an hour).
func (h *harness) recheck() { h.clk.Step(time.Hour) }

func canonical(t *testing.T, host string) string {
	t.Helper()
	c, err := hostname.Canonical(host)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// domain waits until check accepts the CustomDomain.
func (h *harness) domain(t *testing.T, cd *v1.CustomDomain, check func(*v1.CustomDomain) error) *v1.CustomDomain {
	t.Helper()
	got := &v1.CustomDomain{}
	testenv.Eventually(t, wait, func() error {
		if err := h.env.Client.Get(context.Background(), client.ObjectKeyFromObject(cd), got); err != nil {
			return err
		}
		return check(got)
	})
	return got
}

func phase(want v1.DomainPhase) func(*v1.CustomDomain) error {
	return func(cd *v1.CustomDomain) error {
		if cd.Status.Phase != want || cd.Status.ObservedGeneration != cd.Generation {
			return fmt.Errorf("phase %q, want %q; conditions %v", cd.Status.Phase, want, cd.Status.Conditions)
		}
		return nil
	}
}

func condition(typ string, status metav1.ConditionStatus, reason string) func(*v1.CustomDomain) error {
	return func(cd *v1.CustomDomain) error {
		c := meta.FindStatusCondition(cd.Status.Conditions, typ)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != cd.Generation {
			return fmt.Errorf("condition %s = %+v, want %s/%s", typ, c, status, reason)
		}
		return nil
	}
}

func all(checks ...func(*v1.CustomDomain) error) func(*v1.CustomDomain) error {
	return func(cd *v1.CustomDomain) error {
		for _, c := range checks {
			if err := c(cd); err != nil {
				return err
			}
		}
		return nil
	}
}

// checked waits until the domain's record was looked up at or after the
// clock's current time (a reconcile has seen the DNS as it is now).
func (h *harness) checked(t *testing.T, cd *v1.CustomDomain) *v1.CustomDomain {
	t.Helper()
	now := h.clk.Now().Truncate(time.Second)
	return h.domain(t, cd, func(cd *v1.CustomDomain) error {
		if at := cd.Status.Verification.LastCheckedAt; at == nil || at.Time.Before(now) {
			return fmt.Errorf("not looked up since %s (last %v)", now, at)
		}
		return nil
	})
}

func (h *harness) route(cd *v1.CustomDomain) (*gatewayv1.HTTPRoute, error) {
	r := &gatewayv1.HTTPRoute{}
	err := h.env.Client.Get(context.Background(), client.ObjectKey{Namespace: cd.Namespace, Name: platform.DomainRouteName(cd.Name)}, r)
	return r, err
}

// noRoute asserts that the domain has no route now.
func (h *harness) noRoute(t *testing.T, cd *v1.CustomDomain) {
	t.Helper()
	if r, err := h.route(cd); !apierrors.IsNotFound(err) {
		t.Fatalf("route of %s exists (%v): %+v", cd.Name, err, r.Spec)
	}
}

// routedTo waits until the domain's HTTPRoute sends host to service (in
// namespace, "" = the route's) or redirects it to redirect.
func (h *harness) routedTo(t *testing.T, cd *v1.CustomDomain, host, namespace, service, redirect string) {
	t.Helper()
	testenv.Eventually(t, wait, func() error {
		r, err := h.route(cd)
		if err != nil {
			return err
		}
		if !metav1.IsControlledBy(r, cd) || r.Labels[v1.ManagedByLabel] != v1.ManagedByValue {
			return fmt.Errorf("route not owned/labelled: %v %v", r.OwnerReferences, r.Labels)
		}
		if len(r.Spec.Hostnames) != 1 || string(r.Spec.Hostnames[0]) != host {
			return fmt.Errorf("hostnames %v, want %s", r.Spec.Hostnames, host)
		}
		rule := r.Spec.Rules[0]
		if redirect != "" {
			if len(rule.Filters) != 1 || rule.Filters[0].RequestRedirect == nil ||
				string(*rule.Filters[0].RequestRedirect.Hostname) != redirect || *rule.Filters[0].RequestRedirect.StatusCode != 301 {
				return fmt.Errorf("rule %+v, want a 301 to %s", rule, redirect)
			}
			return nil
		}
		if len(rule.Filters) != 0 || len(rule.BackendRefs) != 1 {
			return fmt.Errorf("rule %+v, want one backend", rule)
		}
		ref := rule.BackendRefs[0]
		gotNS := ""
		if ref.Namespace != nil {
			gotNS = string(*ref.Namespace)
		}
		if string(ref.Name) != service || gotNS != namespace {
			return fmt.Errorf("backend %s/%s, want %s/%s", gotNS, ref.Name, namespace, service)
		}
		return nil
	})
}

// unrouted waits until the domain's route is gone.
func (h *harness) unrouted(t *testing.T, cd *v1.CustomDomain) {
	t.Helper()
	testenv.Eventually(t, wait, func() error {
		if _, err := h.route(cd); !apierrors.IsNotFound(err) {
			return fmt.Errorf("route still there (%v)", err)
		}
		return nil
	})
}

func (h *harness) claim(host string) (*v1.DomainClaim, error) {
	c := &v1.DomainClaim{}
	err := h.env.Client.Get(context.Background(), client.ObjectKey{Name: host}, c)
	return c, err
}

// released waits until nobody holds host.
func (h *harness) released(t *testing.T, host string) {
	t.Helper()
	testenv.Eventually(t, wait, func() error {
		if c, err := h.claim(host); !apierrors.IsNotFound(err) {
			return fmt.Errorf("claim still held by %s/%s (%v)", c.Spec.Namespace, c.Spec.CustomDomain, err)
		}
		return nil
	})
}

// active waits until the domain is verified and routed (records published).
func (h *harness) active(t *testing.T, cd *v1.CustomDomain) *v1.CustomDomain {
	t.Helper()
	h.domain(t, cd, condition(v1.ConditionClaimed, metav1.ConditionTrue, v1.ReasonReconciled))
	h.recheck()
	return h.domain(t, cd, phase(v1.DomainActive))
}
