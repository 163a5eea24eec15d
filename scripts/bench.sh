#!/usr/bin/env bash
# Benchmarks on the release build (`make bench`): see scripts/bench.py for the scenarios, the
# targets and the knobs (SIZES, RUNS, HTTP_RUNS, LATENCIES, CONCURRENCIES, SECTIONS, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/bench.py "$@"
