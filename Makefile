# dvp — developer entry points. CI (.ci/run) runs make lint-tools, make test and make e2e.
GO      ?= go
BIN     ?= bin/dvp
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build test test-dvp test-sdk lint lint-tools staticcheck cross bench load fuzz demo clean

all: build

# A static binary (no cgo: dvp needs none, and a dynamically linked one
# starts slower and depends on the machine's libc).
build:
	@echo "building $(BIN) (version $(VERSION)); the first build compiles every dependency and can take minutes"
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dvp

# staticcheck is pinned here and fetched through the module proxy (go run
# pkg@version). It is not a tool directive in go.mod on purpose: that would put
# staticcheck's dependencies into dvp's module graph, raising the go directive
# and the golang.org/x modules dvp ships with.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './testdata/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags e2e ./...
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	cd sdk && $(GO) vet ./...
	@cd sdk && $(GO) mod tidy -diff || { echo "sdk/go.mod is not tidy: run go mod tidy in sdk"; exit 1; }
	@$(MAKE) --no-print-directory cross
	@$(MAKE) --no-print-directory staticcheck

# dvp and the SDK build for macOS and Windows too (README, "Install"); their
# tests run on Linux (namespaces, /proc). So: go vet for macOS (code and
# tests), go build for Windows (dvp's tests are Linux and Unix only there),
# and go vet of the SDK, tests included, for both.
cross:
	GOOS=darwin $(GO) vet ./...
	GOOS=windows $(GO) build ./...
	cd sdk && GOOS=darwin $(GO) vet ./... && GOOS=windows $(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) -tags e2e ./...
	cd sdk && $(GO) run $(STATICCHECK) ./...

# Downloads what make lint runs besides the Go toolchain (CI calls it first).
lint-tools:
	$(GO) run $(STATICCHECK) -version

# Unit, package and CLI tests, of dvp and of the plugin SDK (sdk/, a module of
# its own). The end-to-end suite (internal/engine/e2e, build tag e2e) runs in
# make e2e; hygiene (gofmt, vet, staticcheck, tidy) in make lint, which CI runs
# too.
# The two modules' tests run side by side (each target's output is printed
# whole when it ends), so the SDK's do not wait for dvp's slowest package;
# their builds take turns (a shared lock file), so that the second reuses
# what the first compiled.
#
# scripts/gotest.sh is go test -count=1 -vet=off ./... with the test
# binaries kept in $(TESTBIN) between runs: the go command relinks only those
# whose inputs changed (go test links every package's binary again on each
# run: about a quarter of make test's CPU time). It runs twice as many
# packages at once as there are CPUs (many spend much of their time waiting
# for engines, plugin processes, sandboxes, jobs), the slowest of the last run
# first. No vet step: make lint runs go vet with all its checks. Without cgo,
# as make build builds dvp: static test binaries start without the dynamic
# loader, and the scripts start the test binary as dvp ~300 times and the
# engine's sandboxes re-execute theirs for every plugin process.
TESTBIN ?= bin/test
test:
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-dvp test-sdk

test-dvp:
	@mkdir -p $(TESTBIN)
	CGO_ENABLED=0 GO=$(GO) GOTEST_BUILD_LOCK=$(abspath $(TESTBIN))/build.lock scripts/gotest.sh $(TESTBIN)/dvp

test-sdk:
	@mkdir -p $(TESTBIN)
	cd sdk && CGO_ENABLED=0 GO=$(GO) GOTEST_BUILD_LOCK=$(abspath $(TESTBIN))/build.lock ../scripts/gotest.sh $(abspath $(TESTBIN))/sdk

# Benchmarks compare dvp with a baseline measured in the same run; see docs/performance.md.
bench:
	$(GO) run ./bench/cmd/benchtable

# 100 concurrent clients upload and list against one engine for 60 s (LOAD_DURATION, LOAD_CLIENTS).
# LOAD_PROFILE=DIR saves the engine's CPU, block and mutex profiles and a goroutine dump there;
# LOAD_DVP=PATH runs the engine of another dvp binary (to compare two builds).
LOAD_DURATION ?= 60s
LOAD_CLIENTS  ?= 100
LOAD_PROFILE  ?=
LOAD_DVP      ?=
load:
	DVP_LOAD=1 DVP_LOAD_DURATION=$(LOAD_DURATION) DVP_LOAD_CLIENTS=$(LOAD_CLIENTS) DVP_LOAD_PROFILE=$(abspath $(LOAD_PROFILE)) DVP_LOAD_DVP=$(abspath $(LOAD_DVP)) $(GO) test -count=1 -timeout=20m -tags e2e -run='^TestLoad$$' -v ./internal/engine/e2e/

# Short fuzzing pass over every fuzz target (FUZZTIME=60s for the full run).
FUZZTIME ?= 10s
fuzz:
	@for mod in . sdk; do \
	  for pkg in $$(cd $$mod && $(GO) list ./...); do \
	    for t in $$(cd $$mod && $(GO) test -list='^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	      echo "== $$pkg $$t"; (cd $$mod && $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg) || exit 1; \
	    done; \
	  done; \
	done

# The main job, all local: engine up, init, build, upload --wait, logs.
demo: build
	DVP=$(BIN) scripts/demo.sh

clean:
	rm -rf bin

# End to end: the real dvp binary against a real engine process
# (internal/engine/e2e: upload, upgrades, faults, kills, secrets, the hostile
# plugin in the sandbox as root and as nobody: over 10 minutes), then an sshd
# on 127.0.0.1 as the source host, an engine, the seed plugin linked, synced and
# provisioned (scripts/e2e.sh); dvp test on fresh scaffolds, a broken plugin and a
# SIGINT (internal/dvptest). Needs openssh-server, rsync, root.
.PHONY: e2e
e2e: build
	$(GO) test -count=1 -timeout 45m -tags e2e ./internal/engine/e2e/
	DVP=$(abspath $(BIN)) $(GO) test -count=1 -tags e2e ./internal/dvptest/
	$(GO) test -count=1 -tags e2e -run '^TestTutorialOffline$$' ./docs/
	$(GO) test -count=1 -tags e2e -run '^(TestUnchangedBuildReusesWork|TestGoModUpdateStillMade|TestGoModAndSDKVersionChangeTheArtifact|TestFailuresKeepArtifact|TestScaffoldsAndSeed|TestMissingRequiredOperationsWarn|TestBaseline)$$' ./internal/build/
	$(GO) test -count=1 -tags e2e -run '^TestScaffoldsBuildOffline$$' ./internal/scaffold/
	DVP=$(BIN) scripts/e2e.sh
