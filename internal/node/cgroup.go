package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const cgroupFS = "/sys/fs/cgroup"

// cgroupDirs are the directories of cgroup name in every hierarchy: one in
// the unified hierarchy (cgroup v2), or one per v1 controller.
func cgroupDirs(name string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(cgroupFS, "cgroup.controllers")); err == nil {
		return []string{filepath.Join(cgroupFS, name)}, nil
	}
	entries, err := os.ReadDir(cgroupFS)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		// v1 controllers, and the named systemd hierarchy; not the
		// (empty) unified mount of a hybrid layout.
		if e.IsDir() && e.Name() != "unified" {
			dirs = append(dirs, filepath.Join(cgroupFS, e.Name(), name))
		}
	}
	return dirs, nil
}

// makeCgroupRoot creates the node's cgroup in every hierarchy (the kubelet
// checks that its cgroupRoot exists) and returns its cgroup path ("/name").
// On v1, its cpuset gets its parent's CPUs and memory nodes, without which
// no process may join it or a child.
func makeCgroupRoot(name string) (string, error) {
	dirs, err := cgroupDirs(name)
	if err != nil {
		return "", err
	}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "/" + name, fmt.Errorf("creating cgroup %s: %w", d, err)
		}
		if filepath.Base(filepath.Dir(d)) == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(filepath.Dir(d), f))
				if err == nil {
					err = os.WriteFile(filepath.Join(d, f), v, 0o644)
				}
				if err != nil {
					return "/" + name, fmt.Errorf("setting %s of %s: %w", f, d, err)
				}
			}
		}
	}
	return "/" + name, nil
}

// removeCgroupRoot removes the node's cgroup and every cgroup under it,
// deepest first, retrying while the killed processes leave them.
func removeCgroupRoot(root string) error {
	dirs, err := cgroupDirs(strings.TrimPrefix(root, "/"))
	if err != nil {
		return err
	}
	var last error
	deadline := time.Now().Add(15 * time.Second)
	for {
		last = nil
		for _, d := range dirs {
			if err := removeTree(d); err != nil {
				last = err
			}
		}
		if last == nil || time.Now().After(deadline) {
			return last
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// removeTree rmdirs a cgroup directory and its sub-cgroups (cgroup files
// cannot, and need not, be removed).
func removeTree(dir string) error {
	var subdirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			subdirs = append(subdirs, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sort.Slice(subdirs, func(i, j int) bool { return len(subdirs[i]) > len(subdirs[j]) })
	var errs []error
	for _, d := range subdirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
