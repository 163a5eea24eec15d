#!/usr/bin/env bash
# Benchmarks on the release build: medians of repeated runs and ratios, all measured in one run
# (machines here are shared and noisy: compare ratios, not absolute times across runs).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/zuora-sync
[ -x "$BIN" ] || { echo "build first: swift build -c release" >&2; exit 64; }
[ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install -y time" >&2; exit 64; }
BULK=${BULK:-1000}      # workflows of the in-process tenant
HTTP_BULK=${HTTP_BULK:-200}
RUNS=${RUNS:-5}
WORK=$(mktemp -d)
trap 'kill $SERVER_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
SERVER_PID=

"$BIN" fixtures generate --bulk "$BULK" --out "$WORK/fixtures" >/dev/null
"$BIN" fixtures generate --bulk "$HTTP_BULK" --out "$WORK/http-fixtures" >/dev/null
EXPORT_MB=$(du -sm "$WORK/fixtures/bulk/exports" | cut -f1)
cat > "$WORK/customers.yaml" <<YAML
customers:
  - {id: bulk, base_url: "fixture://bulk", client_id: bulk-client, client_secret: bulk-secret}
YAML
sed -e 's/concurrency: 8 /concurrency: 1 /' pipelines/sync-workflows.yaml > "$WORK/pipeline-c1.yaml"
cp pipelines/sync-workflows.yaml "$WORK/pipeline-c8.yaml"

# Runs a command, appends "seconds maxrss_kb" to a file.
measure() { local out=$1; shift; /usr/bin/time -f "%e %M" -a -o "$out" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; }
median() { python3 -c "import sys,statistics; v=[float(l.split()[$2]) for l in open('$1') if l.strip()]; print(f'{statistics.median(v):.3f}')"; }

# Every run gets a fresh data directory and nothing is deleted until the end: on a file system
# mounted with online discard, deleting the previous run's files would bill its kernel time to the next.
# 1. Full sync of BULK workflows, in process (fixture transport): parse, hash, store, snapshot, tasks.
for i in $(seq "$RUNS"); do
  measure "$WORK/full.txt" "$BIN" run --all --customers "$WORK/customers.yaml" --fixtures "$WORK/fixtures" --data-dir "$WORK/data-full-$i"
done
# 2. Unchanged resync of the same tenant: a handful of list calls, no export.
for i in $(seq "$RUNS"); do
  measure "$WORK/resync.txt" "$BIN" run --all --customers "$WORK/customers.yaml" --fixtures "$WORK/fixtures" --data-dir "$WORK/data-full-1"
done
# 3. Over HTTP against the mock server with 20 ms latency: concurrency 1 vs 8.
"$BIN" mock-server --fixtures "$WORK/http-fixtures" --port 0 --latency 20 > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do grep -q listening "$WORK/server.log" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/server.log" | cut -d: -f2)
cat > "$WORK/customers-http.yaml" <<YAML
customers:
  - {id: bulk, base_url: "http://127.0.0.1:$PORT/bulk", client_id: bulk-client, client_secret: bulk-secret}
YAML
for i in $(seq 3); do
  for c in 1 8; do
    measure "$WORK/http-c$c.txt" "$BIN" run --all --customers "$WORK/customers-http.yaml" --pipeline "$WORK/pipeline-c$c.yaml" --full --data-dir "$WORK/data-http-$c-$i"
  done
done

FULL=$(median "$WORK/full.txt" 0); FULL_RSS=$(median "$WORK/full.txt" 1)
RESYNC=$(median "$WORK/resync.txt" 0)
C1=$(median "$WORK/http-c1.txt" 0); C8=$(median "$WORK/http-c8.txt" 0)
python3 - "$BULK" "$EXPORT_MB" "$FULL" "$FULL_RSS" "$RESYNC" "$HTTP_BULK" "$C1" "$C8" "$RUNS" <<'PY'
import sys
bulk, mb, full, rss, resync, hbulk, c1, c8, runs = sys.argv[1:]
bulk, full, rss, resync, hbulk, c1, c8 = int(bulk), float(full), float(rss), float(resync), int(hbulk), float(c1), float(c8)
print(f"zuora-sync benchmarks (release build, medians of {runs} runs; HTTP: 3 runs)")
print(f"  full sync, {bulk} workflows in process ({mb} MB of exports): {full:.2f} s  ({bulk/full:.0f} workflows/s), peak RSS {rss/1024:.0f} MB")
print(f"  unchanged resync of the same tenant:                         {resync:.2f} s  ({full/resync:.1f}x faster than full)")
print(f"  full sync over HTTP, {hbulk} workflows, 20 ms latency: concurrency 1 {c1:.2f} s, concurrency 8 {c8:.2f} s  ({c1/c8:.1f}x)")
PY
