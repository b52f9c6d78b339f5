# Parley — the two commands a newcomer needs:
#   make run    run Parley on this machine (SQLite in ./parley-data, no other service)
#   make test   run every test (Go on SQLite and, with PARLEY_TEST_POSTGRES_URL, PostgreSQL; the SDK compat suite)

GO ?= go

.PHONY: run test test-go test-compat lint build bench-build

run:
	$(GO) run ./cmd/parley serve

build:
	$(GO) build -o bin/parley ./cmd/parley

test: lint test-go test-compat

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test -race -count=1 ./...

test-compat:
	$(GO) build -o compat/.bin/parley ./cmd/parley
	cd compat && npm ci --no-audit --no-fund && PARLEY_BIN=$(CURDIR)/compat/.bin/parley npm test

bench-build:
	$(GO) build -o bin/parley-bench ./bench/cmd/parley-bench
