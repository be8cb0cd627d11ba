package reliability_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// errCrashed is what a crashed manager's requests fail with.
var errCrashed = errors.New("reliability test: the manager has crashed")

// wire sits between a manager and the API server and watches its writes
// (creates, updates, patches, deletes; not Events or leader-election Leases,
// which are not tenant state). It counts every write attempted and, apart,
// the effective ones: those that changed something (a refused write or a
// patch that left the resourceVersion as it was did not). With crashAt = k
// > 0, once the k-th effective write has reached the API server its answer
// is lost and every later request fails: from that moment the manager is
// dead to the cluster, as a killed process is, even before its goroutines
// stop. Writes pass one at a time, so the crash point is exact.
type wire struct {
	crashAt   atomic.Int64
	attempted atomic.Int64
	effective atomic.Int64
	events    atomic.Int64 // Events written
	mu        sync.Mutex   // serialises writes
	dead      atomic.Bool
	once      sync.Once
	crashed   chan struct{}
	// trace, when set, logs every write (RELIABILITY_TRACE=1).
	trace bool
}

func newWire(crashAt int) *wire {
	w := &wire{crashed: make(chan struct{}), trace: os.Getenv("RELIABILITY_TRACE") != ""}
	w.crashAt.Store(int64(crashAt))
	return w
}

// disarm makes a wire that has not crashed yet never crash.
func (w *wire) disarm() { w.crashAt.Store(0) }

// kill makes every later request fail.
func (w *wire) kill() {
	w.once.Do(func() {
		w.dead.Store(true)
		close(w.crashed)
	})
}

// isCrashed reports whether the wire killed its manager.
func (w *wire) isCrashed() bool { return w.dead.Load() }

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// isWrite reports whether req is meant to change something.
func isWrite(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// isStateWrite reports whether req is meant to change tenant state.
func isStateWrite(req *http.Request) bool {
	p := req.URL.Path
	return isWrite(req) && !strings.Contains(p, "/events") && !strings.Contains(p, "/leases")
}

func (w *wire) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if w.dead.Load() {
			return nil, errCrashed
		}
		if !isStateWrite(req) {
			if isWrite(req) && strings.Contains(req.URL.Path, "/events") {
				w.events.Add(1)
			}
			return rt.RoundTrip(req)
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.dead.Load() {
			return nil, errCrashed
		}
		w.attempted.Add(1)
		before := ""
		if req.Method == http.MethodPatch || req.Method == http.MethodPut {
			before = resourceVersionAt(rt, req)
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		after := ""
		if resp.StatusCode < 300 {
			body, readErr := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if readErr != nil {
				return nil, readErr
			}
			after = resourceVersionOf(body)
		}
		if resp.StatusCode >= 300 || (before != "" && before == after) {
			return resp, nil
		}
		n := w.effective.Add(1)
		if w.trace {
			fmt.Fprintf(os.Stderr, "effective write %d: %s %s\n", n, req.Method, req.URL.Path)
		}
		if n == w.crashAt.Load() {
			w.kill()
			return nil, errCrashed
		}
		return resp, nil
	})
}

// resourceVersionAt reads the resourceVersion of the object req writes
// ("" if unknown).
func resourceVersionAt(rt http.RoundTripper, req *http.Request) string {
	get, err := http.NewRequestWithContext(req.Context(), http.MethodGet, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path, nil)
	if err != nil {
		return ""
	}
	for k, v := range req.Header {
		if k != "Content-Type" && k != "Content-Length" {
			get.Header[k] = v
		}
	}
	get.Header.Set("Accept", "application/json")
	resp, err := rt.RoundTrip(get)
	if err != nil {
		return ""
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return ""
	}
	return resourceVersionOf(body)
}

func resourceVersionOf(body []byte) string {
	var obj struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if json.Unmarshal(body, &obj) != nil {
		return ""
	}
	return obj.Metadata.ResourceVersion
}

// startManager runs the whole Landlord manager (every controller) behind w.
func startManager(t testing.TB, clk *clock.Fake, w *wire, leaderElection string) *testenv.Manager {
	t.Helper()
	m, err := env.StartManagerWith(testenv.ManagerOptions{Config: cfg, Clock: clk, WrapTransport: w.wrap, LeaderElection: leaderElection})
	if err != nil {
		t.Fatalf("starting the manager: %v", err)
	}
	return m
}

// supervisor runs a manager that crashes at its crashAt-th effective write
// and, when it does, stops what is left of it and starts a fresh one (new
// caches, new work queues), as a Deployment restarts a crashed pod.
type supervisor struct {
	t       testing.TB
	clk     *clock.Fake
	first   *wire
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	current *testenv.Manager
}

func supervise(t testing.TB, clk *clock.Fake, crashAt int) *supervisor {
	t.Helper()
	s := &supervisor{t: t, clk: clk, first: newWire(crashAt), stop: make(chan struct{}), done: make(chan struct{})}
	s.current = startManager(t, clk, s.first, "")
	go s.run()
	return s
}

func (s *supervisor) run() {
	defer close(s.done)
	select {
	case <-s.stop:
		return
	case <-s.first.crashed:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.current.Stop() // it dies with errors: its requests fail
	s.current = nil
	m, err := env.StartManagerWith(testenv.ManagerOptions{Config: cfg, Clock: s.clk, WrapTransport: newWire(0).wrap})
	if err != nil {
		s.t.Errorf("restarting the manager: %v", err)
		return
	}
	s.current = m
}

// Stop stops the running manager.
func (s *supervisor) Stop() {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil {
		if err := s.current.Stop(); err != nil {
			s.t.Errorf("manager: %v", err)
		}
	}
}
