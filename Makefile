# reverie's front door. `make run` opens the installation; `make test` sets up
# a fresh Debian bookworm machine and runs the whole suite.

GO        ?= go
BIN       := bin/reverie
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# Tests that open a window get a virtual display unless one is already there.
XVFB      := $(if $(DISPLAY),,xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp")
TESTFLAGS ?= -count=1 -timeout 15m

.PHONY: run test setup build bench bench-go vet fmt clean soak

run: setup build
	./$(BIN) run

test: setup vet
	$(XVFB) $(GO) test -tags matprofile $(TESTFLAGS) ./...

setup:
	@./scripts/setup.sh

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/reverie

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet -tags matprofile ./...

# bench measures every stage against a bare baseline in one run, and the
# input-to-response latency (docs/PERFORMANCE.md). BENCHFLAGS=-quick takes
# under a minute; BENCHFLAGS=-json prints one JSON object.
BENCHFLAGS ?=
bench: setup build
	./$(BIN) bench $(BENCHFLAGS)

# bench-go runs the packages' Go benchmarks (ns/op, allocs/op).
bench-go: setup
	$(XVFB) $(GO) test -tags matprofile -run '^$$' -bench . -benchmem ./...

# soak runs the whole installation for SOAK_MINUTES on the looping sample
# clip while injecting faults (camera loss, model swaps, bad requests, OSC
# garbage, an invalid config reload), then asserts it survived without
# leaking. Not part of make test.
SOAK_MINUTES ?= 10
soak: setup
	$(GO) build -tags matprofile -ldflags "$(LDFLAGS)" -o bin/reverie-soak ./cmd/reverie
	$(XVFB) env REVERIE_BIN=$(CURDIR)/bin/reverie-soak SOAK_MINUTES=$(SOAK_MINUTES) \
		$(GO) test -tags 'soak matprofile' -run '^TestSoak$$' -count=1 -v -timeout 3h ./cmd/reverie/

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
