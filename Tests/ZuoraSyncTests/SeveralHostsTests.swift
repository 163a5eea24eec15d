import Foundation
import Synchronization
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncHTTP
@testable import ZuoraSyncJobs
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// Several workers (separate processes, separate data directories, as on separate hosts) sharing
/// one PostgreSQL store and queue, against the mock server.
@Suite(.enabled(if: TestPostgres.isAvailable, TestPostgres.skipReason))
struct SeveralHostsTests {
    let workspace: TestWorkspace
    init() throws { workspace = try TestWorkspace() }

    static let tenants = ["globex", "initech", "hooli"]

    /// Workflow counts and export hashes of each demo tenant, from an SQLite sync of the same fixtures.
    func expected() async throws -> [String: (counts: (Int, Int, Int), hashes: [Int64: String])] {
        let reference = try TestWorkspace()
        try await reference.sync()
        let store = try reference.store
        var result: [String: (counts: (Int, Int, Int), hashes: [Int64: String])] = [:]
        for tenant in Self.tenants {
            result[tenant] = (try store.counts(customerSlug: tenant), try store.exportHashes(customerSlug: tenant))
        }
        return result
    }

    func customersFile(_ entries: [(id: String, tenant: String)], server: MockServerProcess, store: String) throws -> String {
        var text = "store: \"\(store)\"\ncustomers:\n"
        for (id, tenant) in entries {
            text += "  - {id: \(id), base_url: \"\(server.baseURL(tenant))\", client_id: \(tenant)-client, client_secret: \(tenant)-demo-secret}\n"
        }
        let path = workspace.root.appendingPathComponent("customers-\(UUID().uuidString.prefix(6)).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func dataDirectory(_ name: String) -> String { workspace.root.appendingPathComponent(name).path }

    @Test func threeWorkersOnOneQueueRunEveryJobExactlyOnce() async throws {
        let location = try TestPostgres.freshDatabase()
        let server = try MockServerProcess(fixtures: workspace.fixtures, latency: 2)
        let entries = (1...30).map { (id: String(format: "c%02d", $0), tenant: Self.tenants[$0 % 3]) }
        let customers = try customersFile(entries, server: server, store: location.url)
        let queued = try await CommandLineRunner.run(["sync", "--all", "--customers", customers, "--data-dir", dataDirectory("host-0")],
                                                     in: TestWorkspace.repositoryRoot)
        #expect(queued.exitCode == 0, "\(queued.stderr)")
        #expect(queued.stdout.components(separatedBy: "queued ").count == 31)

        let workers = try (1...3).map { host in
            try RunningCommand(["work", "--stop-when-empty", "--customers", customers, "--data-dir", dataDirectory("host-\(host)")],
                               in: TestWorkspace.repositoryRoot)
        }
        for worker in workers {
            let result = await worker.result()
            #expect(result.exitCode == 0, "\(result.stderr)")
        }

        let store = try Store(postgres: location, environment: [:])
        let queue = PostgresJobQueue(store: store)
        let done = queue.jobs(in: .done)
        #expect(done.count == 30)
        #expect(done.allSatisfy { $0.attempts == 1 }, "no job ran twice")
        #expect(queue.jobs(in: .waiting).isEmpty && queue.jobs(in: .running).isEmpty && queue.jobs(in: .failed).isEmpty)
        let runsPerCustomer = try store.database.read { db in
            try db.query("SELECT customer_slug, COUNT(*) AS n FROM runs GROUP BY customer_slug").map { ($0["customer_slug"] as String, $0["n"] as Int) }
        }
        #expect(runsPerCustomer.count == 30 && runsPerCustomer.allSatisfy { $0.1 == 1 }, "each customer synced by exactly one run")
        let runDirectories = (1...3).map { host in
            ((try? FileManager.default.contentsOfDirectory(atPath: dataDirectory("host-\(host)") + "/runs")) ?? []).filter { !$0.hasPrefix(".") }.count
        }
        #expect(runDirectories.reduce(0, +) == 30, "every run's files are on the host that ran it: \(runDirectories)")
        let expected = try await expected()
        for (id, tenant) in entries {
            #expect(try store.counts(customerSlug: id) == expected[tenant]!.counts, "\(id) (\(tenant))")
            #expect(try store.exportHashes(customerSlug: id) == expected[tenant]!.hashes, "\(id) (\(tenant))")
        }
    }

    @Test func aKilledWorkersJobIsTakenOverAndItsAdvisoryLockIsReleased() async throws {
        let location = try TestPostgres.freshDatabase()
        // Host a's view of Zuora holds every export back, so the worker is still mid-run (holding the
        // customer's lock) whenever the test gets to kill it, however loaded the machine is.
        let stalling = try MockServerProcess(fixtures: workspace.fixtures, faults: "stall=600000:export@1x*")
        let server = try MockServerProcess(fixtures: workspace.fixtures)
        let customersOfHostA = try customersFile([("globex", "globex")], server: stalling, store: location.url)
        let customers = try customersFile([("globex", "globex")], server: server, store: location.url)
        #expect(try await CommandLineRunner.run(["sync", "--all", "--customers", customersOfHostA, "--data-dir", dataDirectory("host-a")],
                                                in: TestWorkspace.repositoryRoot).exitCode == 0)
        let doomed = try RunningCommand(["work", "--stop-when-empty", "--lease-seconds", "2", "--customers", customersOfHostA,
                                         "--data-dir", dataDirectory("host-a")], in: TestWorkspace.repositoryRoot)
        let store = try Store(postgres: location, environment: [:])
        // The customer's lock only (a starting process briefly holds the migration's lock too).
        func advisoryLocks() throws -> Int {
            try store.database.read {
                try $0.scalar(Int.self, """
                    SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('zuora-sync:customer:globex', 0)
                    """)
            } ?? 0
        }
        // Kill it once it holds the customer's lock.
        var held = 0
        for _ in 0..<12000 where held == 0 {
            try await Task.sleep(nanoseconds: 10_000_000)
            held = try advisoryLocks()
        }
        #expect(held == 1, "the worker holds the customer's advisory lock")
        doomed.send(SIGKILL)
        _ = await doomed.result()
        let queue = PostgresJobQueue(store: store)
        #expect(queue.jobs(in: .running).count == 1, "the killed worker left its job running")
        // The server drops a dead session's locks as soon as it sees the connection close.
        var locks = try advisoryLocks()
        for _ in 0..<500 where locks > 0 {
            try await Task.sleep(nanoseconds: 20_000_000)
            locks = try advisoryLocks()
        }
        #expect(locks == 0, "the advisory lock died with its holder")

        let rescue = try await CommandLineRunner.run(["work", "--stop-when-empty", "--lease-seconds", "2", "--log-level", "info",
                                                      "--customers", customers, "--data-dir", dataDirectory("host-b")], in: TestWorkspace.repositoryRoot)
        #expect(rescue.exitCode == 0, "\(rescue.stderr)")
        #expect(rescue.stderr.contains("job.recovered"))
        #expect(rescue.stderr.contains("job.new_run"), "host b cannot resume host a's run directory: it says so and starts a new run")
        let job = try #require(queue.jobs(in: .done).first)
        #expect(job.attempts == 2)
        let expected = try await expected()
        #expect(try store.counts(customerSlug: "globex") == expected["globex"]!.counts)
        #expect(try store.exportHashes(customerSlug: "globex") == expected["globex"]!.hashes)
    }

