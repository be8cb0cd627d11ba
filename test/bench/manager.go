package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// managerProc is the Landlord manager binary running as a subprocess under
// the landlord-manager identity, so that its RSS is its own and its writes
// are the audit log's.
type managerProc struct {
	cmd     *exec.Cmd
	metrics string // host:port
	probe   string

	mu       sync.Mutex
	peakHeap float64 // MiB, sampled
	stopPoll chan struct{}
	done     chan struct{}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func startManager(ctx context.Context, bin, kubeconfig, dnsAddr string, extra []string, log io.Writer) (*managerProc, error) {
	m := &managerProc{stopPoll: make(chan struct{}), done: make(chan struct{})}
	var err error
	if m.metrics, err = freeAddr(); err != nil {
		return nil, err
	}
	if m.probe, err = freeAddr(); err != nil {
		return nil, err
	}
	page, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--kubeconfig=" + kubeconfig,
		"--dns-server=" + dnsAddr,
		"--metrics-bind-address=" + m.metrics,
		"--health-probe-bind-address=" + m.probe,
		"--suspended-page-bind-address=" + page,
	}, extra...)
	m.cmd = exec.Command(bin, args...)
	m.cmd.Stdout, m.cmd.Stderr = log, log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the manager: %w", err)
	}
	go func() { _ = m.cmd.Wait(); close(m.done) }()
	if err := waitFor(ctx, time.Minute, func() (bool, error) {
		select {
		case <-m.done:
			return false, fmt.Errorf("the manager exited during start-up (see the manager log)")
		default:
		}
		resp, err := http.Get("http://" + m.probe + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}); err != nil {
		m.kill()
		return nil, err
	}
	go m.sample()
	return m, nil
}

// sample records the Go heap in use every 500 ms.
func (m *managerProc) sample() {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-m.stopPoll:
			return
		case <-m.done:
			return
		case <-t.C:
		}
		if v, err := m.metric("go_memstats_heap_inuse_bytes"); err == nil {
			m.mu.Lock()
			m.peakHeap = max(m.peakHeap, v/(1<<20))
			m.mu.Unlock()
		}
	}
}

func (m *managerProc) heapPeakMiB() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peakHeap
}

func (m *managerProc) rssPeakMiB() float64 { return peakRSSMiB(m.cmd.Process.Pid) }

// metric sums the samples of one metric family on /metrics.
func (m *managerProc) metric(name string) (float64, error) {
	all, err := m.metricsText()
	if err != nil {
		return 0, err
	}
	return all[name], nil
}

// metricsText sums every metric family's samples.
func (m *managerProc) metricsText() (map[string]float64, error) {
	resp, err := http.Get("http://" + m.metrics + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name := line[:sp]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out, sc.Err()
}

// stop ends the manager with SIGTERM, as a rolling restart would.
func (m *managerProc) stop() {
	close(m.stopPoll)
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		m.kill()
	}
}

func (m *managerProc) kill() {
	_ = m.cmd.Process.Kill()
	<-m.done
}

// quiet waits until the manager has no work queued and made no API write
// for `still`, at most timeout.
func (m *managerProc) quiet(ctx context.Context, a *auditLog, still, timeout time.Duration) error {
	var lastWrites int
	var lastReconciles float64
	since := time.Now()
	return waitEvery(ctx, timeout, 500*time.Millisecond, func() (bool, error) {
		mt, err := m.metricsText()
		if err != nil {
			return false, nil
		}
		w, _ := a.writes()
		rec := mt["controller_runtime_reconcile_total"]
		if w != lastWrites || rec != lastReconciles || mt["workqueue_depth"] > 0 {
			lastWrites, lastReconciles, since = w, rec, time.Now()
			return false, nil
		}
		return time.Since(since) >= still, nil
	})
}

func openLog(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}
