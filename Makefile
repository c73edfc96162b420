# The documented entry points. `make test` is what CI runs.
GO      ?= go
TOOL    := $(GO) tool -modfile=tools/go.mod
# buf: bufbuild's release binary from its npm package (tools/buf, installed
# by .ci/run with `npm ci` when npm is there), else built from tools/go.mod;
# `make proto` checks that both are the version tools/go.mod pins.
BUF_NPM := tools/buf/node_modules/.bin/buf
BUF     := $(if $(wildcard $(BUF_NPM)),$(BUF_NPM),$(TOOL) buf)
# golangci-lint has its own module: its dependencies conflict with OPA's.
LINT    := $(GO) tool -modfile=tools/lint/go.mod golangci-lint
PKGS    := ./...
# Every build but the race tests' and the fuzzers' is static and -trimpath,
# as the release image is built (Dockerfile): then vet, lint, the Rego tests'
# opa, the fault tests' certgate (test/gocommand_test.go), the deploy module
# and the image build share one compile of the dependencies instead of one
# each per configuration (cgo on or off, paths trimmed or not).
STATIC  := CGO_ENABLED=0 GOFLAGS='$(strip $(GOFLAGS) -trimpath)'
# -count suited to benchstat (it wants at least 6 samples; 10 gives tighter intervals).
BENCHCOUNT ?= 10
# Every package with a Benchmark function.
BENCHPKGS = $(sort $(dir $(shell grep -rl --include='*_test.go' '^func Benchmark' . | grep -v '^./gen/')))
FUZZTIME ?= 10s
# Fuzzing workers per lane: two lanes of one worker keep two cores busy
# (the default, one worker per core in each lane, would run four on two).
FUZZ_WORKERS ?= 1
# Every fuzz target as package:Target. `go test -fuzz` runs one target at a
# time, for FUZZTIME each. `make fuzz` runs two lanes side by side, one per
# core (FUZZ_LANES, packages in a lane one after another): the packages built
# against OPA (policy, server) share one instrumented build in one lane, while
# the small ones fuzz in the other, so that the build overlaps fuzzing
# instead of preceding it. Side by side, a target gets about one core for its
# FUZZTIME; `make fuzz FUZZTIME=5m` for a long run. A target whose package is
# in no lane is an error, never silently left out.
FUZZ_TARGETS := \
	./identity:FuzzDecodeEscapedPEM \
	./identity:FuzzParseXFCC \
	./identity:FuzzExtract \
	./identity:FuzzNew \
	./trust:FuzzLoadCRL \
	./server:FuzzNormalizePath \
	./server:FuzzHeaderValue \
	./server:FuzzHTTPCheck \
	./policy:FuzzRouteIndexMatchesThePolicy

# The deploy module (deploy/go.mod): tests of the Kubernetes manifests, the
# Helm chart, the Dockerfile and the systemd unit, with the Kubernetes and
# Helm modules kept out of certgate's go.mod.
DEPLOY_LINT := $(GO) tool -modfile=../tools/lint/go.mod golangci-lint

.PHONY: build test lint-tool fuzz fuzz-build unit rego lint proto fmt-check vet generate check-generate bench bench-load dev clean deploy-test

build:
	$(GO) build -o bin/certgate ./cmd/certgate

## test: everything CI checks — formatting, vet, lint, buf lint/breaking, generated code, Go tests, Rego tests, deploy tests, fuzzing.
## The checks run side by side, TEST_JOBS at a time (`make test TEST_JOBS=1`: one after another); each one's output is printed whole when it ends.
TEST_JOBS ?= 8
TEST_PARTS := unit fuzz-build vet lint-tool proto check-generate lint rego deploy-test fuzz
test: fmt-check
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target $(addprefix test-part/,$(TEST_PARTS))

# test-part/X runs `make X`. Parts that share a compile run in order, the
# rest side by side: vet's packages serve lint, the Rego tests' opa and the
# deploy module (all static and -trimpath, see STATIC); the golangci-lint
# binary (lint-tool) serves both lints; buf serves check-generate. Side by
# side, each would compile those packages itself.
test-part/%:
	@start=$$(date +%s); took() { echo "== make $* $$1 after $$(( $$(date +%s) - start )) s"; }; \
	if $(if $(filter $*,$(TEST_SLACK_PARTS)),nice -n 10) $(MAKE) --no-print-directory $*; then took passed; else took FAILED; exit 1; fi
