# reverie's front door. `make run` opens the installation; `make test` sets up
# a fresh Debian bookworm machine and runs the whole suite.

GO        ?= go
BIN       := bin/reverie
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# Tests that open a window get a virtual display unless one is already there.
XVFB      := $(if $(DISPLAY),,xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp")
TESTFLAGS ?= -count=1 -timeout 15m

.PHONY: run test setup build bench vet fmt clean

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

bench: setup
	$(XVFB) $(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
