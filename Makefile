# envctl — the two set-up commands are `make demo` and `make test`.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
ACTIONLINT  ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
BIN         := bin/envctl

.PHONY: build test demo bench lint fmt clean fuzz soak

build:
	$(GO) build -o $(BIN) ./cmd/envctl

# Unit tests, and integration tests against a moto_server each test
# package starts on a free loopback port.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -race ./pkg/plan
	$(GO) test -count=1 -timeout 20m ./...

# Short, bounded fuzzing of the env-file loader and the policy normaliser,
# from the committed seed corpora (CI runs it after make test).
FUZZTIME ?= 15s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./pkg/config
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./pkg/policy
	$(GO) test -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $(FUZZTIME) ./pkg/policy

# The fault and crash tests with many more seeds and kill points (tens of
# minutes): ENVCTL_SOAK=1 widens the loops the normal run keeps short.
soak:
	ENVCTL_SOAK=1 $(GO) test -count=1 -timeout 90m -run 'Faults|Lost|Storm|Crash|Interrupt' -v ./cmd/envctl

# Starts moto_server and runs validate → plan → apply → plan → show →
# destroy on the example env under testdata/example.
demo: build
	bash scripts/demo.sh

# Benchmarks, not part of make test: starts its own moto_server behind a
# 30 ms latency proxy, measures envctl against Terraform (apply, no-change
# plan, destroy) on the example env and generated envs, times validate, runs
# the Go micro-benchmarks, and writes docs/benchmarks.md. The default runs
# N = 10,50; BENCH_FLAGS='-n 10,50,200,500' runs every size (-help lists all).
BENCH_FLAGS ?=
bench:
	$(GO) run ./bench/cmd/envctl-bench -out docs/benchmarks.md $(BENCH_FLAGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(ACTIONLINT) .github/workflows/*.yml

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
