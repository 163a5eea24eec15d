# zuora-sync: the commands a user types. See README.md.
SWIFT ?= swift
BIN := .build/debug/zuora-sync
DATA ?= data
CUSTOMERS ?= customers.demo.yaml
PIPELINE ?= pipelines/sync-workflows.yaml
ZS := $(BIN) --data-dir $(DATA) --customers $(CUSTOMERS)

.PHONY: deps build demo test sync resume inspect runs validate bench fixtures mock-server clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build

## Sync the three built-in mock tenants into data/ and print the summary.
demo: build
	$(ZS) run --all --pipeline $(PIPELINE)

## The whole test suite (what .ci/run calls).
test: deps
	$(SWIFT) test

## make sync CUSTOMER=id [CUSTOMERS=customers.yaml]
sync: build
	@test -n "$(CUSTOMER)" || (echo "usage: make sync CUSTOMER=id [CUSTOMERS=customers.yaml]" >&2; exit 64)
	$(ZS) run --customer $(CUSTOMER) --pipeline $(PIPELINE)

resume: build
	$(ZS) resume $(RUN)

inspect: build
	$(ZS) inspect $(RUN)

runs: build
	$(ZS) runs

validate: build
	$(ZS) validate $(PIPELINE)

## Benchmarks (release build): medians and ratios, see README.
bench: deps
	$(SWIFT) build -c release
	bash scripts/bench.sh

## Regenerate the demo fixtures (byte for byte the same as committed).
fixtures: build
	$(BIN) fixtures generate --out fixtures/demo

mock-server: build
	$(BIN) mock-server --fixtures fixtures/demo

clean:
	rm -rf .build
