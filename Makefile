# envctl — the two set-up commands are `make demo` and `make test`.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
ACTIONLINT  ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
BIN         := bin/envctl

.PHONY: build test demo bench lint fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/envctl

# Unit tests, and integration tests against a moto_server each test
# package starts on a free loopback port.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# Starts moto_server and runs validate → plan → apply → plan → show →
# destroy on the example env under testdata/example.
demo: build
	bash scripts/demo.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(ACTIONLINT) .github/workflows/*.yml

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
