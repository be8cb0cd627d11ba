# Landlord — build, test and run. `make help` lists the targets.

# Pinned tool versions. Everything is built from the Go module proxy into bin/.
CONTROLLER_GEN_VERSION ?= v0.23.0
KUSTOMIZE_VERSION      ?= v5.8.2
KWOK_VERSION           ?= v0.8.0
# The Kubernetes version is pinned in hack/tools/go.mod; this stamps the binaries.
KUBE_VERSION           ?= v1.37.1

IMG ?= ghcr.io/landlord-dev/landlord:dev
ARGS ?=
BENCH_N ?= 200
TEST_PKGS ?= ./...
TEST_ARGS ?=

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

ROOT := $(abspath .)
BIN  := $(ROOT)/bin
export PATH := $(BIN):$(PATH)
# envtest finds etcd and kube-apiserver here; our harness finds the rest.
export KUBEBUILDER_ASSETS := $(BIN)
export LANDLORD_BIN_DIR := $(BIN)

# Versioned names, so that changing a pin rebuilds the tool.
CONTROLLER_GEN := $(BIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
KUSTOMIZE      := $(BIN)/kustomize-$(KUSTOMIZE_VERSION)
KWOK           := $(BIN)/kwok
KUBECTL        := $(BIN)/kubectl
CONTROL_PLANE  := $(BIN)/etcd # A versioned stamp, not file times: a fresh checkout (newer go.mod) must not
# rebuild binaries that are already there for this version.
$(CONTROL_PLANE_STAMP):
	mkdir -p $(BIN)
	cd hack/tools && go build -ldflags '$(KUBE_LDFLAGS)' -o $(BIN)/ \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
	cd hack/tools && go build -ldflags '-s -w' -o $(BIN)/etcd go.etcd.io/etcd/server/v3
	touch $@

$(CONTROLLER_GEN):
	GOBIN=$(BIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(BIN)/controller-gen $@

$(KUSTOMIZE):
	GOBIN=$(BIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(BIN)/kustomize $@

# kwok exits with "no stages found" without Stage objects: concatenate the
# fast node and pod stages shipped in its module into bin/kwok-stages.yaml.
$(KWOK):
	GOBIN=$(BIN) go install sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)
	dir=$$(go mod download -json sigs.k8s.io/kwok@$(KWOK_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
		for f in $$dir/kustomize/stage/node/fast/node-initialize.yaml $$dir/kustomize/stage/node/heartbeat/node-heartbeat.yaml $$dir/kustomize/stage/pod/fast/pod-*.yaml; do \
			echo '---'; cat $$f; done > $(BIN)/kwok-stages.yaml
