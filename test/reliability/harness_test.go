package reliability_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/testenv"
)

// harness runs managers and tenants for one test; at its end it stops the
// managers, then discards the tenants (so no later test's manager sees them).
type harness struct {
	t        *testing.T
	clk      *clock.Fake
	managers []*testenv.Manager
	tenants  []*tenant
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, clk: clock.NewFake(epoch)}
	fixtures(t)
	t.Cleanup(func() {
		for _, m := range h.managers {
			_ = m.Stop() // a killed manager ends with an error
		}
		for _, tn := range h.tenants {
			tn.discard(t)
		}
	})
	return h
}

// manager starts the whole manager behind a new wire (leader election on
// with a non-empty lease name) and returns both.
func (h *harness) manager(crashAt int, lease string) (*testenv.Manager, *wire) {
	h.t.Helper()
	w := newWire(crashAt)
	m := startManager(h.t, h.clk, w, lease)
	h.managers = append(h.managers, m)
	return m, w
}

// tenant creates a tenant and waits until it is provisioned and its objects
// have settled.
func (h *harness) tenant(prefix string) *tenant {
	h.t.Helper()
	tn := newTenant(h.t, prefix, h.clk.Now())
	h.tenants = append(h.tenants, tn)
	testenv.Eventually(h.t, wait, all(tn.provisioned, func() error { return tn.replicas(1) }))
	return tn
}

// settled waits until no object of the tenants changes over a few reads
// (the cluster's controllers have finished writing status too) and returns
// their resourceVersions.
func settled(t *testing.T, tns ...*tenant) map[string]string {
	t.Helper()
	read := func() (map[string]string, error) {
		cur := map[string]string{}
		for _, tn := range tns {
			rvs, err := tn.resourceVersions()
			if err != nil {
				return nil, err
			}
			for k, v := range rvs {
				cur[k] = v
			}
		}
		return cur, nil
	}
	return settle(t, read, func(a, b map[string]string) bool { return changed(a, b) == "" })
}

// settle reads until three reads in a row equal the one before, and returns
// the last: the controllers (Landlord's and the cluster's) have stopped writing.
func settle[T any](t *testing.T, read func() (T, error), equal func(a, b T) bool) T {
	t.Helper()
	var last T
	seen, same := false, 0
	testenv.Eventually(t, wait, func() error {
		cur, err := read()
		if err != nil {
			return err
		}
		if seen && equal(last, cur) {
			same++
		} else {
			same = 0
		}
		last, seen = cur, true
		if same < 3 {
			time.Sleep(300 * time.Millisecond)
			return fmt.Errorf("still changing")
		}
		return nil
	})
	return last
}

// changed names the objects whose resourceVersion differs ("" if none).
func changed(before, after map[string]string) string {
	out := ""
	for k, v := range before {
		if after[k] != v {
			out += fmt.Sprintf("%s: resourceVersion %s → %q\n", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			out += fmt.Sprintf("%s: new\n", k)
		}
	}
	return out
}
