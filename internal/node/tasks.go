package node

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// RunningTasks asks the node's containerd (`ctr -n k8s.io tasks ls`, the
// namespace the kubelet's CRI uses) which containers have a running
// process: the IDs a pod's status names after "containerd://".
func (n *Node) RunningTasks(ctx context.Context) (map[string]bool, error) {
	out, err := exec.CommandContext(ctx, "ctr", "--address", n.layout.ContainerdSocket(), "-n", "k8s.io", "tasks", "ls").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ctr tasks ls: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return parseTasks(string(out)), nil
}

// parseTasks reads ctr's table (TASK PID STATUS) into the IDs whose
// status is RUNNING.
func parseTasks(out string) map[string]bool {
	running := map[string]bool{}
	for i, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 3 {
			continue
		}
		if f[2] == "RUNNING" {
			running[f[0]] = true
		}
	}
	return running
}
