# Switchboard — the usual targets. The two that matter: `make demo`, `make test`.
GO ?= go

.PHONY: demo test build run generate lint fmt ci bench docker clean

demo:            ## start the demo: embedded database, simulated customers
	$(GO) run ./cmd/switchboard demo

test:            ## the whole test suite, as CI runs it
	$(GO) test -race ./...

build:           ## a static binary in ./bin
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/switchboard ./cmd/switchboard

generate:        ## regenerate templ output (commit the result)
	$(GO) tool templ generate

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

ci:              ## exactly what CI runs
	.ci/run

bench:           ## benchmarks (figures go in BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem ./...

docker:
	docker build -t switchboard .

clean:
	rm -rf bin data artifacts
