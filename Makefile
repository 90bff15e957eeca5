# Stratus build, test and release targets. `make help` lists them.
#
# CI runs exactly `make test` (see .ci/run). Everything here works offline once
# the Go module cache is warm, and needs nothing but Go, git and, for the e2e
# tests, victoria-metrics on PATH (Debian package victoria-metrics).

SHELL       := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
.DELETE_ON_ERROR:

GO       ?= go
MODULE   := github.com/stratus-monitoring/stratus
BINARY   := stratus
TOOLS    := $(CURDIR)/.tools
COVERDIR ?= $(CURDIR)/.cover
COVER_MIN ?= 85
FUZZTIME ?= 30s
BENCH_OUT ?= $(CURDIR)/.bench/latest.txt
E2E_TIMEOUT ?= 15m
BENCH_FLAGS ?=
SOAK_TIMEOUT ?= 8h

# Packages that run goroutines of their own get a second run under the race
# detector. Directories that do not exist (yet) are skipped.
RACE_DIRS ?= query analysis collector cmd
empty :=
space := $(empty) $(empty)

# Version information, injected into github.com/prometheus/common/version the
# way promu does for Prometheus projects. Lazily evaluated: only targets that
# link the binary pay for the git calls.
VERSION    = $(shell cat VERSION 2>/dev/null || git describe --tags --always --dirty 2>/dev/null | sed 's/^v//' || true)
REVISION   = $(shell git rev-parse HEAD 2>/dev/null || true)
BRANCH     = $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || true)
BUILD_USER = $(shell echo "$${USER:-$$(id -un)}@$$(hostname)")
BUILD_DATE = $(shell date -u +%Y%m%d-%H:%M:%S)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS = -X $(VERSION_PKG).Version=$(or $(VERSION),unknown) \
          -X $(VERSION_PKG).Revision=$(or $(REVISION),unknown) \
          -X $(VERSION_PKG).Branch=$(or $(BRANCH),unknown) \
          -X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
          -X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

# Real components for the e2e tests. Prometheus and promtool come from the
# version of github.com/prometheus/prometheus that go.mod pins; Alertmanager
# from the last release that builds from the module proxy.
PROMETHEUS_MODULE := github.com/prometheus/prometheus
ALERTMANAGER_VERSION ?= v0.31.0
VICTORIAMETRICS ?= $(shell command -v victoria-metrics 2>/dev/null)

E2E_ENV = STRATUS_PROMETHEUS=$(TOOLS)/prometheus \
          STRATUS_PROMTOOL=$(TOOLS)/promtool \
          STRATUS_VICTORIAMETRICS=$(VICTORIAMETRICS) \
          $(if $(wildcard $(TOOLS)/alertmanager),STRATUS_ALERTMANAGER=$(TOOLS)/alertmanager)

DOCKER_IMAGE ?= stratus
DOCKER_TAG   ?= $(or $(VERSION),dev)

.PHONY: help build run tools alertmanager test unit race e2e cover bench lint \
        fuzz soak mixin docker clean FORCE

help: ## List the targets.
	@awk -F':.*## ' '/^[a-z0-9-]+:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## Build ./stratus with version information from VERSION or git.
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/stratus

run: build ## Build, then run `./stratus serve` (pass flags in ARGS=...).
	./$(BINARY) serve $(ARGS)

# --- tools ---------------------------------------------------------------

tools: $(TOOLS)/prometheus $(TOOLS)/promtool ## Build Prometheus and promtool into .tools/ from the pinned module.

# The stamp holds the pinned module version and changes only when it does, so
# the binaries are rebuilt after a bump of go.mod and left alone otherwise.
$(TOOLS)/.prometheus-version: FORCE
	@mkdir -p $(TOOLS)
	@v=$$($(GO) list -m -f '{{.Version}}' $(PROMETHEUS_MODULE)); \
	 if [[ "$$(cat $@ 2>/dev/null)" != "$$v" ]]; then echo "$$v" >$@; fi

# remove_all_sd drops every service discovery but file_sd (and static
# configs) and halves the build. promtool gets the same tag: it then shares
# nearly every compiled package with prometheus and builds in seconds instead
# of minutes; it only loses SD-specific checks in `promtool check config`,
# which Stratus does not need (rules and metrics checks are unaffected).
# PROMTOOL_TAGS= builds the full promtool.
PROMETHEUS_TAGS ?= remove_all_sd
PROMTOOL_TAGS ?= remove_all_sd
TOOLS_LDFLAGS = -X $(VERSION_PKG).Version=$$(cat $(TOOLS)/.prometheus-version)

$(TOOLS)/prometheus: $(TOOLS)/.prometheus-version
	$(GO) build -tags='$(PROMETHEUS_TAGS)' -ldflags="$(TOOLS_LDFLAGS)" -o $@ $(PROMETHEUS_MODULE)/cmd/prometheus

$(TOOLS)/promtool: $(TOOLS)/.prometheus-version
	$(GO) build -tags='$(PROMTOOL_TAGS)' -ldflags="$(TOOLS_LDFLAGS)" -o $@ $(PROMETHEUS_MODULE)/cmd/promtool

