# Landlord — build, test and run. `make help` lists the targets.

# Pinned tool versions. Everything is built from the Go module proxy into bin/.
CONTROLLER_GEN_VERSION ?= v0.23.0
KUSTOMIZE_VERSION      ?= v5.8.2
KWOK_VERSION           ?= v0.8.0
HELM_VERSION           ?= v3.22.0
# Envoy Gateway, the real Gateway API implementation of run-local and
# test/gateway; also pinned in hack/envoy-gateway/go.mod.
ENVOY_GATEWAY_VERSION  ?= v1.9.1
# The Kubernetes version is pinned in hack/tools/go.mod; this stamps the binaries.
KUBE_VERSION           ?= v1.37.1
# The CNI plugins of the real node; also pinned in hack/cni/go.mod.
CNI_PLUGINS_VERSION    ?= v1.10.0
# kube-router, whose network-policy controller enforces NetworkPolicies on
# the real node; also pinned in hack/kube-router/go.mod.
KUBE_ROUTER_VERSION    ?= v2.1.0

# The image config/manager names; deploy and build-installer substitute IMG
# for it on the way out, so the tree is never edited.
DEFAULT_IMG := ghcr.io/landlord-dev/landlord:dev
IMG ?= $(DEFAULT_IMG)
ARGS ?=
BENCH_N ?= 200
BENCH_TENANTS ?= $(BENCH_N)
# Empty: the full benchmark. tenancy: Accounts only, Landlord beside the floor.
# apicost: the API server's CPU per request kind. memory: the manager's memory
# and writes once synced with BENCH_TENANTS converged tenants.
BENCH_MODE ?=
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
HELM           := $(BIN)/helm-$(HELM_VERSION)
ENVOY_GATEWAY  := $(BIN)/envoy-gateway-$(ENVOY_GATEWAY_VERSION)
CHART          := charts/landlord
CONTROL_PLANE_STAMP := $(BIN)/.control-plane-$(KUBE_VERSION)
KUBELET_STAMP  := $(BIN)/.kubelet-$(KUBE_VERSION)
CNI_STAMP      := $(BIN)/.cni-$(CNI_PLUGINS_VERSION)
KUBE_ROUTER_STAMP := $(BIN)/.kube-router-$(KUBE_ROUTER_VERSION)
# Scripts and tests take their tools from here, never by a versioned name.
export LANDLORD_KUSTOMIZE := $(KUSTOMIZE)
export LANDLORD_KUBECTL := $(KUBECTL)
export LANDLORD_ENVOY_GATEWAY := $(ENVOY_GATEWAY)

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
verify: generate manifests docs chart ## Fail if generated files are stale.
	@git diff --exit-code -- api config docs charts || { echo "generated files are stale: run 'make generate manifests docs chart' and commit"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- api config docs charts); \
		if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked"; exit 1; fi

.PHONY: test
# LANDLORD_REQUIRE_GATEWAY: test/gateway fails, never skips, without Envoy Gateway.
# LANDLORD_REQUIRE_MYSQL: the Database tests fail, never skip, without mariadbd.
# LANDLORD_REQUIRE_NODE (as root): test/node fails, never skips, without a
# real node; not root, it skips (kwok's fake node serves the other suites).
test: generate manifests control-plane mariadb node $(KWOK) $(KUSTOMIZE) $(ENVOY_GATEWAY) ## Unit and integration tests (real kube-apiserver + etcd + kube-controller-manager; Envoy Gateway; MariaDB; a real node as root).
	LANDLORD_REQUIRE_GATEWAY=1 LANDLORD_REQUIRE_MYSQL=1 LANDLORD_REQUIRE_NODE=$$([[ $$(id -u) == 0 ]] && echo 1 || true) \
		go test $(TEST_PKGS) -count=1 -timeout 30m $(TEST_ARGS)
	# The cache transform runs on every informer's goroutine at once: its shared state under the race detector.
	go test -race -count=1 -run 'CacheTransform|Interner' ./internal/manager/

