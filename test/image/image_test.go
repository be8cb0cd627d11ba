// Package image checks the manager image `make image` writes: an OCI archive
// (image layout in a tar) with an index for linux/amd64 and linux/arm64.
// It reads the archive with the standard library only, independently of the
// builder in hack/image. Run it with `make test-image`, which sets
// LANDLORD_IMAGE, LANDLORD_IMAGE_VERSION and LANDLORD_IMAGE_COMMIT.
package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform"`
}

type index struct {
	MediaType string       `json:"mediaType"`
	Manifests []descriptor `json:"manifests"`
}

type manifest struct {
	MediaType string       `json:"mediaType"`
	Config    descriptor   `json:"config"`
	Layers    []descriptor `json:"layers"`
}

type config struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Config       struct {
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		User       string            `json:"User"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
}

// archive is the OCI layout: file name → content.
type archive map[string][]byte

func (a archive) blob(t *testing.T, d descriptor) []byte {
	t.Helper()
	algo, hexsum, _ := strings.Cut(d.Digest, ":")
	data, ok := a["blobs/"+algo+"/"+hexsum]
	if !ok {
		t.Fatalf("blob %s missing from the archive", d.Digest)
	}
	sum := sha256.Sum256(data)
	if algo != "sha256" || hex.EncodeToString(sum[:]) != hexsum || int64(len(data)) != d.Size {
		t.Fatalf("blob %s: content does not match its digest and size", d.Digest)
	}
	return data
}

func decode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func TestImage(t *testing.T) {
	file := os.Getenv("LANDLORD_IMAGE")
	if file == "" {
		t.Skip("LANDLORD_IMAGE is not set: run `make test-image`")
	}
	wantVersion, wantCommit := os.Getenv("LANDLORD_IMAGE_VERSION"), os.Getenv("LANDLORD_IMAGE_COMMIT")
	if wantVersion == "" || wantCommit == "" {
		t.Fatal("LANDLORD_IMAGE_VERSION and LANDLORD_IMAGE_COMMIT must be set with LANDLORD_IMAGE")
	}
	a := readTar(t, file)
	if !bytes.Contains(a["oci-layout"], []byte(`"imageLayoutVersion"`)) {
		t.Fatalf("oci-layout missing or wrong: %q", a["oci-layout"])
	}
	var top index
	decode(t, a["index.json"], &top)
	if len(top.Manifests) != 1 || top.Manifests[0].MediaType != "application/vnd.oci.image.index.v1+json" {
		t.Fatalf("index.json: want one OCI image index, got %+v", top.Manifests)
	}
	if ref := top.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; ref == "" {
		t.Errorf("index.json names no image reference")
	}
	var idx index
	decode(t, a.blob(t, top.Manifests[0]), &idx)

	var platforms []string
	for _, m := range idx.Manifests {
		if m.Platform == nil {
			t.Fatalf("manifest %s has no platform", m.Digest)
		}
		plat := m.Platform.OS + "/" + m.Platform.Architecture
		platforms = append(platforms, plat)
		t.Run(plat, func(t *testing.T) {
			var man manifest
			decode(t, a.blob(t, m), &man)
			var cfg config
			decode(t, a.blob(t, man.Config), &cfg)
			if cfg.OS+"/"+cfg.Architecture != plat {
				t.Errorf("config is for %s/%s, index says %s", cfg.OS, cfg.Architecture, plat)
			}
			if got := cfg.Config.Entrypoint; len(got) != 1 || got[0] != "/manager" {
				t.Errorf("entrypoint = %q, want [/manager]", got)
			}
			if len(cfg.Config.Cmd) != 0 {
				t.Errorf("cmd = %q, want none", cfg.Config.Cmd)
			}
			if cfg.Config.User != "65532:65532" {
				t.Errorf("user = %q, want 65532:65532", cfg.Config.User)
			}
			if got := cfg.Config.Labels["org.opencontainers.image.version"]; got != wantVersion {
				t.Errorf("version label = %q, want %q", got, wantVersion)
			}
			if got := cfg.Config.Labels["org.opencontainers.image.revision"]; got != wantCommit {
				t.Errorf("revision label = %q, want %q", got, wantCommit)
			}
			files := map[string]*tar.Header{}
			var manager []byte
			for _, l := range man.Layers {
				for hdr, data := range layerFiles(t, a.blob(t, l)) {
					files[hdr.Name] = hdr
					if hdr.Name == "manager" {
						manager = data
					}
				}
			}
			var names []string
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			if want := "etc/ etc/group etc/passwd manager"; strings.Join(names, " ") != want {
				t.Errorf("files = %q, want %q (a static binary, no shell)", names, want)
			}
			if hdr := files["manager"]; hdr == nil || hdr.Mode&0o111 == 0 {
				t.Fatalf("/manager is missing or not executable")
			}
			if m.Platform.OS != runtime.GOOS || m.Platform.Architecture != runtime.GOARCH {
				return // cannot run this architecture's binary here
			}
			bin := filepath.Join(t.TempDir(), "manager")
			if err := os.WriteFile(bin, manager, 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "--version").CombinedOutput()
			if err != nil {
				t.Fatalf("/manager --version: %v\n%s", err, out)
			}
			for _, want := range []string{"landlord " + wantVersion + " ", "commit " + wantCommit} {
				if !strings.Contains(string(out), want) {
					t.Errorf("/manager --version printed %q, want %q in it", out, want)
				}
			}
		})
	}
	sort.Strings(platforms)
	if strings.Join(platforms, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("platforms = %q, want linux/amd64 and linux/arm64", platforms)
	}
}

func readTar(t *testing.T, file string) archive {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := archive{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return a
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		a[path.Clean(hdr.Name)] = data
	}
}

func layerFiles(t *testing.T, gz []byte) map[*tar.Header][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	files := map[*tar.Header][]byte{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr] = data
	}
}
