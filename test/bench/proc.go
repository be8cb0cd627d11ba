package main

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

// peakRSSMiB is a process's peak resident set size (VmHWM) in MiB.
func peakRSSMiB(pid int) float64 { return procStatusMiB(pid, "VmHWM") }

// procStatusMiB is a field of /proc/<pid>/status given in kB (VmRSS, VmHWM), in MiB.
func procStatusMiB(pid int, field string) float64 {
	f, err := os.Open("/proc/" + itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
