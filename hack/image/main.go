// Command image writes the Landlord manager image as an OCI archive without a
// Docker engine: one static binary per platform, user 65532, no shell.
//
//	go run . -out dist/landlord-image.tar -ref ghcr.io/landlord-dev/landlord:v0.1.0 \
//	  -version v0.1.0 -commit <sha> linux/amd64=bin/image/manager-linux-amd64 linux/arm64=...
//
// It prints the digest of the image index.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run() error {
	var meta Meta
	var out, ref string
	flag.StringVar(&out, "out", "", "The OCI archive to write.")
	flag.StringVar(&ref, "ref", "", "The image reference recorded in index.json.")
	flag.StringVar(&meta.Version, "version", "dev", "Version label.")
	flag.StringVar(&meta.Commit, "commit", "", "Commit label.")
	flag.StringVar(&meta.Source, "source", "https://github.com/landlord-dev/landlord", "Source label.")
	flag.Parse()
	if out == "" || ref == "" || flag.NArg() == 0 {
		return fmt.Errorf("usage: image -out FILE -ref REF [flags] os/arch=BINARY...")
	}
	var platforms []Platform
	for _, arg := range flag.Args() {
		plat, bin, ok := strings.Cut(arg, "=")
		goos, arch, ok2 := strings.Cut(plat, "/")
		if !ok || !ok2 {
			return fmt.Errorf("%q: want os/arch=BINARY", arg)
		}
		platforms = append(platforms, Platform{OS: goos, Arch: arch, Binary: bin})
	}
	idx, err := Index(meta, platforms)
	if err != nil {
		return err
	}
	if err := WriteArchive(out, idx, ref); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", out, digest)
	return nil
}