alertmanager: $(TOOLS)/alertmanager ## Install Alertmanager (ALERTMANAGER_VERSION, v0.31.0) into .tools/.

# Later releases embed web assets their module does not ship and do not build
# from the module proxy; Debian's prometheus-alertmanager is the fallback.
$(TOOLS)/alertmanager:
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/prometheus/alertmanager/cmd/alertmanager@$(ALERTMANAGER_VERSION)

# --- tests ---------------------------------------------------------------

# Fail fast: lint and the quick unit run first, then the race run, then the slow
# e2e run (which needs the tools built), then the coverage gate over unit and e2e.
test: ## Everything CI runs: lint, unit, race, e2e, then the coverage gate.
	rm -rf $(COVERDIR)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory race
	$(MAKE) --no-print-directory e2e
	$(MAKE) --no-print-directory cover

# -coverprofile (not -test.gocoverdir) because its profile lists every package,
# tested or not: an untested package counts as 0% instead of disappearing.
unit: ## go test ./... collecting coverage of every package into .cover/unit.out.
	@mkdir -p $(COVERDIR)
	$(GO) test -covermode=set -coverpkg=./... -coverprofile=$(COVERDIR)/unit.out ./...

race: ## go test -race on the packages that run goroutines (RACE_DIRS).
	@pkgs=$$($(GO) list ./... | grep -E '^$(MODULE)/($(subst $(space),|,$(strip $(RACE_DIRS))))(/|$$)' || true); \
	 if [[ -z "$$pkgs" ]]; then echo "race: no packages under $(RACE_DIRS) yet, nothing to run"; exit 0; fi; \
	 echo "race: $$(echo $$pkgs | wc -w) package(s) under $(RACE_DIRS)"; \
	 $(GO) test -race $$pkgs

# The e2e tests build stratus with `go build -cover` and run it with GOCOVERDIR
# set, so what they exercise counts towards the gate. A binary writes its
# coverage only when it exits normally (after SIGTERM/SIGINT, not SIGKILL).
e2e: tools ## End-to-end tests against real Prometheus, promtool and VictoriaMetrics.
	@if [[ ! -d e2e ]]; then echo "e2e: no ./e2e directory yet, nothing to run"; exit 0; fi; \
	 if [[ -z "$(VICTORIAMETRICS)" ]]; then \
	   echo "e2e: victoria-metrics is not on PATH (apt-get install victoria-metrics, or set VICTORIAMETRICS=)" >&2; \
	   exit 1; \
	 fi; \
	 rm -rf $(COVERDIR)/e2e && mkdir -p $(COVERDIR)/e2e; \
	 set -x; \
	 $(E2E_ENV) GOCOVERDIR=$(COVERDIR)/e2e $(GO) test -tags e2e -count=1 -timeout=$(E2E_TIMEOUT) ./e2e/...

cover: ## Coverage gate: unit and e2e together must reach COVER_MIN% (85).
	scripts/coverage.sh $(COVERDIR) $(COVER_MIN)

# With the e2e tag, so that the benchmarks that run the real binary against real
# Prometheus (e2e/bench_test.go) are in the table too.
bench: tools ## Run every benchmark, e2e ones included, and print a table (raw output in .bench/).
	@mkdir -p $(dir $(BENCH_OUT))
	$(E2E_ENV) $(GO) test -tags e2e -run='^$$' -bench=. -benchmem $(BENCH_FLAGS) ./... \
		| tee $(BENCH_OUT) | awk -f scripts/benchtable.awk

fuzz: ## Run each Fuzz* target for FUZZTIME (30s).
	scripts/fuzz.sh $(FUZZTIME)

soak: tools ## Long-running tests (build tag soak); not part of CI.
	$(E2E_ENV) $(GO) test -tags 'e2e soak' -run 'Soak' -count=1 -timeout=$(SOAK_TIMEOUT) ./e2e/

mixin: ## Placeholder: the jsonnet mixin is not written yet.
	@echo "mixin: the jsonnet mixin (mixin/) is not written yet; nothing to build"

# --- quality -------------------------------------------------------------

# golangci-lint is built from tools/go.mod so that its dependencies never mix
# with Stratus's. `go tool -n` only builds it and prints its path; it then runs
# from the repository root, where it loads packages with the root go.mod.
lint: ## golangci-lint (v2, from tools/go.mod) and a gofmt check.
	@unformatted=$$(find . \( -name .git -o -name .tools -o -name testdata \) -prune -o -name '*.go' -print | xargs -r gofmt -l); \
	 if [[ -n "$$unformatted" ]]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	"$$($(GO) -C tools tool -n golangci-lint)" run ./...

docker: ## Build the container image (needs a Docker engine).
	docker build -t $(DOCKER_IMAGE):$(DOCKER_TAG) \
		--build-arg VERSION=$(or $(VERSION),unknown) \
		--build-arg REVISION=$(or $(REVISION),unknown) \
		--build-arg BRANCH=$(or $(BRANCH),unknown) .

clean: ## Remove the binary, built tools, coverage and benchmark output.
	rm -rf $(BINARY) $(TOOLS) $(COVERDIR) $(dir $(BENCH_OUT)) dist

FORCE:
