package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// cpuSeconds is a process's user + system CPU time so far, from
// /proc/<pid>/stat (fields 14 and 15, after the parenthesised command name).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return (utime + stime) / clockTicks, nil
}

// findProcess is the pid of the process running the binary named base
// whose command line contains marker (a path of this run's control plane,
// so that another developer's control plane on the machine is never
// mistaken for ours).
func findProcess(base, marker string) (int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) != base || !strings.Contains(string(b), marker) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err == nil {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no %s process with %q in its command line", base, marker)
}

// cpuMeter reads the CPU time of this cluster's kube-apiserver and etcd.
type cpuMeter struct{ apiserver, etcd int }

func (cl *cluster) cpuMeter() (cpuMeter, error) {
	api, err := findProcess("kube-apiserver", cl.audit.path)
	if err != nil {
		return cpuMeter{}, err
	}
	etcd, err := findProcess("etcd", filepath.Join(cl.dir, "state", "etcd"))
	if err != nil {
		return cpuMeter{}, err
	}
	return cpuMeter{apiserver: api, etcd: etcd}, nil
}

// cpuSample is the CPU seconds of kube-apiserver and etcd at one instant.
type cpuSample struct{ apiserver, etcd float64 }

func (m cpuMeter) sample() cpuSample {
	a, _ := cpuSeconds(m.apiserver)
	e, _ := cpuSeconds(m.etcd)
	return cpuSample{apiserver: a, etcd: e}
}

func (s cpuSample) sub(before cpuSample) cpuSample {
	return cpuSample{apiserver: s.apiserver - before.apiserver, etcd: s.etcd - before.etcd}
}

// apiRequests are kube-apiserver's counters of requests served, by
// "VERB resource[/subresource]" (apiserver_request_total, every user, reads
// and watches included), and of watch events sent, by "watch events resource"
// (apiserver_watch_events_total).
func (cl *cluster) apiRequests(ctx context.Context) (map[string]float64, error) {
	cs, err := kubernetes.NewForConfig(cl.cp.Config)
	if err != nil {
		return nil, err
	}
	b, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, "{")
		if !ok || (name != "apiserver_request_total" && name != "apiserver_watch_events_total") {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		l := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, val, _ := strings.Cut(kv, "=")
			l[k] = strings.Trim(val, `"`)
		}
		key := "watch events " + l["resource"]
		if name == "apiserver_request_total" {
			key = l["verb"] + " " + l["resource"]
			if l["subresource"] != "" {
				key += "/" + l["subresource"]
			}
		}
		out[key] += v
	}
	return out, nil
}

// processCPU reads the CPU time of every process of a full-mode side: its
// control plane's (those found), the manager and this benchmark, which all
// share the machine's cores.
type processCPU map[string]int

func (cl *cluster) processCPU(manager int) processCPU {
	p := processCPU{"manager": manager, "benchmark": os.Getpid()}
	for _, name := range []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok"} {
		if pid, err := findProcess(name, cl.dir); err == nil {
			p[name] = pid
		}
	}
	return p
}

// sample is each process's CPU seconds so far.
func (p processCPU) sample() map[string]float64 {
	out := map[string]float64{}
	for name, pid := range p {
		out[name], _ = cpuSeconds(pid)
	}
	return out
}

// since is each process's CPU seconds from before to now.
func (p processCPU) since(before map[string]float64) map[string]float64 {
	out := p.sample()
	for name := range out {
		out[name] -= before[name]
	}
	return out
}