.PHONY: test-local
test-local: ## Prove the README's `make run-local` from a fresh clone of HEAD (empty bin/): samples converge, Ctrl-C leaves nothing behind.
	hack/test-run-local.sh

.PHONY: bench
bench: control-plane $(KWOK) ## Benchmark Landlord against the raw API server (BENCH_TENANTS or BENCH_N tenants; BENCH_MODE=tenancy, apicost or memory; BENCH_ARGS e.g. -idle 60s).
	go build -o .bench-bin/manager ./cmd/manager
	go run ./test/bench -mode '$(BENCH_MODE)' -n $(BENCH_TENANTS) -manager .bench-bin/manager -out $(BIN)/bench/results.json $(BENCH_ARGS)

##@ Build

.PHONY: build
build: ## Build the manager binary.
	go build -ldflags '$(VERSION_LDFLAGS)' -o $(BIN)/manager ./cmd/manager

.PHONY: run
# As Landlord's own identity (impersonated with the admin kubeconfig), so that
# the admission policy that keeps lifecycle facts Landlord's admits its writes.
run: ## Run the manager on this host against the cluster of $KUBECONFIG (ARGS='--flag=value ...').
	go run ./cmd/manager --as=landlord-manager --as-group=landlord:managers --as-group=system:masters $(ARGS)

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine).
	docker build -t $(IMG) .

# The image without a Docker engine: static binaries (CGO off, -trimpath, no
# VCS stamp but ours), assembled by hack/image with fixed times, so the same
# commit gives the same digest.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# Evaluated once, so that every step of one make run stamps the same values.
VERSION := $(VERSION)
COMMIT  := $(COMMIT)
IMAGE_REPO      ?= ghcr.io/landlord-dev/landlord
IMAGE_PLATFORMS ?= linux/amd64 linux/arm64
IMAGE_TAR       ?= $(BIN)/image/landlord.oci.tar
VERSION_LDFLAGS := -X github.com/landlord-dev/landlord/internal/version.Version=$(VERSION) \
	-X github.com/landlord-dev/landlord/internal/version.Commit=$(COMMIT)
image_bin = $(BIN)/image/manager-$(subst /,-,$(1))

.PHONY: image
image: ## Build the manager image as an OCI archive (IMAGE_TAR) for linux/amd64 and linux/arm64, no Docker engine.
	mkdir -p $(BIN)/image $(dir $(IMAGE_TAR))
	$(foreach p,$(IMAGE_PLATFORMS),CGO_ENABLED=0 GOOS=$(word 1,$(subst /, ,$(p))) GOARCH=$(word 2,$(subst /, ,$(p))) \
		go build -trimpath -buildvcs=false -ldflags '-s -w $(VERSION_LDFLAGS)' -o $(call image_bin,$(p)) ./cmd/manager;)
	cd hack/image && go run . -out $(IMAGE_TAR) -ref $(IMAGE_REPO):$(VERSION) -version $(VERSION) -commit $(COMMIT) \
		$(foreach p,$(IMAGE_PLATFORMS),$(p)=$(call image_bin,$(p)))

.PHONY: test-image
test-image: image ## Open the image archive: platforms, entrypoint, user, no shell, and /manager --version runs.
	cd hack/image && go test . -count=1
	LANDLORD_IMAGE=$(IMAGE_TAR) LANDLORD_IMAGE_VERSION=$(VERSION) LANDLORD_IMAGE_COMMIT=$(COMMIT) \
		go test ./test/image -count=1 -v

##@ Helm chart

.PHONY: chart
chart: manifests $(KUSTOMIZE) ## Regenerate the chart's CRDs, RBAC and admission policies from config/.
	$(KUSTOMIZE) build config/default | go run ./hack/chartgen $(CHART)/templates/generated