    /// `run` on a PostgreSQL store writes the shared queue (its jobs table, which jobs queued
    /// from another host fill) into the metrics file, through the connections the run used.
    @Test func aRunOnAPostgreSQLStoreCountsTheSharedQueueInItsMetricsFile() async throws {
        let location = try TestPostgres.freshDatabase()
        let server = try MockServerProcess(fixtures: workspace.fixtures)
        let customers = try customersFile([(id: "globex", tenant: "globex"), (id: "hooli", tenant: "hooli")], server: server, store: location.url)
        let queued = try await CommandLineRunner.run(["sync", "--all", "--customers", customers, "--data-dir", dataDirectory("host-a")],
                                                     in: TestWorkspace.repositoryRoot)
        #expect(queued.exitCode == 0, "\(queued.stderr)")
        let run = try await CommandLineRunner.run(["run", "--customer", "globex", "--customers", customers, "--quiet",
                                                   "--data-dir", dataDirectory("host-b")], in: TestWorkspace.repositoryRoot)
        #expect(run.exitCode == 0, "\(run.stderr)")
        let metrics = try String(contentsOfFile: dataDirectory("host-b") + "/metrics/zuora_sync.prom", encoding: .utf8)
        #expect(metrics.contains("zuora_sync_queue_jobs{state=\"waiting\"} 2"), "\(metrics)")
        #expect(metrics.contains("zuora_sync_last_run_success{customer=\"globex\"} 1"), "\(metrics)")
    }

    /// The store commands through the binary: an SQLite installation copied to PostgreSQL holds
    /// the same rows, and a host with an empty data directory rebuilds the snapshots from it.
    @Test func storeCopyCheckAndSnapshotsRebuildThroughTheCommandLine() async throws {
        try workspace.writeCustomers()
        let run = try await workspace.zuoraSync(["run", "--all", "--quiet", "--pipeline", TestWorkspace.pipelinePath])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let target = try TestPostgres.freshDatabase().url
        let copy = try await workspace.zuoraSync(["store", "copy", "--from", "sqlite", "--to", target])
        #expect(copy.exitCode == 0, "\(copy.stderr)")
        #expect(copy.stdout.contains("every row compared equal"))
        let sqliteDump = try await workspace.zuoraSync(["store", "check", "--dump"])
        let postgresDump = try await workspace.zuoraSync(["store", "check", "--dump", "--store", target])
        #expect(sqliteDump.exitCode == 0 && postgresDump.exitCode == 0)
        #expect(!sqliteDump.stdout.isEmpty && postgresDump.stdout == sqliteDump.stdout)
        let check = try await workspace.zuoraSync(["store", "check", "--store", target])
        #expect(check.stdout.contains("schema:  \(PostgresSchema.currentVersion)") && check.stdout.contains("workflows"), "\(check.stdout)")
        let again = try await workspace.zuoraSync(["store", "copy", "--from", "sqlite", "--to", target])
        #expect(again.exitCode != 0 && again.stderr.contains("not empty"), "a second copy into a full store is refused")

        let newHost = dataDirectory("new-host")
        let rebuild = try await CommandLineRunner.run(["snapshots", "rebuild", "--store", target, "--data-dir", newHost,
                                                       "--customers", workspace.root.appendingPathComponent("customers.yaml").path],
                                                      in: workspace.root)
        #expect(rebuild.exitCode == 0, "\(rebuild.stderr)")
        for customer in ["globex", "initech"] {
            let original = workspace.data.root.appendingPathComponent("snapshots/\(customer)")
            let rebuilt = URL(fileURLWithPath: newHost).appendingPathComponent("snapshots/\(customer)")
            let names = try FileManager.default.contentsOfDirectory(atPath: original.path).sorted()
            #expect(try FileManager.default.contentsOfDirectory(atPath: rebuilt.path).sorted() == names)
            for name in names where name.hasSuffix(".json") {
                #expect(try Data(contentsOf: rebuilt.appendingPathComponent(name)) == Data(contentsOf: original.appendingPathComponent(name)), "\(customer)/\(name)")
            }
        }
        let objects = try FileManager.default.subpathsOfDirectory(atPath: newHost + "/objects").filter { $0.hasSuffix(".json") }
        #expect(objects.count == (try workspace.store.allExportHashes()).count)
    }

