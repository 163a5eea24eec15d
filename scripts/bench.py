#!/usr/bin/env python3
"""zuora-sync benchmarks on the release build (`make bench`, `scripts/bench.sh`).

Prints medians and same-run ratios with each target of issue 12 marked met or missed, and writes
them to bench/results.json. Machines here are shared and noisy: compare the ratios measured in one
run, not absolute times across runs.

Knobs (environment), for a quicker run while iterating:
  SIZES="1000 5000 20000"  in-process tenant sizes (full and unchanged sync, list-only)
  RUNS=3                   repetitions of each in-process measurement (median)
  HTTP_RUNS=3              repetitions of each HTTP measurement
  LATENCIES="20 100"       mock-server latencies in ms;   CONCURRENCIES="1 8 40"
  HTTP_WORKFLOWS=200       workflows of the HTTP tenant
  TENANTS=10 TENANT_SIZE=1000 KEEP_RUNS=20   the many-tenants and data-directory scenario
  PG_SIZE=1000             workflows of the PostgreSQL-vs-SQLite scenario (needs ZUORA_SYNC_TEST_POSTGRES,
                           which `make bench` sets by starting a throwaway server)
  SECTIONS="http inprocess tenants postgres"  which scenarios to run
  OUT=bench/results.json
"""
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build/release/zuora-sync")
PIPELINE = os.path.join(ROOT, "pipelines/sync-workflows.yaml")


def env_list(name, default):
    return [int(v) for v in os.environ.get(name, default).split()]


SIZES = env_list("SIZES", "1000 5000 20000")
RUNS = int(os.environ.get("RUNS", "3"))
HTTP_RUNS = int(os.environ.get("HTTP_RUNS", "3"))
LATENCIES = env_list("LATENCIES", "20 100")
CONCURRENCIES = env_list("CONCURRENCIES", "1 8 40")
HTTP_WORKFLOWS = int(os.environ.get("HTTP_WORKFLOWS", "200"))
TENANTS = int(os.environ.get("TENANTS", "10"))
TENANT_SIZE = int(os.environ.get("TENANT_SIZE", "1000"))
KEEP_RUNS = int(os.environ.get("KEEP_RUNS", "20"))
SECTIONS = os.environ.get("SECTIONS", "http inprocess tenants postgres").split()
PG_SIZE = int(os.environ.get("PG_SIZE", "1000"))
OUT = os.environ.get("OUT", os.path.join(ROOT, "bench/results.json"))
PAGE_SIZE = 50


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(64)


def measure(args, cwd=None):
    """Runs a command under GNU time; returns (seconds, peak RSS in MB).

    The seconds are the wall time around GNU time, to the millisecond (its own `%e` has 10 ms
    steps: too coarse for runs of 0.1 s, whose ratios are targets); its peak RSS is the child's.
    The file system is synced first (not timed): a full sync of 20,000 leaves about 1.7 GB to
    write back, and a run started meanwhile shared the 2 cores with that writeback."""
    os.sync()
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        started = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name] + args, cwd=cwd,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = round(time.perf_counter() - started, 3)
        if result.returncode != 0:
            fail(f"failed ({result.returncode}): {' '.join(args)}\n{result.stderr[-2000:]}")
        kb = out.read().split()[-1]
        return seconds, int(kb) / 1024


def median(values):
    return statistics.median(values) if values else None


def du(path):
    """Bytes on disk and files (inodes) under path; a file with several names (hard links: a run's
    export copy, its object and its snapshot) counts once, as on the disk."""
    total = files = 0
    seen = set()
    for directory, _, names in os.walk(path):
        for name in names:
            info = os.lstat(os.path.join(directory, name))
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
            files += 1
    return total, files


def write_customers(path, entries):
    with open(path, "w") as file:
        file.write("customers:\n")
        for slug, url in entries:
            file.write(f'  - {{id: {slug}, base_url: "{url}", client_id: bulk-client, client_secret: bulk-secret}}\n')


def pipeline_variant(path, concurrency=None, list_only=False):
    text = open(PIPELINE).read()
    if concurrency is not None:
        text, count = re.subn(r"concurrency: 8 ", f"concurrency: {concurrency} ", text, count=1)
        assert count == 1, "client.concurrency not found in the pipeline"
    if list_only:
        text = text[:text.index("  - id: download-exports")]
    with open(path, "w") as file:
        file.write(text)
    return path


