package node

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

var testLayout = Layout{State: "/tmp/node-x", CNIBin: "/repo/bin/cni"}

// Everything containerd, the CNI plugins and the kubelet write goes under
// the node's state directory, and the settings this machine needs are there.
func TestConfigsStayInTheStateDirectory(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"containerd", ContainerdConfig(testLayout), []string{
			`root = "/tmp/node-x/containerd/root"`, `state = "/tmp/node-x/containerd/state"`,
			`address = "/tmp/node-x/containerd.sock"`, `sandbox_image = "landlord.local/pause:dev"`,
			`restrict_oom_score_adj = true`, `netns_mounts_under_state_dir = true`, `SystemdCgroup = false`,
			`bin_dir = "/repo/bin/cni"`, `conf_dir = "/tmp/node-x/cni/net.d"`,
		}},
		{"kubelet", KubeletConfig(testLayout, "/landlord-node-1"), []string{
			"address: 127.0.0.1", "failCgroupV1: false", "cgroupDriver: cgroupfs", "cgroupsPerQOS: false",
			"cgroupRoot: /landlord-node-1", "enforceNodeAllocatable: []", "failSwapOn: false",
			"containerRuntimeEndpoint: unix:///tmp/node-x/containerd.sock", "podLogsDir: /tmp/node-x/pod-logs",
			"volumePluginDir: /tmp/node-x/volume-plugins",
		}},
		{"egress", EgressSelectorConfig("/tmp/node-x/egress.sock"), []string{
			"name: cluster", "proxyProtocol: HTTPConnect", "udsName: /tmp/node-x/egress.sock",
		}},
		{"namespaces", NamespaceScript(DefaultNetwork, "/tmp/node-x/ready"), []string{
			"mount --make-rprivate /", "mount -t proc proc /proc", "ip link add name landlord0 type bridge",
			"ip addr add 10.244.0.1/24 dev landlord0", "echo ready > /tmp/node-x/ready",
			"echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables",
		}},
		// Only the policy controller of kube-router: no routes, no service
		// proxy, no CNI file beside the bridge's, nothing listening.
		{"kube-router", strings.Join(PolicyControllerArgs(testLayout, "n1"), "\n"), []string{
			"--kubeconfig=/tmp/node-x/kubelet.kubeconfig", "--hostname-override=n1", "--run-firewall=true",
			"--run-router=false", "--run-service-proxy=false", "--run-loadbalancer=false", "--enable-cni=false",
			"--service-cluster-ip-range=10.96.0.0/16", "--health-port=0", "--metrics-port=0",
		}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.text, w) {
				t.Errorf("%s config lacks %q:\n%s", tc.name, w, tc.text)
			}
		}
	}
}

// The pod network is the node's bridge and subnet, its gateway the node,
// with no masquerading (nothing leaves the node) and IPAM state kept in the
// node's directory.
func TestCNIConfig(t *testing.T) {
	var conf struct {
		Plugins []struct {
			Type, Bridge string
			IsGateway    bool
			IPMasq       bool
			IPAM         struct {
				Type    string
				DataDir string
				Ranges  [][]struct{ Subnet, Gateway string }
			}
		}
	}
	if err := json.Unmarshal([]byte(CNIConfig(testLayout, DefaultNetwork)), &conf); err != nil {
		t.Fatal(err)
	}
	b := conf.Plugins[0]
	if b.Type != "bridge" || b.Bridge != "landlord0" || !b.IsGateway || b.IPMasq {
		t.Errorf("bridge plugin = %+v", b)
	}
	if b.IPAM.Type != "host-local" || b.IPAM.DataDir != "/tmp/node-x/cni/ipam" ||
		b.IPAM.Ranges[0][0].Subnet != "10.244.0.0/24" || b.IPAM.Ranges[0][0].Gateway != "10.244.0.1" {
		t.Errorf("ipam = %+v", b.IPAM)
	}
	if conf.Plugins[1].Type != "portmap" {
		t.Errorf("second plugin = %q, want portmap", conf.Plugins[1].Type)
	}
}

// The API server's CONNECTs to the node go into the node's network
// namespace (the kubelet to its loopback), anything else from the host.
func TestEgressTargets(t *testing.T) {
	p, err := startEgressProxy(t.TempDir()+"/egress.sock", nil, DefaultNetwork)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for _, tc := range []struct {
		addr, dial string
		inside     bool
	}{
		{"10.244.0.1:10250", "127.0.0.1:10250", true},
		{"10.244.0.7:8080", "10.244.0.7:8080", true},
		{"10.244.0.1:8080", "10.244.0.1:8080", true},
		{"127.0.0.1:9443", "127.0.0.1:9443", false},
		{"10.96.0.10:443", "10.96.0.10:443", false},
	} {
		dial, inside, err := p.target(tc.addr)
		if err != nil || dial != tc.dial || inside != tc.inside {
			t.Errorf("target(%s) = %s, %v, %v; want %s, %v", tc.addr, dial, inside, err, tc.dial, tc.inside)
		}
	}
}

// An image is the binary at its entrypoint, run as a non-root user, its
// extra files and links beside it, under the ref ctr will import.
func TestDockerArchive(t *testing.T) {
	a, err := DockerArchive("landlord.local/x:dev", "amd64", "/x", []byte("binary"),
		File{Path: "/bin/busybox", Mode: 0o755, Data: []byte("bb")}, File{Path: "/bin/sh", Link: "busybox"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := DockerArchive("landlord.local/x:dev", "amd64", "/x", []byte("binary"),
		File{Path: "/bin/busybox", Mode: 0o755, Data: []byte("bb")}, File{Path: "/bin/sh", Link: "busybox"})
	if !bytes.Equal(a, b) {
		t.Error("two archives of the same inputs differ")
	}
	files := untar(t, a)
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 1 || manifest[0].RepoTags[0] != "landlord.local/x:dev" || len(manifest[0].Layers) != 1 {
		t.Fatalf("manifest = %+v", manifest)
	}
	var config struct {
		Config struct {
			User       string
			Entrypoint []string
		}
	}
	if err := json.Unmarshal(files[manifest[0].Config], &config); err != nil {
		t.Fatal(err)
	}
	if config.Config.User != "65532:65532" || config.Config.Entrypoint[0] != "/x" {
		t.Errorf("config = %+v", config.Config)
	}
	layer := tar.NewReader(bytes.NewReader(files[manifest[0].Layers[0]]))
	got := map[string]string{}
	for {
		h, err := layer.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(layer)
		got[h.Name] = string(data) + h.Linkname
	}
	for name, want := range map[string]string{"x": "binary", "bin/busybox": "bb", "bin/sh": "busybox", "tmp/": ""} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("layer entry %s = %q (present %v), want %q", name, v, ok, want)
		}
	}
}

func untar(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	r := tar.NewReader(bytes.NewReader(b))
	out := map[string][]byte{}
	for {
		h, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name], _ = io.ReadAll(r)
	}
}
