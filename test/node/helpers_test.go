package node

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/controlplane"
)

// wait bounds every wait for the node: a pod start is a second or two here,
// an image already imported.
const wait = 2 * time.Minute

// kubectl runs the pinned kubectl against the control plane (as the admin,
// or as whom --as names) and returns its output.
func kubectl(args ...string) (string, error) { return kubectlIn("", args...) }

// kubectlIn is kubectl with stdin.
func kubectlIn(stdin string, args ...string) (string, error) {
	bin := os.Getenv("LANDLORD_KUBECTL")
	if bin == "" {
		bin = filepath.Join(controlplane.BinDir(), "kubectl")
	}
	cmd := exec.Command(bin, append([]string{"--kubeconfig", env.CP.KubeconfigPath}, args...)...)
	var out bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

var forwarding = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) ->`)

// portForward runs `kubectl port-forward` to target (e.g. service/site-www)
// in ns, on a free loopback port, and returns the local base URL; the
// forward stops with the test.
func portForward(t *testing.T, ns, target string, port int, as ...string) string {
	t.Helper()
	bin := os.Getenv("LANDLORD_KUBECTL")
	if bin == "" {
		bin = filepath.Join(controlplane.BinDir(), "kubectl")
	}
	args := append([]string{"--kubeconfig", env.CP.KubeconfigPath}, as...)
	args = append(args, "-n", ns, "port-forward", "--address", "127.0.0.1", target, fmt.Sprintf(":%d", port))
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("kubectl port-forward %s exited: %s", target, stderr.String())
			}
			if m := forwarding.FindStringSubmatch(l); m != nil {
				go func() {
					for range lines {
					}
				}()
				return "http://127.0.0.1:" + m[1]
			}
		case <-timeout:
			t.Fatalf("kubectl port-forward %s did not start forwarding: %s", target, stderr.String())
		}
	}
}

// get fetches url and returns its status and body.
func get(url string) (int, string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// readyPod is the site's one pod once it is Running and Ready.
func readyPod(t *testing.T, ns, sub string) *corev1.Pod {
	t.Helper()
	var ready *corev1.Pod
	eventually(t, wait, func() error {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{v1.SubscriptionLabel: sub}); err != nil {
			return err
		}
		var states []string
		for i, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && podReady(&p) {
				ready = &pods.Items[i]
				return nil
			}
			states = append(states, fmt.Sprintf("%s %s ready=%v %s", p.Name, p.Status.Phase, podReady(&p), containerState(&p)))
		}
		return fmt.Errorf("no ready site pod in %s: %v", ns, states)
	})
	return ready
}

// noPods waits until the site has no pod at all.
func noPods(t *testing.T, ns, sub string) {
	t.Helper()
	eventually(t, wait, func() error {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{v1.SubscriptionLabel: sub}); err != nil {
			return err
		}
		if len(pods.Items) > 0 {
			return fmt.Errorf("%d site pods in %s still (%s %s)", len(pods.Items), ns, pods.Items[0].Name, pods.Items[0].Status.Phase)
		}
		return nil
	})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func containerState(p *corev1.Pod) string {
	var s []string
	for _, c := range p.Status.ContainerStatuses {
		switch {
		case c.State.Waiting != nil:
			s = append(s, c.Name+": waiting "+c.State.Waiting.Reason+" "+c.State.Waiting.Message)
		case c.State.Terminated != nil:
			s = append(s, c.Name+": terminated "+c.State.Terminated.Reason)
		case c.State.Running != nil:
			s = append(s, c.Name+": running")
		}
	}
	return strings.Join(s, "; ")
}

// eventually is testenv.Eventually with a poll suited to a real node.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func q(s string) *resource.Quantity { return ptr.To(resource.MustParse(s)) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
