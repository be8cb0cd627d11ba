package node

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// hostPathProvisionerDir is where kube-controller-manager's host-path
// provisioner (controlplane.Options.VolumeProvisioner) makes each volume.
const hostPathProvisionerDir = "/tmp/hostpath_pv/"

// volumeFixer makes the provisioner's volumes writable by the pods' users.
// The provisioner creates each directory 0750 and owned by root, so the
// site container — non-root, as its restricted security context demands —
// could neither read nor write its own volume; kind's local-path
// provisioner creates them 0777, and so does this, on each PersistentVolume
// it sees. Stop removes the directories it fixed (the node's disk).
type volumeFixer struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	dirs   map[string]bool
}

func startVolumeFixer(cs kubernetes.Interface) *volumeFixer {
	ctx, cancel := context.WithCancel(context.Background())
	v := &volumeFixer{cancel: cancel, done: make(chan struct{}), dirs: map[string]bool{}}
	go func() {
		defer close(v.done)
		for ctx.Err() == nil {
			v.sync(ctx, cs)
			select {
			case <-ctx.Done():
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	return v
}

func (v *volumeFixer) sync(ctx context.Context, cs kubernetes.Interface) {
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, pv := range pvs.Items {
		hp := pv.Spec.HostPath
		if hp == nil || !strings.HasPrefix(hp.Path, hostPathProvisionerDir) || v.dirs[hp.Path] {
			continue
		}
		if err := os.Chmod(hp.Path, 0o777); err == nil {
			v.dirs[hp.Path] = true
		}
	}
}

func (v *volumeFixer) stop() {
	v.cancel()
	<-v.done
}

func (v *volumeFixer) remove() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	var errs []error
	for d := range v.dirs {
		errs = append(errs, os.RemoveAll(d))
	}
	return errors.Join(errs...)
}