.PHONY: chart-lint
chart-lint: $(HELM) ## helm lint, and helm template with the defaults and with every switch flipped.
	$(HELM) lint --strict $(CHART)
	$(HELM) template landlord $(CHART) --namespace landlord-system > /dev/null
	$(HELM) template landlord $(CHART) --namespace landlord-system --set crds.install=false,crds.keep=false,metrics.enabled=false,podDisruptionBudget.enabled=false,manager.leaderElection=false > /dev/null
	$(HELM) template landlord $(CHART) --namespace landlord-system --set metrics.serviceMonitor.enabled=true,podDisruptionBudget.maxUnavailable=1,dnsServer=10.0.0.53:53 > /dev/null

.PHONY: test-chart
test-chart: chart-lint control-plane $(KWOK) $(KUSTOMIZE) ## The chart equals config/, its values reach the manager, and it installs, upgrades and uninstalls.
	LANDLORD_HELM=$(HELM) go test ./test/chart -count=1 -v -timeout 20m

##@ Local platform

.PHONY: cluster-up
cluster-up: control-plane $(KWOK) ## Start etcd, kube-apiserver, controller-manager, scheduler and kwok on loopback.
	hack/cluster-up.sh

.PHONY: cluster-down
cluster-down: ## Stop the local control plane and remove its state.
	hack/cluster-down.sh

.PHONY: run-local
run-local: manifests control-plane mariadb node $(KWOK) $(KUSTOMIZE) $(ENVOY_GATEWAY) ## Local platform: control plane, a node (real as root, else kwok), CRDs, Envoy Gateway, MariaDB, Landlord, samples; Ctrl-C stops it all.
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

##@ Release

# make release VERSION=vX.Y.Z: dist/ from a clean tree at HEAD, and the
# CHANGELOG heading "## vX.Y.Z (unreleased)" becomes "## vX.Y.Z (<date>, commit <sha>)".
.PHONY: release
release: $(HELM) ## Write dist/: install.yaml, the packaged chart, the image archive, SHA256SUMS (VERSION=vX.Y.Z).
	@[[ "$(VERSION)" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$$ ]] || { echo "release: VERSION=vX.Y.Z required, got '$(VERSION)'"; exit 1; }
	@git diff --quiet HEAD -- && [ -z "$$(git ls-files --others --exclude-standard)" ] || { echo "release: commit or stash your changes first"; exit 1; }
	@grep -q '^## $(VERSION) (unreleased)$$' CHANGELOG.md || { echo "release: CHANGELOG.md has no '## $(VERSION) (unreleased)' section"; exit 1; }
	rm -rf dist && mkdir -p dist
	$(MAKE) build-installer IMG=$(IMAGE_REPO):$(VERSION)
	$(MAKE) image VERSION=$(VERSION) IMAGE_TAR=$(ROOT)/dist/landlord-$(VERSION)-image.oci.tar
	$(HELM) package $(CHART) --version $(patsubst v%,%,$(VERSION)) --app-version $(VERSION) --destination dist
	cd dist && sha256sum * > SHA256SUMS
	@git diff --quiet HEAD -- || { echo "release: building changed tracked files (run make verify and commit)"; exit 1; }
	sed -i 's/^## $(VERSION) (unreleased)$$/## $(VERSION) ($(shell date -u +%F), commit $(COMMIT))/' CHANGELOG.md
	@echo "release $(VERSION) from $(COMMIT) is in dist/; commit CHANGELOG.md and tag $(VERSION)"

# The previous release: the newest commit CHANGELOG.md records, else the
# first commit with one namespace per site (04296f5; v1alpha1 is unreleased
# and the layout before it has no upgrade path: see docs/upgrading.md).
UPGRADE_FROM ?= $(or $(shell sed -n 's/^\#\# v[0-9.]* ([0-9-]*, commit \([0-9a-f]*\))$$/\1/p' CHANGELOG.md | head -1),04296f5)
UPGRADE_DIR  := $(BIN)/upgrade

