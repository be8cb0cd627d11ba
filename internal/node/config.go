package node

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
)

// Layout is where one node keeps its files: everything under State, so that
// removing State removes the node.
type Layout struct {
	State  string // the node's state directory (absolute)
	CNIBin string // directory of the CNI plugin binaries
}

func (l Layout) path(p ...string) string { return filepath.Join(append([]string{l.State}, p...)...) }

// ContainerdSocket is containerd's gRPC socket, reachable from the host.
func (l Layout) ContainerdSocket() string { return l.path("containerd.sock") }

// EgressSocket is the API server's way into the node's network namespace
// (its egress selector's HTTP CONNECT proxy).
func (l Layout) EgressSocket() string { return l.path("egress.sock") }

// Network is the node's pod network: a bridge in the node's own network
// namespace with the node's address on it, and the pods' subnet.
type Network struct {
	Bridge string // bridge name, e.g. landlord0
	Subnet string // CIDR, e.g. 10.244.0.0/24
	NodeIP string // the bridge's (gateway's) address, e.g. 10.244.0.1
	Prefix int    // the subnet's prefix length
}

// DefaultNetwork is every node's network: it lives in the node's own network
// namespace, so two nodes on one machine do not clash, and nothing in it is
// routed to or from the host.
var DefaultNetwork = Network{Bridge: "landlord0", Subnet: "10.244.0.0/24", NodeIP: "10.244.0.1", Prefix: 24}

// ContainerdConfig is containerd 1.6's configuration (version 2): its own
// root, state and sockets under the node's state directory; the CRI plugin
// with the local pause image, runc with cgroupfs, CNI from the node's
// directories, and restrict_oom_score_adj (a process here may not lower its
// OOM score: without it runc fails the sandbox with "can't get final
// child's PID from pipe").
func ContainerdConfig(l Layout) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return fmt.Sprintf(`version = 2
root = %s
state = %s
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = %s

[ttrpc]
  address = %s

[plugins."io.containerd.internal.v1.opt"]
  path = %s

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %s
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %s
    conf_dir = %s
    max_conf_num = 1
`, q(l.path("containerd", "root")), q(l.path("containerd", "state")), q(l.ContainerdSocket()), q(l.ContainerdSocket()+".ttrpc"),
		q(l.path("containerd", "opt")), q(PauseImage), q(l.CNIBin), q(l.path("cni", "net.d")))
}

// CNIConfig is the pod network: the bridge plugin on the node's bridge
// (the node's address is its gateway; no masquerading: nothing leaves the
// node), host-local addresses from the subnet, portmap for hostPorts.
func CNIConfig(l Layout, n Network) string {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "landlord",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": n.Bridge, "isGateway": true, "ipMasq": false, "hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": n.Subnet, "gateway": n.NodeIP}}},
					"dataDir": l.path("cni", "ipam"),
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	b, _ := json.MarshalIndent(conf, "", "  ")
	return string(b) + "\n"
}

// KubeletPort is the kubelet's port, on the loopback of the node's network
// namespace: only the egress proxy (so only the API server) reaches it, not
// the pods on the bridge.
const KubeletPort = 10250

// KubeletConfig is the KubeletConfiguration of a node on this kind of
// machine (cgroup v1, no systemd, no swap accounting):
//   - failCgroupV1: false — the kubelet refuses cgroup v1 otherwise; on a
//     cgroup v2 machine the setting is ignored.
//   - cgroupDriver cgroupfs, cgroupsPerQOS false, enforceNodeAllocatable []:
//     the pods' cgroups are made by runc under cgroupRoot, a hierarchy of
//     this node's own (removed by Stop), with each container's limits; there
//     are no QoS-class or node-allocatable cgroups.
//   - the server on the namespace's loopback, anonymous and AlwaysAllow: the
//     API server reaches it through the egress proxy without a client
//     certificate (envtest makes none); no pod can reach it.
//   - resolvConf "": pods get no DNS of the host (sites need none).
func KubeletConfig(l Layout, cgroupRoot string) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
cgroupRoot: %s
enforceNodeAllocatable: []
failSwapOn: false
containerRuntimeEndpoint: unix://%s
podLogsDir: %s
volumePluginDir: %s
resolvConf: ""
registerNode: true
serializeImagePulls: false
maxPods: 110
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: "1%%"
  imagefs.available: "1%%"
nodeStatusUpdateFrequency: 2s
syncFrequency: 5s
fileCheckFrequency: 5s
`, KubeletPort, cgroupRoot, l.ContainerdSocket(), l.path("pod-logs"), l.path("volume-plugins"))
}

// EgressSelectorConfig routes the API server's traffic to the cluster
// (kubelets: logs, exec, port-forward; pod and Service proxies) through the
// node's HTTP CONNECT proxy on a unix socket.
func EgressSelectorConfig(socket string) string {
	return `apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: ` + socket + "\n"
}

// NamespaceScript is pid 1 of the node's namespaces (new mount, network and
// PID namespaces): it makes every mount private (nothing propagates to the
// host), mounts /proc for the new PID namespace and tmpfs over /run,
// /var/lib and /var/log (where containerd's shims, runc, the CNI cache and
// the kubelet's pod-log links would otherwise write on the host), brings up
// loopback and the bridge with the node's address, writes readyFile and
// sleeps. Killing it kills every process of the node, pods included.
func NamespaceScript(n Network, readyFile string) string {
	return strings.Join([]string{
		"set -e",
		"mount --make-rprivate /",
		"mount -t proc proc /proc",
		"mount -t tmpfs -o mode=0755 landlord-node /run",
		"mount -t tmpfs -o mode=0755 landlord-node /var/lib",
		"mount -t tmpfs -o mode=0755 landlord-node /var/log",
		"mkdir -p /var/lib/cni /run/containerd",
		"ip link set lo up",
		fmt.Sprintf("ip link add name %s type bridge", n.Bridge),
		fmt.Sprintf("ip addr add %s/%d dev %s", n.NodeIP, n.Prefix, n.Bridge),
		fmt.Sprintf("ip link set %s up", n.Bridge),
		// Packets between pods on the bridge traverse iptables, where the
		// policy controller filters them (the default of a new namespace,
		// made explicit).
		"echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables",
		"echo ready > " + readyFile,
		"exec sleep infinity",
	}, "\n") + "\n"
}
