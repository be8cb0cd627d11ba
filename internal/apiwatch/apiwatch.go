// Package apiwatch tells, at run time, whether the optional APIs Landlord
// writes to are served: the Gateway API (HTTPRoute, ReferenceGrant) and
// cert-manager (Certificate). A cluster may lack them when Landlord starts and
// gain them later; a Watcher checks discovery at start and then every
// interval, answers Served, and calls OnServed callbacks once a kind appears,
// so that controllers can start watching it and requeue what waited for it.
//
// A Watcher is a manager Runnable that runs on every replica (it does not
// need leader election): followers answer Served too.
package apiwatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	ctrl "sigs.k8s.io/controller-runtime"
)

// The optional kinds Landlord uses.
var (
	HTTPRoute      = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}
	ReferenceGrant = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "ReferenceGrant"}
	ListenerSet    = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "ListenerSet"}
	Certificate    = schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: "Certificate"}
)

// DefaultInterval is how often discovery is checked unless told otherwise.
const DefaultInterval = 10 * time.Second

// Hints says, per API group, what a missing API means and how to install it;
// the Watcher logs it once at start for each group with a missing kind.
var Hints = map[string]string{
	"gateway.networking.k8s.io": "Gateway API CRDs are not installed: routes are not written until they are; " +
		"install them with `make install-gateway-api` or the Gateway API standard-install manifest " +
		"(https://gateway-api.sigs.k8s.io/guides/#installing-gateway-api)",
	"cert-manager.io": "cert-manager is not installed: certificates for custom domains are not requested until it is; " +
		"install it (https://cert-manager.io/docs/installation/)",
}

// Watcher knows which of its kinds the API server serves. Create it with New.
type Watcher struct {
	disco    discovery.DiscoveryInterface
	interval time.Duration
	kinds    []schema.GroupVersionKind
	// Log receives the watcher's messages; set it before Start.
	Log logr.Logger

	mu        sync.RWMutex
	served    map[schema.GroupVersionKind]bool
	callbacks map[schema.GroupVersionKind][]func()
	checked   chan struct{} // closed after the first complete check
	failing   bool          // the last check failed (logged once per streak)
}

// New returns a Watcher of kinds, checked through disco every interval
// (DefaultInterval when interval <= 0). Until its first check every kind
// reads as not served.
func New(disco discovery.DiscoveryInterface, interval time.Duration, kinds ...schema.GroupVersionKind) *Watcher {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Watcher{
		disco:     disco,
		interval:  interval,
		kinds:     slices.Clone(kinds),
		Log:       ctrl.Log.WithName("apiwatch"),
		served:    map[schema.GroupVersionKind]bool{},
		callbacks: map[schema.GroupVersionKind][]func(){},
		checked:   make(chan struct{}),
	}
}

// Served reports whether gvk was served at the last check. Safe for
// concurrent use.
func (w *Watcher) Served(gvk schema.GroupVersionKind) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.served[gvk]
}

// OnServed calls fn once, when gvk is first seen served: at once, in the
// caller's goroutine, if it already is; else from the Watcher's goroutine
// after the check that finds it. Callbacks must not block for long. gvk
// should be one of the Watcher's kinds (others are never seen served).
func (w *Watcher) OnServed(gvk schema.GroupVersionKind, fn func()) {
	w.mu.Lock()
	if !w.served[gvk] {
		w.callbacks[gvk] = append(w.callbacks[gvk], fn)
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	fn()
}

// Checked is closed once the first check has completed, after which Served
// reflects the API server.
func (w *Watcher) Checked() <-chan struct{} { return w.checked }

// Interval is the time between checks.
func (w *Watcher) Interval() time.Duration { return w.interval }

// NeedLeaderElection is false: every replica knows which APIs are served.
func (w *Watcher) NeedLeaderElection() bool { return false }

// Start checks at once, logs a line per API group with a missing kind
// (Hints), then checks every interval until ctx ends. It implements
// manager.Runnable.
func (w *Watcher) Start(ctx context.Context) error {
	first := true
	for {
		if err := w.Check(ctx); err == nil && first {
			first = false
			w.logMissing()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.interval):
		}
	}
}

// Check asks discovery once, updates Served and fires the callbacks of kinds
// now served. Start calls it; it is exported for tests and for a caller that
// wants an answer before Start (e.g. to set up watches at once).
func (w *Watcher) Check(ctx context.Context) error {
	now, err := w.discover(ctx)
	w.mu.Lock()
	if err != nil {
		if !w.failing {
			w.Log.Error(err, "checking which APIs are served; keeping the last answer and retrying", "interval", w.interval)
		}
		w.failing = true
		w.mu.Unlock()
		return err
	}
	if w.failing {
		w.Log.Info("checking which APIs are served works again")
	}
	w.failing = false
	var fire []func()
	var appeared, gone []string
	for _, gvk := range w.kinds {
		was := w.served[gvk]
		w.served[gvk] = now[gvk]
		if now[gvk] && !was {
			fire = append(fire, w.callbacks[gvk]...)
			delete(w.callbacks, gvk)
			appeared = append(appeared, gvk.String())
		}
		if !now[gvk] && was {
			gone = append(gone, gvk.String())
		}
	}
	select {
	case <-w.checked:
		if len(appeared) > 0 {
			w.Log.Info("APIs are now served", "kinds", appeared)
		}
	default:
		close(w.checked)
	}
	if len(gone) > 0 {
		w.Log.Info("APIs are no longer served", "kinds", gone)
	}
	w.mu.Unlock()
	for _, fn := range fire {
		fn()
	}
	return nil
}

// discover returns which of the kinds are served: one discovery request per
// group version. A group version that is not found is not served.
func (w *Watcher) discover(ctx context.Context) (map[schema.GroupVersionKind]bool, error) {
	served := map[schema.GroupVersionKind]bool{}
	var gvs []schema.GroupVersion
	for _, k := range w.kinds {
		if gv := k.GroupVersion(); !slices.Contains(gvs, gv) {
			gvs = append(gvs, gv)
		}
	}
	for _, gv := range gvs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		list, err := w.disco.ServerResourcesForGroupVersion(gv.String())
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("discovering %s: %w", gv, err)
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") { // a subresource
				continue
			}
			gvk := gv.WithKind(r.Kind)
			if slices.Contains(w.kinds, gvk) {
				served[gvk] = true
			}
		}
	}
	return served, nil
}

// logMissing logs, once per API group, the kinds that are not served and how
// to install them.
func (w *Watcher) logMissing() {
	w.mu.RLock()
	missing := map[string][]string{}
	var groups []string
	for _, gvk := range w.kinds {
		if !w.served[gvk] {
			if _, ok := missing[gvk.Group]; !ok {
				groups = append(groups, gvk.Group)
			}
			missing[gvk.Group] = append(missing[gvk.Group], gvk.Kind)
		}
	}
	w.mu.RUnlock()
	for _, g := range groups {
		hint, ok := Hints[g]
		if !ok {
			hint = fmt.Sprintf("API group %s is not served: what needs it waits until it is", g)
		}
		w.Log.Info(hint, "group", g, "missingKinds", missing[g], "recheckEvery", w.interval.String())
	}
}