.PHONY: test-upgrade
test-upgrade: control-plane $(KWOK) $(KUSTOMIZE) ## Upgrade from the previous release (UPGRADE_FROM) with tenants in every phase: nothing lost, rolled or rewritten.
	rm -rf $(UPGRADE_DIR) && mkdir -p $(UPGRADE_DIR)/src
	git rev-parse --verify '$(UPGRADE_FROM)^{commit}' > $(UPGRADE_DIR)/from
	git archive $(UPGRADE_FROM) | tar -x -C $(UPGRADE_DIR)/src
	cd $(UPGRADE_DIR)/src && go build -o $(UPGRADE_DIR)/old/manager ./cmd/manager
	$(KUSTOMIZE) build $(UPGRADE_DIR)/src/config/install > $(UPGRADE_DIR)/install-old.yaml
	$(KUSTOMIZE) build config/install > $(UPGRADE_DIR)/install-new.yaml
	go build -o $(UPGRADE_DIR)/new/manager ./cmd/manager
	LANDLORD_UPGRADE_DIR=$(UPGRADE_DIR) go test ./test/upgrade -count=1 -v -timeout 30m

##@ Tools (built once into bin/, from the Go module proxy)

.PHONY: control-plane
control-plane: $(CONTROL_PLANE_STAMP) ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl.

.PHONY: mariadb
mariadb: ## Install Debian's MariaDB server when mariadbd is missing (the Database tests and run-local start private instances of it; nothing runs as a service).
	@if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "mariadbd is missing and apt-get is not here: install MariaDB 10.6+ (mariadbd, mariadb-install-db)"; exit 1; fi; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends mariadb-server

.PHONY: envoy-gateway
envoy-gateway: $(ENVOY_GATEWAY) ## Build Envoy Gateway's controller (~6 min on 2 idle cores, once per version).

.PHONY: kubectl
kubectl: $(KUBECTL_STAMP) ## Build kubectl alone (install, deploy: no control plane needed).

.PHONY: node
node: $(KUBELET_STAMP) $(CNI_STAMP) $(KUBE_ROUTER_STAMP) node-packages ## The real node (internal/node): kubelet, CNI plugins, kube-router's policy controller; containerd, runc, iptables, ipset from Debian (apt-get, as root).

# Debian's containerd 1.6 and runc, not containerd 2.x built from its Go
# module: they install in seconds, where containerd 2 would add minutes of
# build on 2 cores to every fresh clone and CI run (90 minutes for all), and
# runc would need cgo and libseccomp's headers besides. The kubelet logs that
# containerd 1.6 does not answer the CRI RuntimeConfig call and falls back
# to its own cgroup driver setting (cgroupfs here); a later kubelet that
# requires the call needs containerd 2.x. Without root nothing is installed:
# the tests that need the node then skip (they need root anyway). iptables
# (its nf_tables backend, Debian's default) and ipset are what kube-router's
# policy controller writes its rules and address sets with.
NODE_PACKAGES := busybox:busybox-static containerd:containerd containerd-shim-runc-v2:containerd runc:runc ctr:containerd nsenter:util-linux ip:iproute2 mount:mount \
	iptables:iptables iptables-save:iptables iptables-restore:iptables ipset:ipset
.PHONY: node-packages
node-packages:
	@missing=""; for p in $(NODE_PACKAGES); do PATH=$$PATH:/usr/sbin:/sbin command -v $${p%%:*} >/dev/null || missing="$$missing $${p#*:}"; done; \
	missing=$$(tr ' ' '\n' <<<"$$missing" | sort -u | xargs); \
	if [[ -z $$missing ]]; then exit 0; fi; \
	if [[ $$(id -u) != 0 ]]; then echo "node: not root, not installing $$missing (the real-node tests will skip)"; exit 0; fi; \
	echo "node: apt-get install $$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null

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

# The kubelet, from the same module and version as the control plane (after
# it: the build cache is warm, so it takes about a minute).
$(KUBELET_STAMP): | $(CONTROL_PLANE_STAMP)
	mkdir -p $(BIN)
	cd hack/tools && go build -ldflags '$(KUBE_LDFLAGS)' -o $(BIN)/ k8s.io/kubernetes/cmd/kubelet
	touch $@