    @Test func twoSchedulersOnTwoHostsEnqueueASlotOnce() async throws {
        let store = try TestPostgres.freshStore()
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 3600) + 30))
        let pipeline = try workspace.pipeline()
        let customers = workspace.customers()
        let schedulers = (1...2).map { host in
            Scheduler(dataDirectory: DataDirectory(path: dataDirectory("scheduler-\(host)")), clock: clock, queue: PostgresJobQueue(store: store))
        }
        let enqueued = try await withThrowingTaskGroup(of: Int.self) { group in
            for scheduler in schedulers {
                group.addTask { try scheduler.runDue(pipelines: [("pipelines/sync-workflows.yaml", pipeline)], customers: customers).count }
            }
            return try await group.reduce(0, +)
        }
        #expect(enqueued == customers.count)
        // Even once those jobs are done (nothing pending to deduplicate against), the slot stays taken.
        let queue = PostgresJobQueue(store: store)
        for var job in queue.jobs(in: .waiting) {
            job.state = .done
            try queue.move(job, from: .waiting)
        }
        let third = Scheduler(dataDirectory: DataDirectory(path: dataDirectory("scheduler-3")), clock: clock, queue: queue)
        #expect(try third.runDue(pipelines: [("pipelines/sync-workflows.yaml", pipeline)], customers: customers).isEmpty)
        #expect(queue.jobs().count == customers.count)
        clock.advance(seconds: 3600)
        #expect(try third.runDue(pipelines: [("pipelines/sync-workflows.yaml", pipeline)], customers: customers).count == customers.count)
    }

    @Test func aDatabaseRestartMidRunFailsRetryablyOrReconnectsAndTheRetryEndsCorrect() async throws {
        // A server of its own: restarting the shared one would disturb the other tests.
        let answer = workspace.root.appendingPathComponent("pg.txt")
        let script = TestWorkspace.repositoryRoot.appendingPathComponent("scripts/postgres-test-server.sh").path
        try TestPostgres.shell(["bash", script, "start", answer.path])
        let output = try String(contentsOf: answer, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let url = String(output.prefix { $0 != " " })
        let directory = String(output.drop { $0 != " " }.dropFirst())
        defer { try? TestPostgres.shell(["bash", script, "stop", directory]) }
        let location = try PostgresLocation(url: url, passwordEnv: nil, origin: "test")

        let restarted = Mutex(false)
        let mock = try workspace.mock()
        let transport = RestartingTransport(inner: FixtureTransport(mock: mock)) { request in
            guard request.url.path.contains("export"), restarted.withLock({ done in defer { done = true }; return !done }) else { return }
            try? TestPostgres.shell(["bash", script, "restart", directory])
        }
        var runner = workspace.runner(transport: transport)
        runner.storeLocation = .postgresql(location)
        let first = try await runner.start(pipeline: try workspace.pipeline(), pipelinePath: "pipelines/sync-workflows.yaml", customers: workspace.customers())
        #expect(restarted.withLock { $0 })
        for result in first.results where result.status != .succeeded {
            #expect(result.isRetryable == true, "\(result.customer): \(result.error ?? "")")
        }
        var final = first
        if first.status != .succeeded {
            final = try await runner.resume(runID: first.id, customers: workspace.customers())
        }
        #expect(final.status == .succeeded)
        let store = try Store(postgres: location, environment: [:])
        let expected = try await expected()
        for tenant in Self.tenants {
            #expect(try store.counts(customerSlug: tenant) == expected[tenant]!.counts, "\(tenant)")
            #expect(try store.exportHashes(customerSlug: tenant) == expected[tenant]!.hashes)
            #expect(try store.workflowsWithStaleTasks(customerSlug: tenant).isEmpty, "no half-written tasks")
        }
    }
}

/// Calls `before` ahead of each request (to restart the database at a chosen moment).
struct RestartingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let before: @Sendable (HTTPRequest) -> Void
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        before(request)
        return try await inner.send(request)
    }
}
