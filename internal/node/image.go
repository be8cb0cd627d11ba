package node

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ImageUser is the numeric user and group every image here runs as: the
// site Deployment's runAsNonRoot needs a numeric, non-zero user.
const ImageUser = "65532:65532"

// The images the node imports into its containerd: no registry is involved,
// and site pods find them with imagePullPolicy IfNotPresent (the default
// for a tag other than :latest).
const (
	// PauseImage is the pod sandbox (containerd's sandbox_image).
	PauseImage = "landlord.local/pause:dev"
	// StaticSiteImage serves the files of its volume: the local platform's
	// and test/node's "static" template.
	StaticSiteImage = "landlord.local/static-site:dev"
)

// Image is a one-binary image built from a package of this repository.
type Image struct {
	Ref string
	// Package is the Go package (relative to the repository root) whose
	// static binary is the image's entrypoint, /<base name of Package>.
	Package string
	// Busybox adds Debian's static busybox (package busybox-static) as
	// /bin/busybox with /bin/sh, tar, cat, ls and friends: a Developer's
	// `kubectl exec` and `kubectl cp` (which runs tar) need them.
	Busybox bool
}

// Images are the images every node imports.
var Images = []Image{
	{Ref: PauseImage, Package: "./hack/nodeimages/pause"},
	{Ref: StaticSiteImage, Package: "./hack/nodeimages/static-site", Busybox: true},
}

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// busyboxApplets are the commands linked to /bin/busybox in an image.
var busyboxApplets = []string{"sh", "tar", "cat", "ls", "mkdir", "rm", "cp", "mv", "echo", "head", "tail", "tr", "wc", "sleep", "id", "env", "ps"}

// BuildArchive builds img's binary (static: CGO off) from the repository at
// repo and writes it as a docker-archive ("docker save" format, which
// `ctr images import` reads) in dir; it returns the archive's path.
func BuildArchive(ctx context.Context, repo, dir string, img Image) (string, error) {
	name := filepath.Base(img.Package)
	bin := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, img.Package)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", img.Package, err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	var extra []File
	if img.Busybox {
		bb, err := staticBusybox()
		if err != nil {
			return "", err
		}
		extra = append(extra, File{Path: BusyboxPath, Mode: 0o755, Data: bb})
		for _, a := range busyboxApplets {
			extra = append(extra, File{Path: "/bin/" + a, Link: "busybox"})
		}
	}
	archive, err := DockerArchive(img.Ref, runtime.GOARCH, "/"+name, data, extra...)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, name+".tar")
	return out, os.WriteFile(out, archive, 0o644)
}

// staticBusybox reads BusyboxPath and checks that it is statically linked
// (no ELF interpreter): an image here has no libc.
func staticBusybox() ([]byte, error) {
	f, err := elf.Open(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("%s (Debian's busybox-static; run 'make node'): %w", BusyboxPath, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, fmt.Errorf("%s is dynamically linked: install Debian's busybox-static ('make node')", BusyboxPath)
		}
	}
	return os.ReadFile(BusyboxPath)
}

// File is a file or, with Link, a symbolic link in an image.
type File struct {
	Path string // absolute
	Mode int64
	Data []byte
	Link string
}

// DockerArchive is a docker-archive holding one image ref: one layer with
// the binary at entrypoint (mode 0755), the extra files and /tmp, run as
// ImageUser. Fixed times: the same inputs give the same bytes.
func DockerArchive(ref, arch, entrypoint string, binary []byte, extra ...File) ([]byte, error) {
	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	epoch := time.Unix(0, 0).UTC()
	files := append([]File{{Path: entrypoint, Mode: 0o755, Data: binary}}, extra...)
	dirs := map[string]bool{"tmp/": true}
	headers := []*tar.Header{{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: epoch}}
	for _, f := range files {
		if d := strings.TrimPrefix(filepath.Dir(f.Path), "/"); d != "" && !dirs[d+"/"] {
			dirs[d+"/"] = true
			headers = append(headers, &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch})
		}
	}
	for _, h := range headers {
		if err := lw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(f.Path, "/"), Mode: f.Mode, Size: int64(len(f.Data)), ModTime: epoch}
		if f.Link != "" {
			h = &tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(f.Path, "/"), Linkname: f.Link, Mode: 0o777, ModTime: epoch}
		}
		if err := lw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := lw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := lw.Close(); err != nil {
		return nil, err
	}
	layerSum := sha256.Sum256(layer.Bytes())
	layerID := hex.EncodeToString(layerSum[:])
	config, err := json.Marshal(map[string]any{
		"architecture": arch,
		"os":           "linux",
		"created":      epoch.Format(time.RFC3339),
		"config": map[string]any{
			"User":       ImageUser,
			"Entrypoint": []string{entrypoint},
			"WorkingDir": "/",
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerID}},
		"history": []map[string]string{{"created": epoch.Format(time.RFC3339), "created_by": "internal/node: " + entrypoint}},
	})
	if err != nil {
		return nil, err
	}
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{
		"Config": configName, "RepoTags": []string{ref}, "Layers": []string{layerID + "/layer.tar"},
	}})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, f := range []struct {
		name string
		data []byte
	}{{configName, config}, {layerID + "/layer.tar", layer.Bytes()}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
