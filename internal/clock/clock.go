// Package clock is the controllers' time source. Production uses the real
// clock; tests use Fake, which wakes the controllers whenever it moves, so a
// deadline passed in a test acts at once, as a RequeueAfter would in real time.
package clock

import (
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/landlord-dev/landlord/internal/kernel"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// Fake is a clock that moves only when told to.
type Fake struct {
	mu        sync.Mutex
	now       time.Time
	listeners []chan struct{}
}

// NewFake returns a Fake clock reading now.
func NewFake(now time.Time) *Fake { return &Fake{now: now} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t and wakes the listeners.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	ls := f.listeners
	f.mu.Unlock()
	for _, l := range ls {
		select {
		case l <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// Step moves the clock forward by d and wakes the listeners.
func (f *Fake) Step(d time.Duration) { f.Set(f.Now().Add(d)) }

// Subscribe returns a channel that receives after every move of the clock.
func (f *Fake) Subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	f.listeners = append(f.listeners, ch)
	f.mu.Unlock()
	return ch
}

// Notifier is a clock that says when it moves (Fake does; Real does not need to).
type Notifier interface {
	Subscribe() <-chan struct{}
}

// WakeSource returns a source that enqueues every object of list's kind each
// time clk moves, or nil when clk does not notify (the real clock).
// Controllers add it with WatchesRawSource so that their deadlines, normally
// met by RequeueAfter, are re-evaluated when a test moves time.
func WakeSource(clk Clock, reader client.Reader, newList func() client.ObjectList) source.Source {
	n, ok := clk.(Notifier)
	if !ok {
		return nil
	}
	return kernel.ListSource(n.Subscribe(), reader, newList)
}