# Parts with slack run at a lower priority: fuzz waits for all of them
# anyway, while the race tests (the longest part: ./test alone runs two
# minutes once all of certgate is compiled with -race) are not kept waiting.
TEST_SLACK_PARTS := fuzz-build rego
test-part/lint test-part/deploy-test: test-part/vet test-part/lint-tool
test-part/rego: test-part/vet
test-part/check-generate: test-part/proto
# Fuzzing gets a core per lane for FUZZTIME only if it does not share the
# machine with the compiles: it runs once they are done (its instrumented
# build, fuzz-build, runs side by side like the others).
test-part/fuzz: test-part/fuzz-build test-part/lint test-part/rego test-part/deploy-test

# lint-tool: build golangci-lint (in the configuration lint runs it in).
lint-tool:
	$(STATIC) $(LINT) version

unit:
	$(GO) test -race -count=1 $(PKGS)

FUZZ_LANES := ./identity,./trust ./policy,./server
comma := ,
FUZZ_PKGS := $(sort $(foreach t,$(FUZZ_TARGETS),$(firstword $(subst :, ,$(t)))))
FUZZ_UNLANED := $(filter-out $(subst $(comma), ,$(FUZZ_LANES)),$(FUZZ_PKGS))

## fuzz: each fuzz target for FUZZTIME (a crasher lands in testdata/fuzz and fails `make unit` from then on).
fuzz:
	$(if $(FUZZ_UNLANED),$(error FUZZ_LANES lacks $(FUZZ_UNLANED): its fuzz targets would not run))
	@$(MAKE) --no-print-directory -j$(words $(FUZZ_LANES)) --output-sync=target $(addprefix fuzz-lane/,$(FUZZ_LANES))

## fuzz-build: compile each fuzz target's package instrumented, one package after another (the lanes would compile the standard library's instrumented packages twice at once).
fuzz-build:
	@set -e; for pkg in $(FUZZ_PKGS); do echo "go test -c -fuzz=. $$pkg"; $(GO) test -c -fuzz=. -o /dev/null $$pkg; done

# fuzz-lane/./policy,./server: those packages' targets, one after another.
fuzz-lane/%:
	@set -e; for t in $(foreach p,$(subst $(comma), ,$*),$(filter $(p):%,$(FUZZ_TARGETS))); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) -parallel=$(FUZZ_WORKERS) $$pkg; \
	done

## deploy-test: vet, lint and test the deploy module (manifests, Helm chart, Dockerfile, systemd unit).
deploy-test:
	cd deploy && $(STATIC) $(GO) vet ./...
	cd deploy && $(STATIC) $(DEPLOY_LINT) run --allow-parallel-runners ./...
	cd deploy && $(STATIC) $(GO) test -count=1 ./...

rego:
	$(STATIC) $(GO) tool opa test rego/ -v

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(STATIC) $(GO) vet $(PKGS)

lint:
	$(STATIC) $(LINT) run --allow-parallel-runners $(PKGS)

## proto: buf lint, and buf breaking against the main branch when there is one to compare with.
proto:
	@want=$$($(GO) list -modfile=tools/go.mod -m -f '{{.Version}}' github.com/bufbuild/buf); have=v$$($(BUF) --version); \
	if [ "$$have" != "$$want" ]; then echo "$(BUF) is buf $$have; tools/go.mod pins $$want: update tools/buf/package.json (npm install --prefix tools/buf @bufbuild/buf@$${want#v})"; exit 1; fi
	$(BUF) lint
	@if git show-ref --verify --quiet refs/heads/main && git ls-tree -r --name-only main -- proto | grep -q '\.proto$$'; then \
		echo "buf breaking --against .git#branch=main"; $(BUF) breaking --against '.git#branch=main'; \
	else echo "buf breaking: no main branch with proto files to compare with"; fi

generate:
	@if ls proto/*/*/*/*.proto >/dev/null 2>&1; then $(STATIC) $(BUF) generate; else echo "no .proto files yet"; fi

check-generate: generate
	@git diff --exit-code -- gen/ || (echo "generated code in gen/ is stale: run 'make generate' and commit"; exit 1)
	@test -z "$$(git status --porcelain -- gen/)" || (echo "untracked generated files in gen/: run 'make generate' and commit"; git status --porcelain -- gen/; exit 1)

## bench: every Go benchmark, -count=$(BENCHCOUNT); compare runs with benchstat old.txt new.txt.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=$(BENCHCOUNT) -timeout=60m $(BENCHPKGS)

## bench-load: certgate against the no-op baseline, in one process (see BENCHMARKS.md).
bench-load: build
	./bin/certgate bench --baseline --serve --duration 20s

dev: build
	./bin/certgate dev

clean:
	rm -rf bin