CNI_PLUGINS := ipam/host-local main/bridge main/loopback meta/portmap
$(CNI_STAMP):
	grep -q '^require github.com/containernetworking/plugins $(CNI_PLUGINS_VERSION)$$' hack/cni/go.mod || \
		{ echo "hack/cni/go.mod does not pin github.com/containernetworking/plugins $(CNI_PLUGINS_VERSION)"; exit 1; }
	mkdir -p $(BIN)/cni
	cd hack/cni && CGO_ENABLED=0 go build -ldflags '-s -w' -o $(BIN)/cni/ \
		$(foreach p,$(CNI_PLUGINS),github.com/containernetworking/plugins/plugins/$(p))
	touch $@

# kube-router from its own tools module (its Kubernetes version is not
# ours); only its network-policy controller runs (internal/node). About five
# minutes on two cores, once per version.
$(KUBE_ROUTER_STAMP):
	grep -q '^require github.com/cloudnativelabs/kube-router/v2 $(KUBE_ROUTER_VERSION)$$' hack/kube-router/go.mod || \
		{ echo "hack/kube-router/go.mod does not pin github.com/cloudnativelabs/kube-router/v2 $(KUBE_ROUTER_VERSION)"; exit 1; }
	mkdir -p $(BIN)
	cd hack/kube-router && CGO_ENABLED=0 go build -o $(BIN)/kube-router \
		-ldflags '-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$(KUBE_ROUTER_VERSION)' \
		github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
	touch $@

# From its own tools module (its Kubernetes and Gateway API versions are not
# ours). Its listeners are fixed in its code; internal/gatewayimpl runs it in
# a private network namespace, and -X puts the one that is a variable (the
# health probe, :8081) on loopback too.
ENVOY_GATEWAY_LDFLAGS := -s -w -X github.com/envoyproxy/gateway/internal/cmd/version.envoyGatewayVersion=$(ENVOY_GATEWAY_VERSION) \
	-X github.com/envoyproxy/gateway/internal/provider/kubernetes.healthProbeBindAddress=127.0.0.1:8081
$(ENVOY_GATEWAY):
	grep -q '^require github.com/envoyproxy/gateway $(ENVOY_GATEWAY_VERSION)$$' hack/envoy-gateway/go.mod || \
		{ echo "hack/envoy-gateway/go.mod does not pin github.com/envoyproxy/gateway $(ENVOY_GATEWAY_VERSION)"; exit 1; }
	mkdir -p $(BIN)
	cd hack/envoy-gateway && nice -n 10 go build -ldflags '$(ENVOY_GATEWAY_LDFLAGS)' -o $@ github.com/envoyproxy/gateway/cmd/envoy-gateway

$(CONTROLLER_GEN):
	GOBIN=$(BIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(BIN)/controller-gen $@

$(KUSTOMIZE):
	GOBIN=$(BIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(BIN)/kustomize $@

# Stamped as helm's own Makefile does: its version, and the Kubernetes version
# that helm lint and helm template assume (ours) instead of 1.20.
HELM_LDFLAGS := -s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	$(foreach p,helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil,-X $(p).k8sVersionMajor=1 -X $(p).k8sVersionMinor=$(KUBE_MINOR))
$(HELM):
	GOBIN=$(BIN) go install -ldflags '$(HELM_LDFLAGS)' helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(BIN)/helm $@

# kwok exits with "no stages found" without Stage objects: concatenate the
# fast node and pod stages shipped in its module into bin/kwok-stages.yaml.
$(KWOK):
	GOBIN=$(BIN) go install sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)
	dir=$$(go mod download -json sigs.k8s.io/kwok@$(KWOK_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
		for f in $$dir/kustomize/stage/node/fast/node-initialize.yaml $$dir/kustomize/stage/node/heartbeat/node-heartbeat.yaml $$dir/kustomize/stage/pod/fast/pod-*.yaml; do \
			echo '---'; cat $$f; done > $(BIN)/kwok-stages.yaml
