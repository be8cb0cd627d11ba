package memlimit

import (
	"os"
	"path/filepath"
	"testing"
)

func cgroup(t *testing.T, name, content string) string {
	t.Helper()
	root := t.TempDir()
	file := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func noEnv(string) string { return "" }

func TestChoose(t *testing.T) {
	for _, c := range []struct {
		name, flag, root string
		env              func(string) string
		want             int64
	}{
		{"cgroup v2 limit", Auto, cgroup(t, "memory.max", "536870912\n"), noEnv, 483183820},
		{"cgroup v2 without a limit", Auto, cgroup(t, "memory.max", "max\n"), noEnv, 0},
		{"cgroup v1 limit", Auto, cgroup(t, "memory/memory.limit_in_bytes", "1073741824\n"), noEnv, 966367641},
		{"cgroup v1 unlimited", Auto, cgroup(t, "memory/memory.limit_in_bytes", "9223372036854771712\n"), noEnv, 0},
		{"no cgroup files", Auto, t.TempDir(), noEnv, 0},
		{"an explicit quantity wins over the container", "450Mi", cgroup(t, "memory.max", "536870912"), noEnv, 450 << 20},
		{"0 sets none", "0", cgroup(t, "memory.max", "536870912"), noEnv, 0},
		{"GOMEMLIMIT wins", "450Mi", cgroup(t, "memory.max", "536870912"), func(k string) string {
			if k == "GOMEMLIMIT" {
				return "300MiB"
			}
			return ""
		}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Choose(c.flag, c.root, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if got.Bytes != c.want {
				t.Fatalf("limit %d (%s), want %d", got.Bytes, got.Source, c.want)
			}
			if got.Source == "" {
				t.Fatal("no source given")
			}
		})
	}
}

func TestChooseRejectsNonsense(t *testing.T) {
	for _, flag := range []string{"lots", "-1Gi"} {
		if _, err := Choose(flag, t.TempDir(), noEnv); err == nil {
			t.Errorf("%q accepted", flag)
		}
	}
}
