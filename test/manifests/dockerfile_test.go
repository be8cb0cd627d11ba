package manifests

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// No Docker engine runs here, so the Dockerfile is checked for what would
// break `make docker-build`: every COPY source exists, the builder's Go
// matches go.mod, and the build command it runs produces a static binary.
func TestDockerfileBuilds(t *testing.T) {
	f, err := os.Open(filepath.Join(env.Root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	goMod, err := os.ReadFile(filepath.Join(env.Root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var goVersion string
	for _, l := range strings.Split(string(goMod), "\n") {
		if v, ok := strings.CutPrefix(l, "go "); ok {
			goVersion = strings.Join(strings.Split(v, ".")[:2], ".")
		}
	}
	sc := bufio.NewScanner(f)
	sawBuilder := false
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "FROM":
			if img, ok := strings.CutPrefix(fields[1], "golang:"); ok {
				sawBuilder = true
				if img != goVersion {
					t.Errorf("builder image golang:%s, but go.mod says go %s", img, goVersion)
				}
			}
		case "COPY":
			if strings.HasPrefix(fields[1], "--from") {
				continue
			}
			for _, src := range fields[1 : len(fields)-1] {
				if _, err := os.Stat(filepath.Join(env.Root, src)); err != nil {
					t.Errorf("COPY %s: %v", src, err)
				}
			}
		}
	}
	if !sawBuilder {
		t.Error("no golang builder stage")
	}
	out := filepath.Join(t.TempDir(), "manager")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/manager")
	cmd.Dir = env.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's build fails: %v\n%s", err, b)
	}
	if b, _ := exec.Command("file", out).Output(); len(b) > 0 && !strings.Contains(string(b), "statically linked") {
		t.Errorf("the manager binary is not static: %s", b)
	}
}
