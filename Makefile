# zuora-sync: the commands a user types. See README.md.
SWIFT ?= swift
BIN := .build/debug/zuora-sync
DATA ?= data
CUSTOMERS ?= customers.demo.yaml
PIPELINE ?= pipelines/sync-workflows.yaml
# Options every command takes; they follow the subcommand.
OPTS := --data-dir $(DATA) --customers $(CUSTOMERS)

.PHONY: deps build release demo test chaos sync resume inspect runs status report validate bench fixtures mock-server clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build

## The build to deploy (cron, systemd: .build/release/zuora-sync) and to benchmark. The Swift
## runtime and Foundation are linked in: a run starts in about 10 ms instead of 30-40 ms of
## dynamic symbol binding, which every cron invocation pays.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib

## Sync the three built-in mock tenants into data/ and print the summary.
demo: build
	$(BIN) run --all --pipeline $(PIPELINE) $(OPTS)

## The whole test suite (what .ci/run calls), with a throwaway PostgreSQL server for the
## PostgreSQL store, queue and several-hosts tests (stopped at the end, even on failure).
test: deps
	bash scripts/postgres-test-server.sh run $(SWIFT) test

## Every crash point of the crash matrix (resume and fresh run after each kill), the hostile
## upstream and configuration suites and the secrets test; prints the counts. About 5 minutes.
chaos: deps
	ZUORA_SYNC_CHAOS=full bash scripts/postgres-test-server.sh run $(SWIFT) test --filter 'CrashMatrix|CrashSafety|HostileUpstream|HostileConfiguration|SecretsTests|SignalTests'

## make sync CUSTOMER=id [CUSTOMERS=customers.yaml]
sync: build
	@test -n "$(CUSTOMER)" || (echo "usage: make sync CUSTOMER=id [CUSTOMERS=customers.yaml]" >&2; exit 64)
	$(BIN) run --customer $(CUSTOMER) --pipeline $(PIPELINE) $(OPTS)

resume: build
	$(BIN) resume $(RUN) $(OPTS)

inspect: build
	$(BIN) inspect $(RUN) $(OPTS)

runs: build
	$(BIN) runs $(OPTS)

## Health check: exit 0 when all is well, 2 when something needs attention.
status: build
	$(BIN) status $(OPTS)

## The static HTML report in $(DATA)/report/index.html.
report: build
	$(BIN) report $(OPTS)

validate: build
	$(BIN) validate $(PIPELINE) $(OPTS)

## Benchmarks (release build): medians, same-run ratios and issue 12's targets marked met/missed;
## also bench/results.json. Quick run: make bench SIZES=1000 RUNS=1 (knobs in scripts/bench.py).
bench: release
	bash scripts/postgres-test-server.sh run bash scripts/bench.sh

## Regenerate the demo fixtures (byte for byte the same as committed).
fixtures: build
	$(BIN) fixtures generate --out fixtures/demo

mock-server: build
	$(BIN) mock-server --fixtures fixtures/demo

clean:
	rm -rf .build
