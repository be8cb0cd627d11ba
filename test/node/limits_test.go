package node

import (
	"strings"
	"testing"
)

// The plan's memory limit is the kernel's: the site container's memory
// cgroup has exactly the plan's 64Mi, and a process in the container that
// goes past it is OOM-killed by the node (SIGKILL: exit code 137).
func TestMemoryLimitIsEnforcedByTheNode(t *testing.T) {
	s := newSite(t, "initech")
	pod := readyPod(t, s.ns, s.sub)
	exec := func(script string) (string, error) {
		return kubectl("--as", s.developer, "-n", s.ns, "exec", pod.Name, "-c", "site", "--", "sh", "-c", script)
	}
	out, err := exec("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")
	if err != nil || strings.TrimSpace(out) != "67108864" {
		t.Fatalf("the site container's memory limit = %q (%v), want 67108864 (the plan's 64Mi)", out, err)
	}
	// 150 MB held in a shell variable.
	out, err = exec(`x=$(head -c 150000000 /dev/zero | tr '\0' a); echo ${#x}`)
	if err == nil || !strings.Contains(out, "exit code 137") {
		t.Fatalf("a process past the memory limit was not OOM-killed: %v: %s", err, out)
	}
	// The site itself is still there.
	readyPod(t, s.ns, s.sub)
}