def generate(work, name, workflows):
    directory = os.path.join(work, name)
    if not os.path.isdir(directory):
        subprocess.run([BIN, "fixtures", "generate", "--bulk", str(workflows), "--out", directory], check=True, stdout=subprocess.DEVNULL)
    return directory


class Targets:
    def __init__(self):
        self.rows = []

    def add(self, name, value, limit, unit, met):
        self.rows.append({"target": name, "value": value, "limit": limit, "unit": unit, "met": bool(met)})


def bench_http(work, results, targets):
    fixtures = generate(work, "http-fixtures", HTTP_WORKFLOWS)
    pages = max(1, math.ceil(HTTP_WORKFLOWS / PAGE_SIZE))
    section = results.setdefault("http", {"workflows": HTTP_WORKFLOWS, "pages": pages, "latencies": {}})
    for latency in LATENCIES:
        log = open(os.path.join(work, f"server-{latency}.log"), "w+")
        server = subprocess.Popen([BIN, "mock-server", "--fixtures", fixtures, "--port", "0", "--latency", str(latency)],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            port = None
            for _ in range(100):
                log.seek(0)
                match = re.search(r"127\.0\.0\.1:(\d+)", log.read())
                if match:
                    port = match.group(1)
                    break
                time.sleep(0.1)
            if not port:
                fail("the mock server did not start")
            base = f"http://127.0.0.1:{port}/bulk"
            customers = os.path.join(work, f"customers-http-{latency}.yaml")
            write_customers(customers, [("bulk", base)])
            row = {"floor": {}, "zuora_sync": {}, "sequential_reference": None}
            seq = []
            for i in range(HTTP_RUNS):
                seq.append(measure([sys.executable, os.path.join(ROOT, "scripts/sequential-reference.py"), base, "bulk-client",
                                    "bulk-secret", os.path.join(work, f"seq-{latency}-{i}")])[0])
                for c in CONCURRENCIES:
                    pipeline = pipeline_variant(os.path.join(work, f"pipeline-c{c}.yaml"), concurrency=c)
                    seconds, _ = measure([BIN, "run", "--all", "--customers", customers, "--pipeline", pipeline, "--full",
                                          "--data-dir", os.path.join(work, f"data-http-{latency}-{c}-{i}"), "--quiet"])
                    row["zuora_sync"].setdefault(str(c), []).append(seconds)
            row["sequential_reference"] = median(seq)
            for c in CONCURRENCIES:
                floor = latency / 1000 * (1 + pages + math.ceil(HTTP_WORKFLOWS / c))
                t = median(row["zuora_sync"][str(c)])
                row["floor"][str(c)] = floor
                row["zuora_sync"][str(c)] = {"median": t, "runs": row["zuora_sync"][str(c)], "vs_floor": t / floor,
                                             "speedup_vs_sequential": row["sequential_reference"] / t}
                if c in (8, 40):
                    targets.add(f"{HTTP_WORKFLOWS} workflows, {latency} ms, concurrency {c}: time / latency floor", t / floor, 1.1, "x",
                                t / floor <= 1.1)
                if c == 8 and latency == 100:
                    speedup = row["sequential_reference"] / t
                    targets.add(f"{HTTP_WORKFLOWS} workflows, 100 ms, concurrency 8: speed-up over the sequential client", speedup, 6.0,
                                "x (at least)", speedup >= 6.0)
            section["latencies"][str(latency)] = row
        finally:
            server.terminate()
            server.wait()


def bench_inprocess(work, results, targets):
    section = results.setdefault("in_process", {})
    list_only = pipeline_variant(os.path.join(work, "pipeline-list-only.yaml"), list_only=True)
    for size in SIZES:
        fixtures = generate(work, f"fixtures-{size}", size)
        customers = os.path.join(work, f"customers-{size}.yaml")
        write_customers(customers, [("bulk", "fixture://bulk")])
        exports_mb = du(os.path.join(fixtures, "bulk/exports"))[0] / 1e6
        base = [BIN, "run", "--all", "--customers", customers, "--fixtures", fixtures, "--quiet"]
        full, unchanged, listing = [], [], []
        for i in range(RUNS):
            full.append(measure(base + ["--data-dir", os.path.join(work, f"data-{size}-{i}")]))
        for i in range(RUNS):
            unchanged.append(measure(base + ["--data-dir", os.path.join(work, f"data-{size}-0")]))
        for i in range(RUNS):
            listing.append(measure(base + ["--pipeline", list_only, "--data-dir", os.path.join(work, f"data-{size}-list-{i}")]))
        row = {
            "exports_mb": round(exports_mb, 1),
            "full": {"median": median([t for t, _ in full]), "peak_mb": median([m for _, m in full]), "runs": full},
            "unchanged": {"median": median([t for t, _ in unchanged]), "peak_mb": median([m for _, m in unchanged]), "runs": unchanged},
            "list_only": {"median": median([t for t, _ in listing]), "peak_mb": median([m for _, m in listing]), "runs": listing},
        }
        row["full"]["workflows_per_second"] = size / row["full"]["median"]
        row["unchanged_vs_list_only"] = row["unchanged"]["median"] / row["list_only"]["median"]
        section[str(size)] = row
        if size >= 5000:
            rate = row["full"]["workflows_per_second"]
            targets.add(f"full sync of {size} workflows in process: workflows/s", rate, 2000, "/s (at least)", rate >= 2000)
        targets.add(f"unchanged resync of {size} / list-only", row["unchanged_vs_list_only"], 1.2, "x", row["unchanged_vs_list_only"] <= 1.2)
        # The data directories stay until the end of the benchmark (see `check_disk_space`).
    peaks = {size: max(section[str(size)]["full"]["peak_mb"], section[str(size)]["unchanged"]["peak_mb"]) for size in SIZES}
    largest, smallest = max(SIZES), min(SIZES)
    targets.add(f"peak memory at {largest} workflows", peaks[largest], 150, "MB", peaks[largest] < 150)
    if largest != smallest:
        ratio = peaks[largest] / peaks[smallest]
        targets.add(f"peak memory {largest} / {smallest} workflows", ratio, 1.3, "x", ratio <= 1.3)


def bench_tenants(work, results, targets):
    fixtures = generate(work, f"fixtures-{TENANT_SIZE}", TENANT_SIZE)
    tenants_dir = os.path.join(work, "tenants")
    os.makedirs(tenants_dir, exist_ok=True)
    slugs = [f"t{n:02d}" for n in range(1, TENANTS + 1)]
    for slug in slugs:
        link = os.path.join(tenants_dir, slug)
        if not os.path.exists(link):
            os.symlink(os.path.join(fixtures, "bulk"), link)
    customers = os.path.join(work, "customers-tenants.yaml")
    write_customers(customers, [(slug, f"fixture://{slug}") for slug in slugs])
    data = os.path.join(work, "data-tenants")
    base = [BIN, "run", "--all", "--customers", customers, "--fixtures", tenants_dir, "--data-dir", data, "--quiet"]
    first = measure(base)
    after_first = du(data)
    runs, sizes = [], []
    for _ in range(KEEP_RUNS):
        runs.append(measure(base))
        sizes.append(du(data))
    growth = (sizes[-1][0] - sizes[len(sizes) // 2][0]) / max(1, len(sizes) - 1 - len(sizes) // 2)
    # The default retention keeps the last 48 runs and every run of the last 7 days: hourly, 168.
    kept = 168
    projected = after_first[0] + kept * growth
    results["tenants"] = {
        "tenants": TENANTS, "workflows_each": TENANT_SIZE, "full": {"seconds": first[0], "peak_mb": first[1]},
        "unchanged": {"median": median([t for t, _ in runs]), "peak_mb": median([m for _, m in runs]), "runs": runs},
        "data_dir": {"after_first_sync_mb": after_first[0] / 1e6, "files_after_first_sync": after_first[1],
                     f"after_{KEEP_RUNS}_unchanged_mb": sizes[-1][0] / 1e6, f"files_after_{KEEP_RUNS}_unchanged": sizes[-1][1],
                     "growth_per_unchanged_run_mb": growth / 1e6, "projected_hourly_default_retention_mb": projected / 1e6},
    }
    t = results["tenants"]["unchanged"]["median"]
    targets.add(f"{TENANTS} tenants x {TENANT_SIZE} unchanged", t, 1.0, "s", t <= 1.0)
    ratio = projected / after_first[0]
    targets.add(f"data dir under default retention (hourly, 168 runs kept) / after the first sync", ratio, 2.0, "x", ratio <= 2.0)


def bench_postgres(work, results, targets):
    """Full and unchanged syncs of PG_SIZE workflows, SQLite vs PostgreSQL, same run."""
    server = os.environ.get("ZUORA_SYNC_TEST_POSTGRES")
    if not server:
        print("postgres section skipped: no ZUORA_SYNC_TEST_POSTGRES (make bench starts a server)", file=sys.stderr)
        return
    fixtures = generate(work, f"fixtures-{PG_SIZE}", PG_SIZE)
    customers = os.path.join(work, "customers-pg.yaml")
    write_customers(customers, [("bulk", "fixture://bulk")])
    base = server.rsplit("/", 1)[0]
    section = results.setdefault("postgres", {"workflows": PG_SIZE})
    # The two backends' runs alternate (A, B, then B, A, ...): run one after the other, a slower
    # minute during either block moved this ratio by 0.3x from one bench to the next.
    backends = ("sqlite", "postgresql")
    full = {backend: [] for backend in backends}
    unchanged = {backend: [] for backend in backends}
    first_args = {}
    for i in range(RUNS):
        for backend in (backends if i % 2 == 0 else backends[::-1]):
            store = []
            if backend == "postgresql":
                name = f"bench_{os.getpid()}_{i}"
                subprocess.run(["psql", server, "-q", "-c", f"CREATE DATABASE {name}"], check=True, stdout=subprocess.DEVNULL)
                store = ["--store", f"{base}/{name}"]
            args = [BIN, "run", "--all", "--customers", customers, "--fixtures", fixtures, "--quiet",
                    "--data-dir", os.path.join(work, f"data-{backend}-{i}")] + store
            full[backend].append(measure(args)[0])
            first_args.setdefault(backend, args)
    # Unchanged resyncs take about 0.1 s: more of them, so that one slow run does not decide.
    for i in range(max(RUNS, 7)):
        for backend in (backends if i % 2 == 0 else backends[::-1]):
            unchanged[backend].append(measure(first_args[backend])[0])
    for backend in backends:
        section[backend] = {"full": median(full[backend]), "unchanged": median(unchanged[backend]),
                            "full_runs": full[backend], "unchanged_runs": unchanged[backend]}
    ratio_full = section["postgresql"]["full"] / section["sqlite"]["full"]
    ratio_unchanged = section["postgresql"]["unchanged"] / section["sqlite"]["unchanged"]
    section["full_ratio"], section["unchanged_ratio"] = ratio_full, ratio_unchanged
    targets.add(f"PostgreSQL / SQLite full sync of {PG_SIZE}", ratio_full, 2.0, "x", ratio_full <= 2.0)
    targets.add(f"PostgreSQL / SQLite unchanged resync of {PG_SIZE}", ratio_unchanged, 1.2, "x", ratio_unchanged <= 1.2)


def check_disk_space(directory):
    """The in-process data directories are kept until the benchmark ends, not removed between
    sizes: on ext4 without a journal (this machine's disk), creating a file skips, one by one, the
    inodes freed in the last 60 to 300 seconds, so a sync started right after removing the last
    size's 100,000 files spent a fifth of its CPU in the kernel's `find_inode_bit` (perf). A sync
    in use does not follow such a removal; keeping them measures the sync, not the clean-up."""
    if "inprocess" not in SECTIONS:
        return
    # About 85 KB per workflow for each full sync's data directory, 22 KB for the fixtures; a lower
    # bound (the list-only, HTTP, tenants and PostgreSQL directories are small next to them).
    needed = sum(size * (100_000 * RUNS + 25_000) for size in SIZES)
    free = shutil.disk_usage(directory).free
    if free < needed * 1.2:
        fail(f"{directory}: {free / 1e9:.1f} GB free, the in-process section keeps about {needed / 1e9:.1f} GB of data directories "
             "until it ends. Free some space, or set SIZES (for example SIZES=\"1000 5000\") or RUNS lower.")


def main():
    if not os.access(BIN, os.X_OK):
        fail("build first: make release")
    if not os.access("/usr/bin/time", os.X_OK):
        fail("GNU time is needed: apt-get install -y time")
    check_disk_space(tempfile.gettempdir())
    work = tempfile.mkdtemp(prefix="zuora-sync-bench-")
    results = {"machine": {"cores": os.cpu_count(), "platform": platform.platform()},
               "knobs": {"sizes": SIZES, "runs": RUNS, "http_runs": HTTP_RUNS, "latencies": LATENCIES, "concurrencies": CONCURRENCIES,
                         "tenants": TENANTS, "tenant_size": TENANT_SIZE, "keep_runs": KEEP_RUNS},
               "commit": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
               "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    targets = Targets()
    try:
        if "http" in SECTIONS:
            bench_http(work, results, targets)
        if "inprocess" in SECTIONS:
            bench_inprocess(work, results, targets)
        if "tenants" in SECTIONS:
            bench_tenants(work, results, targets)
        if "postgres" in SECTIONS:
            bench_postgres(work, results, targets)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["targets"] = targets.rows
    print_table(results)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as file:
        json.dump(results, file, indent=2, sort_keys=True)
        file.write("\n")
    print(f"\nwritten: {os.path.relpath(OUT, ROOT)}")


def print_table(results):
    print(f"zuora-sync benchmarks: release build, {results['machine']['cores']} cores, medians of {RUNS} (HTTP: {HTTP_RUNS})")
    http = results.get("http")
    if http:
        print(f"\n{http['workflows']} workflows over the mock server ({http['pages']} pages); floor = latency x (token + pages + export rounds)")
        print(f"  {'latency':>7}  {'conc':>4}  {'time s':>7}  {'floor s':>7}  {'/floor':>6}  {'vs seq':>6}")
        for latency, row in http["latencies"].items():
            print(f"  {latency + ' ms':>7}  {'seq':>4}  {row['sequential_reference']:7.2f}  {'':>7}  {'':>6}  {'1.0x':>6}")
            for c, cell in row["zuora_sync"].items():
                print(f"  {latency + ' ms':>7}  {c:>4}  {cell['median']:7.2f}  {row['floor'][c]:7.2f}  {cell['vs_floor']:5.2f}x"
                      f"  {cell['speedup_vs_sequential']:5.1f}x")
    inproc = results.get("in_process")
    if inproc:
        print("\nin process (fixture transport)")
        print(f"  {'workflows':>9}  {'MB':>5}  {'full s':>7}  {'wf/s':>6}  {'peak MB':>7}  {'unch s':>7}  {'peak MB':>7}  {'list s':>7}  {'unch/list':>9}")
        for size, row in inproc.items():
            print(f"  {size:>9}  {row['exports_mb']:5.0f}  {row['full']['median']:7.2f}  {row['full']['workflows_per_second']:6.0f}"
                  f"  {row['full']['peak_mb']:7.0f}  {row['unchanged']['median']:7.2f}  {row['unchanged']['peak_mb']:7.0f}"
                  f"  {row['list_only']['median']:7.2f}  {row['unchanged_vs_list_only']:8.2f}x")
    tenants = results.get("tenants")
    if tenants:
        d = tenants["data_dir"]
        print(f"\n{tenants['tenants']} tenants x {tenants['workflows_each']}: first sync {tenants['full']['seconds']:.2f} s,"
              f" unchanged {tenants['unchanged']['median']:.2f} s (peak {tenants['unchanged']['peak_mb']:.0f} MB)")
        print(f"  data dir: {d['after_first_sync_mb']:.0f} MB after the first sync, {d[f'after_{KEEP_RUNS}_unchanged_mb']:.0f} MB"
              f" ({d[f'files_after_{KEEP_RUNS}_unchanged']} files) after {KEEP_RUNS} unchanged runs;"
              f" +{d['growth_per_unchanged_run_mb']:.2f} MB per unchanged run")
    pg = results.get("postgres")
    if pg and "sqlite" in pg:
        print(f"\nstore backends, {pg['workflows']} workflows in process")
        print(f"  {'store':>10}  {'full s':>7}  {'unch s':>7}")
        for backend in ("sqlite", "postgresql"):
            print(f"  {backend:>10}  {pg[backend]['full']:7.3f}  {pg[backend]['unchanged']:7.3f}")
        print(f"  {'pg/sqlite':>10}  {pg['full_ratio']:6.2f}x  {pg['unchanged_ratio']:6.2f}x")
    print("\ntargets")
    for row in results["targets"]:
        mark = "met   " if row["met"] else "MISSED"
        print(f"  {mark}  {row['target']}: {row['value']:.2f} (limit {row['limit']} {row['unit']})")


if __name__ == "__main__":
    main()
