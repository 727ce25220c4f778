# bohost: two commands do all set-up on a fresh Debian 12 machine (as root):
#   make run    installs what is missing, builds bohost, runs the main job
#   make test   installs what is missing, runs vet, format check, lint and all tests
SHELL := /bin/bash
GO_VERSION := 1.26.8
export PATH := /usr/local/go$(GO_VERSION)/bin:/usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export GOTOOLCHAIN := local
BIN := bin/bohost
RUN_ARGS ?=

.PHONY: all setup setup-test build run test slurm-up slurm-down vet fmt-check lint fuzz test-long matprofile bench ptx gpu-check gpu-check-binary leakcheck memcheck clean

all: build

setup:
	@bash tools/setup.sh

build: setup
	go build -o $(BIN) ./cmd/bohost

# The main job: the alpha sweep on the embedded synthetic data set.
run: build
	$(BIN) scripts/alpha_sweep.lua $(RUN_ARGS)

vet:
	go vet ./...
	go vet -tags cuda ./host/gpu/...   # + the device tests, the only files behind the tag

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# staticcheck (pinned; go run fetches it through the module proxy the first
# time and caches the binary), also over the cuda-tagged files, and go.mod /
# go.sum exactly as go mod tidy leaves them.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	go run $(STATICCHECK) ./...
	go run $(STATICCHECK) -tags cuda ./host/gpu/...
	go mod tidy -diff

# The full test suite (CI runs exactly this through .ci/run).
setup-test:
	@BOHOST_SETUP_TEST=1 bash tools/setup.sh

# The Slurm tests run against a local single-node cluster that slurm-up
# starts (installing slurm-wlm and munge when missing); BOHOST_REQUIRE_SLURM
# makes them fail, not skip, when it cannot be reached.
test: setup-test slurm-up vet fmt-check lint
	BOHOST_REQUIRE_SLURM=1 go test -count=1 ./...
	go test -count=1 -tags cuda -run 'TestCUDA|TestStubDeviceSuite' ./host/gpu/
	$(MAKE) --no-print-directory fuzz

# Coverage-guided fuzzing for a bounded time (FUZZTIME each; the committed
# seeds under testdata/fuzz also run in every plain go test): image headers
# (decompression bombs), a resumed run directory's files, the report's reader.
# FUZZMINIMIZE bounds the minimisation of each new-coverage input: with Go's
# default of 60 s, FuzzRunDirFiles (whole run directories as inputs, a resume
# per input) spent every 10 s of fuzzing minimising its first find, made no
# progress, and sometimes ended in "context deadline exceeded".
FUZZTIME ?= 10s
FUZZMINIMIZE ?= 2s
fuzz:
	go test -run '^$$' -fuzz '^FuzzImageHeader$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) ./host/imgbuf/
	go test -run '^$$' -fuzz '^FuzzRunDirFiles$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) ./host/run/
	go test -run '^$$' -fuzz '^FuzzLoadRun$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) ./host/report/

# Long cases: n=200 GP anchors, 4000x3000 images, long kill tests.
test-long: setup-test
	BOHOST_LONG=1 go test -count=1 -timeout 60m ./...

# gocv's live-Mat profiler (a separate gocv build: ~100 s the first time).
matprofile: setup
	go test -tags matprofile -count=1 ./host/cv/

# GPU: PTX from the .cu sources (clang, as the committed files), the carried
# test binary for a GPU machine (no Go, no OpenCV there), and the device check.
# The CUDA binding is in every build (purego loads the driver at run time);
# -tags cuda only adds the device tests, which skip without a device.
ptx:
	BOHOST_PTX_CC=clang go generate ./host/gpu/

gpu-check-binary:
	CGO_ENABLED=0 go test -c -tags cuda -o bin/gpu.test ./host/gpu/
	@if ldd bin/gpu.test 2>/dev/null | grep -qi opencv; then echo "bin/gpu.test links OpenCV"; exit 1; fi

GPU_OUT ?= out/gpu-check
gpu-check:
	bash scripts/gpu-check.sh $(GPU_OUT)

# The evaluator as users run it: 1,000 evaluations through Lua with flat RSS
# and no live handles; then the same with gocv's live-Mat profiler.
leakcheck: setup
	go test -count=1 -v -run 'AirlineEvaluatorNoLeak|AirlineLeakCheckSeesGrowth' ./bindings/
	go test -tags matprofile -count=1 -v -run 'MatsClosed|MatProfileSeesLeaks' ./bindings/ ./host/cv/

# 500 evaluations on the default data set in one run: host RSS must stay flat
# (growth < 10 MB after warm-up); the run is kept and its memory figure drawn.
memcheck: build
	BOHOST_LONG=1 BOHOST_MEMCHECK_DIR=$(CURDIR)/out/memcheck go test -count=1 -v -run TestHostRSSFlat ./host/run/
	$(BIN) report out/memcheck --out out/memcheck/report
	@echo "memory over time: out/memcheck/report/runs/*/system.png"

bench: build
	go test -run '^$$' -bench . -benchtime 3x ./host/...

# A single-node Slurm cluster on this machine (Debian's slurm-wlm and munge,
# installed when missing) for the Slurm tests and a demo of --executor slurm:
#   make slurm-up && eval "$$(tools/slurm.sh env)" && bin/bohost scripts/alpha_sweep.lua --smoke --executor slurm
# Its files live in /var/tmp/bohost-slurm; /etc/slurm is not touched.
slurm-up:
	@bash tools/slurm.sh up

slurm-down:
	@bash tools/slurm.sh down

clean:
	rm -rf bin
