package node

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ServiceCIDR is the control plane's Service range (internal/controlplane),
// which kube-router's policy controller is told so that it can tell Service
// addresses from pod addresses.
const ServiceCIDR = "10.96.0.0/16"

// PolicyControllerArgs are kube-router's flags on the node: only its
// network-policy controller (iptables filter rules and ipsets in the node's
// network namespace), no routing (the bridge plugin wires pods), no service
// proxy, no CNI configuration of its own, no health or metrics listener.
// NetworkPolicies are then enforced on every packet that crosses the node's
// bridge (bridge-nf-call-iptables, NamespaceScript).
func PolicyControllerArgs(l Layout, nodeName string) []string {
	return []string{
		"--kubeconfig=" + l.path("kubelet.kubeconfig"),
		"--hostname-override=" + nodeName,
		"--run-firewall=true",
		"--run-router=false",
		"--run-service-proxy=false",
		"--run-loadbalancer=false",
		"--enable-cni=false",
		"--enable-ipv4=true",
		"--enable-ipv6=false",
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--health-port=0",
		"--metrics-port=0",
		"--iptables-sync-period=1m",
		"--v=1",
	}
}

// policyChain is the chain kube-router's policy controller hooks into the
// filter table's FORWARD chain once it has synced.
const policyChain = "KUBE-ROUTER-FORWARD"

// startPolicyController starts kube-router's network-policy controller in
// the node's namespaces once the Node object exists (it reads the node's
// address from it) and waits until its chains are in the node's filter
// table.
func (n *Node) startPolicyController(ctx context.Context) error {
	if err := n.spawn("kube-router", filepath.Join(n.opts.BinDir, "kube-router"), PolicyControllerArgs(n.layout, n.Name)...); err != nil {
		return err
	}
	c := n.children[len(n.children)-1]
	var last string
	err := waitFor(time.Minute, func() error {
		if c.exited() {
			return permanent{fmt.Errorf("kube-router exited")}
		}
		out, err := n.inNode(ctx, "iptables", "-w", "5", "-t", "filter", "-S", "FORWARD")
		last = out
		if err != nil {
			return err
		}
		if !strings.Contains(out, "-j "+policyChain) {
			return fmt.Errorf("no %s in FORWARD yet", policyChain)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("kube-router's policy controller did not hook %s (%v; FORWARD: %s)\n--- kube-router:\n%s", policyChain, err, last, n.logTail("kube-router"))
	}
	return nil
}

// inNode runs a command in the node's mount and network namespaces.
func (n *Node) inNode(ctx context.Context, path string, args ...string) (string, error) {
	pid := fmt.Sprint(n.init.Process.Pid)
	out, err := exec.CommandContext(ctx, "nsenter", append([]string{"--target", pid, "--mount", "--net", "--", path}, args...)...).CombinedOutput()
	return string(out), err
}
