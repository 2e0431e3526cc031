# async-patterns: every target installs what it needs on a fresh Debian machine.
SHELL := /bin/bash
SYSTEM_PACKAGES := libsqlite3-dev sqlite3 gnuplot-nox libcurl4-openssl-dev pkg-config
PERF_PACKAGES := wrk nginx-light
# wrk is the reference engine specs may list in `engines`.
EXPERIMENT_PACKAGES := wrk
DB ?= results/lab.sqlite
REPORTS ?= reports
SPECS ?=
ARGS ?=
RELEASE := .build/release

.PHONY: help install deps build release test lint format clean experiments experiments-quick reproducibility report \
	mock-server perf \
	distributed-check

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

deps: ## Install the Debian packages the build and the experiments need (wrk), when missing.
	@scripts/ensure-packages.sh $(SYSTEM_PACKAGES) $(EXPERIMENT_PACKAGES)

install: deps ## Install system packages when missing, then build (debug).
	swift build

build: deps ## Debug build.
	swift build

release: deps ## Release build (used for every figure).
	swift build -c release

test: deps ## Build and run all tests.
	swift build --build-tests
	swift test --skip-build --no-parallel

lint: ## Fail on any formatting difference.
	swift format lint --strict --recursive Package.swift Sources Tests

format: ## Format the code in place.
	swift format format --in-place --recursive Package.swift Sources Tests

clean: ## Remove build output and results (keeps reports/).
	rm -rf .build results

experiments: release ## Sweep every spec into $(DB), then render $(REPORTS)/.
	@mkdir -p $(dir $(DB))
	$(RELEASE)/experiments run $(SPECS) --db $(DB) $(ARGS)
	$(RELEASE)/report --format markdown --db $(DB) --out $(REPORTS)

experiments-quick: release ## The quick profile (about 2 minutes) into results/quick.sqlite and results/quick-report/.
	@mkdir -p results
	$(RELEASE)/experiments run $(SPECS) --quick --db results/quick.sqlite $(ARGS)
	$(RELEASE)/report --format markdown --db results/quick.sqlite --out results/quick-report

reproducibility: release ## Run engines and pooling again (results/repro.sqlite); compare each engine-to-wrk ratio with $(REPORTS)/.
	@mkdir -p results
	rm -f results/repro.sqlite results/repro.sqlite-wal results/repro.sqlite-shm
	$(RELEASE)/experiments run experiments/engines.json experiments/pooling.json --db results/repro.sqlite $(ARGS)
	$(RELEASE)/report --format markdown --db results/repro.sqlite --out results/repro-report
	scripts/compare-wrk-ratios.py $(REPORTS) results/repro-report engines pooling --markdown $(REPORTS)/reproducibility.md

report: release ## Render $(REPORTS)/ again from $(DB).
	$(RELEASE)/report --format markdown --db $(DB) --out $(REPORTS)

mock-server: release ## Run the mock server on 127.0.0.1:8080 (ARGS='--latency-ms 5 ...').
	$(RELEASE)/mock-server --port 8080 $(ARGS)

perf: release ## Print the performance figures and write results/perf.json (ONLY=prefix to filter).
	@scripts/ensure-packages.sh $(PERF_PACKAGES)
	@mkdir -p results
	$(RELEASE)/experiments perf --out results/perf.json $(if $(ONLY),--only $(ONLY),)

distributed-check: release ## As root: shard a quick sweep over a local Slurm cluster and GNU parallel; merge must equal a single run.
	scripts/distributed-check.sh

.PHONY: benchmark benchmark-resilience benchmark-full

benchmark: release ## Seed parity: sync, threaded, async x pooled, naive; 5000 requests at 5 ms +-20% (ARGS='--concurrency 64').
	$(RELEASE)/experiments benchmark $(ARGS)

benchmark-resilience: release ## Seed parity: breaker + retries through healthy, 100% errors, recovered; fails if a transition is missing.
	$(RELEASE)/experiments benchmark-resilience $(ARGS)

benchmark-full: release ## Seed parity: 60 s at concurrency 200 streaming to SQLite and JSONL; RSS every 10 s.
	@mkdir -p results
	$(RELEASE)/experiments benchmark-full $(ARGS)
