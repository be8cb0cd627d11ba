// Package memlimit chooses the Go runtime's soft memory limit. The cache's
// initial sync decodes every kind at once and peaks at two to three times
// the heap that stays live (`make bench BENCH_MODE=memory`); without a soft
// limit the runtime lets the heap grow to twice what was live at the last
// collection, and a container limit sized for the live cache kills the
// manager during its start. With a soft limit below the container's the
// collector works harder near it instead.
package memlimit

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Auto is the flag value that derives the limit from the container's.
const Auto = "auto"

// Fraction of the container's memory limit the soft limit is set to: the
// rest is for what the runtime does not count (stacks of threads in cgo,
// the binary's text) and for the collector's lag.
const Fraction = 0.9

// Choice is a soft memory limit in bytes (0: none) and where it came from.
type Choice struct {
	Bytes  int64
	Source string
}

// Choose returns the soft limit for flag (Auto, a quantity such as
// "450Mi", or "0" for none). GOMEMLIMIT, when set, wins: the runtime has
// applied it already. Auto reads the container's limit under cgroupRoot
// (normally /sys/fs/cgroup; cgroup v2, then v1) and takes Fraction of it;
// no limit there means none here.
func Choose(flag, cgroupRoot string, getenv func(string) string) (Choice, error) {
	if v := getenv("GOMEMLIMIT"); v != "" {
		return Choice{Source: "GOMEMLIMIT=" + v + " (the runtime's own)"}, nil
	}
	if flag != Auto {
		q, err := resource.ParseQuantity(flag)
		if err != nil || q.Sign() < 0 {
			return Choice{}, fmt.Errorf("--memory-limit %q: want %q, 0 or a quantity such as 450Mi", flag, Auto)
		}
		return Choice{Bytes: q.Value(), Source: "--memory-limit"}, nil
	}
	limit, file, ok := containerLimit(cgroupRoot)
	if !ok {
		return Choice{Source: "no container memory limit found"}, nil
	}
	return Choice{Bytes: int64(float64(limit) * Fraction), Source: fmt.Sprintf("%.0f%% of %d bytes in %s", Fraction*100, limit, file)}, nil
}

// containerLimit reads the memory limit of the process's cgroup: v2's
// memory.max ("max" for none), or v1's memory.limit_in_bytes (a value near
// MaxInt64 for none).
func containerLimit(root string) (int64, string, bool) {
	for _, name := range []string{"memory.max", filepath.Join("memory", "memory.limit_in_bytes")} {
		file := filepath.Join(root, name)
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= math.MaxInt64/2 {
			return 0, file, false // "max", or v1's "unlimited"
		}
		return n, file, true
	}
	return 0, "", false
}
