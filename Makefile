# Landlord — build, test and run. `make help` lists the targets.

# Pinned tool versions. Everything is built from the Go module proxy into bin/.
CONTROLLER_GEN_VERSION ?= v0.23.0
KUSTOMIZE_VERSION      ?= v5.8.2
KWOK_VERSION           ?= v0.8.0
# The Kubernetes version is pinned in hack/tools/go.mod; this stamps the binaries.
KUBE_VERSION           ?= v1.37.1

# The image config/manager names; deploy and build-installer substitute IMG
# for it on the way out, so the tree is never edited.
DEFAULT_IMG := ghcr.io/landlord-dev/landlord:dev
IMG ?= $(DEFAULT_IMG)
ARGS ?=
BENCH_N ?= 200
BENCH_ARGS ?=
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
KUBECTL_STAMP  := $(BIN)/.kubectl-$(KUBE_VERSION)
CONTROL_PLANE_STAMP := $(BIN)/.control-plane-$(KUBE_VERSION)
# Scripts and tests take their tools from here, never by a versioned name.
export LANDLORD_KUSTOMIZE := $(KUSTOMIZE)
export LANDLORD_KUBECTL := $(KUBECTL)

KUBE_MINOR := $(word 2,$(subst ., ,$(KUBE_VERSION)))
KUBE_LDFLAGS := -s -w $(foreach p,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(p).gitVersion=$(KUBE_VERSION) -X $(p).gitMajor=1 -X $(p).gitMinor=$(KUBE_MINOR) \
	-X $(p).gitTreeState=clean -X $(p).buildDate=1970-01-01T00:00:00Z)

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and the manager's RBAC.
	$(CONTROLLER_GEN) crd rbac:roleName=landlord-manager paths=./api/... paths=./controllers/... paths=./internal/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac/manager

.PHONY: docs
docs: ## Generate docs/api.md from the API types.
	go run ./hack/apidocs api/v1alpha1 docs/api.md

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: lint
lint: ## go vet and a gofmt check.
	go vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: verify
verify: generate manifests docs ## Fail if generated files are stale.
	@git diff --exit-code -- api config docs || { echo "generated files are stale: run 'make generate manifests docs' and commit"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- api config docs); \
		if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked"; exit 1; fi

.PHONY: test
test: generate manifests control-plane $(KWOK) $(KUSTOMIZE) ## Unit and integration tests (real kube-apiserver + etcd + kube-controller-manager).
	go test $(TEST_PKGS) -count=1 -timeout 30m $(TEST_ARGS)

.PHONY: test-local
test-local: ## Prove the README's `make run-local` from a fresh clone of HEAD (empty bin/): samples converge, Ctrl-C leaves nothing behind.
	hack/test-run-local.sh

.PHONY: bench
bench: control-plane $(KWOK) ## Benchmark Landlord against the raw API server (BENCH_N tenants; BENCH_ARGS e.g. -idle 60s).
	go build -o .bench-bin/manager ./cmd/manager
	go run ./test/bench -n $(BENCH_N) -manager .bench-bin/manager -out $(BIN)/bench/results.json $(BENCH_ARGS)

##@ Build

.PHONY: build
build: ## Build the manager binary.
	go build -o $(BIN)/manager ./cmd/manager

.PHONY: run
run: ## Run the manager on this host against the cluster of $KUBECONFIG (ARGS='--flag=value ...').
	go run ./cmd/manager $(ARGS)

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine).
	docker build -t $(IMG) .

##@ Local platform

.PHONY: cluster-up
cluster-up: control-plane $(KWOK) ## Start etcd, kube-apiserver, controller-manager, scheduler and kwok on loopback.
	hack/cluster-up.sh

.PHONY: cluster-down
cluster-down: ## Stop the local control plane and remove its state.
	hack/cluster-down.sh

.PHONY: run-local
run-local: manifests control-plane $(KWOK) $(KUSTOMIZE) ## Local platform: control plane, CRDs, Landlord, samples; Ctrl-C stops it all.
	hack/run-local.sh

##@ Deployment

.PHONY: install
install: manifests $(KUSTOMIZE) kubectl ## Install what `make run` needs into $KUBECONFIG's cluster: CRDs, tenant roles, admission policies, namespace landlord-system, the suspended-page Service.
	$(KUSTOMIZE) build config/install | $(KUBECTL) apply --server-side -f -

.PHONY: install-gateway-api
install-gateway-api: kubectl ## Install the Gateway API standard CRDs (the version go.mod pins) into $KUBECONFIG's cluster.
	hack/install-gateway-api.sh

.PHONY: uninstall
uninstall: manifests $(KUSTOMIZE) kubectl ## Remove what `install` put in.
	$(KUSTOMIZE) build config/install | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) kubectl ## Deploy Landlord to $KUBECONFIG's cluster (IMG=...).
	$(KUSTOMIZE) build config/default | sed 's#$(DEFAULT_IMG)#$(IMG)#' | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) kubectl ## Remove Landlord from $KUBECONFIG's cluster.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: build-installer
build-installer: manifests $(KUSTOMIZE) ## Write dist/install.yaml (IMG=...).
	mkdir -p dist
	$(KUSTOMIZE) build config/default | sed 's#$(DEFAULT_IMG)#$(IMG)#' > dist/install.yaml

##@ Tools (built once into bin/, from the Go module proxy)

.PHONY: control-plane
control-plane: $(CONTROL_PLANE_STAMP) ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl.

.PHONY: kubectl
kubectl: $(KUBECTL_STAMP) ## Build kubectl alone (install, deploy: no control plane needed).

# Versioned stamps, not file times: a fresh checkout (newer go.mod) must not
# rebuild binaries that are already there for this version.
$(CONTROL_PLANE_STAMP): | $(KUBECTL_STAMP)
	mkdir -p $(BIN)
	cd hack/tools && go build -ldflags '$(KUBE_LDFLAGS)' -o $(BIN)/ \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler
	cd hack/tools && go build -ldflags '-s -w' -o $(BIN)/etcd go.etcd.io/etcd/server/v3
	touch $@

# Until kubectl had its own stamp the control-plane stamp covered it: a bin/
# from then already holds this version's kubectl.
$(KUBECTL_STAMP):
	mkdir -p $(BIN)
	if [[ -f $(CONTROL_PLANE_STAMP) && -x $(KUBECTL) ]]; then :; else \
		cd hack/tools && go build -ldflags '$(KUBE_LDFLAGS)' -o $(BIN)/ k8s.io/kubernetes/cmd/kubectl; fi
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
