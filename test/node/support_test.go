package node

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The provider's support group, with the customer's consent (a Support
// Membership), reads the site's real log and runs a command in its real
// container, but cannot read the site's Secrets.
func TestSupportReadsLogsAndExecsButNoSecrets(t *testing.T) {
	s := newSite(t, "globex")
	support := []string{"--as", "agent@provider.test", "--as-group", cfg.SupportGroup}
	pod := readyPod(t, s.ns, s.sub)

	// The kubelet's log of the container: the server's first line (once
	// the Membership controller has bound the support group).
	eventually(t, wait, func() error {
		out, err := kubectl(append(support, "-n", s.ns, "logs", pod.Name, "-c", "site")...)
		if err != nil || !strings.Contains(out, "serving "+dataPath+" on :8080") {
			return errorf("support's kubectl logs %s: %v: %q", pod.Name, err, out)
		}
		return nil
	})
	// A command in the container, as its non-root user.
	out, err := kubectl(append(support, "-n", s.ns, "exec", pod.Name, "-c", "site", "--", "id", "-u")...)
	if err != nil || strings.TrimSpace(out) != "65532" {
		t.Fatalf("support's exec id -u in %s = %q (%v), want 65532", pod.Name, out, err)
	}
	// A Secret of the site is not theirs to read.
	must(t, env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "db"},
		StringData: map[string]string{"password": "hunter2"}}))
	out, err = kubectl(append(support, "-n", s.ns, "get", "secret", "db", "-o", "yaml")...)
	if err == nil || !strings.Contains(out, "Forbidden") || strings.Contains(out, "password") {
		t.Fatalf("support read secret %s/db: %v: %s", s.ns, err, out)
	}
}
