package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The same binaries give the same archive, byte for byte (so the same digest);
// a different binary gives a different digest.
func TestArchiveIsReproducible(t *testing.T) {
	dir := t.TempDir()
	bin := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	amd, arm := bin("amd64", "amd64 binary"), bin("arm64", "arm64 binary")
	meta := Meta{Version: "v0.0.1", Commit: "abc"}
	build := func(name string, platforms []Platform) ([]byte, string) {
		idx, err := Index(meta, platforms)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name)
		if err := WriteArchive(out, idx, "example.com/landlord:v0.0.1"); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		d, err := idx.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return data, d.String()
	}
	both := []Platform{{OS: "linux", Arch: "amd64", Binary: amd}, {OS: "linux", Arch: "arm64", Binary: arm}}
	a, da := build("a.tar", both)
	b, db := build("b.tar", both)
	if da != db || !bytes.Equal(a, b) {
		t.Fatalf("two builds differ: %s vs %s", da, db)
	}
	other := bin("arm64-other", "another arm64 binary")
	_, dc := build("c.tar", []Platform{both[0], {OS: "linux", Arch: "arm64", Binary: other}})
	if dc == da {
		t.Fatalf("a different binary gave the same digest %s", dc)
	}
}
