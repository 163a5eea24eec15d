import Foundation
import GRDB
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore

/// The store's whole interface, run on both backends (SQLite and PostgreSQL) with the same
/// expectations, so their behaviour cannot drift; and the two compared row for row.
@Suite struct StoreBackendTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-store-\(UUID().uuidString)")

    func customer(_ id: String) -> CustomerConfig {
        CustomerConfig(id: id, name: id.capitalized, baseURL: URL(string: "fixture://\(id)")!, clientID: "c", secret: .inline("s"))
    }

    func listed(_ id: Int64, name: String = "Workflow", updatedAt: String = "2026-01-02T03:04:05.000Z") -> ListedWorkflow {
        ListedWorkflow(item: .object([
            "id": .int(id), "name": .string(name), "status": .string("Active"), "updatedAt": .string(updatedAt),
            "calloutTrigger": .bool(true), "ondemandTrigger": .bool(false), "interval": .string("* * * * *"),
            "active_version": .object(["id": .int(id * 10), "version": .string("1.0"), "type": .string("Workflow::Setup")]),
        ]))!
    }

    func export(_ id: Int64, tasks: Int = 2) -> String {
        let items = (1...Int64(tasks)).map { task -> JSONValue in
            .object(["id": .int(task), "name": .string("Task \(task) of \(id) \u{0}"), "action_type": .string(task == 1 ? "Callout" : "Email"),
                     "task_id": task == 1 ? .null : .int(task - 1), "parameters": .object(["b": .int(2), "a": .string("x\u{0}")]),
                     "tags": .array([.string("t")])])
        }
        return JSONValue.object(["workflow": .object(["id": .int(id)]), "tasks": .array(items),
                                 "linkages": .array([.object(["linkage_type": .string("Start"), "source_workflow_id": .int(id),
                                                              "source_task_id": .null, "target_task_id": .int(1)])])])
            .compactCanonicalString()
    }

    /// Saves workflows with exports and their tasks, as a sync does.
    func sync(_ store: Store, _ slug: String, ids: [Int64], at date: Date = Date(timeIntervalSince1970: 1_800_000_000)) throws {
        let exports = Dictionary(uniqueKeysWithValues: ids.map { ($0, export($0)) })
        try store.apply(ids.map { WorkflowUpsert(listed: listed($0), exportSHA256: Digest.sha256Hex(exports[$0]!)) },
                        customer: customer(slug), syncedAt: date, exportText: { exports[$0]! })
        try store.replaceTasks(customerSlug: slug, batch: try ids.map { id in
            (id, TaskExtractor.extract(from: try JSONValue.parse(Data(exports[id]!.utf8))))
        })
    }

    @Test(arguments: StoreBackend.available)
    func workflowsExportsAndTasksRoundTrip(_ backend: StoreBackend) throws {
        let store = try backend.makeStore(in: directory)
        try sync(store, "a", ids: [48, 7])
        let stored = try store.storedWorkflows(customerSlug: "a")
        #expect(stored.keys.sorted() == [7, 48])
        #expect(stored[48]?.version == "1.0")
        #expect(try store.exports(customerSlug: "a").map(\.text) == [export(7), export(48)])
        #expect(try store.exports(customerSlug: "a", zuoraIDs: [48]).first?.sha256 == Digest.sha256Hex(export(48)))
        #expect(try store.exportHashes(customerSlug: "a")[7] == Digest.sha256Hex(export(7)))
        #expect(try store.taskCounts(customerSlug: "a", zuoraID: 48) == (2, 1))
        #expect(try store.counts(customerSlug: "a") == (2, 4, 2))
        #expect(try store.workflowsWithStaleTasks(customerSlug: "a").isEmpty)
        // A listing without a new export keeps the stored one; a new export makes tasks stale.
        try store.apply([WorkflowUpsert(listed: listed(48, name: "Renamed"), exportSHA256: nil)], customer: customer("a"),
                        syncedAt: Date(timeIntervalSince1970: 1_800_000_100), exportText: { _ in "" })
        #expect(try store.exports(customerSlug: "a", zuoraIDs: [48]).first?.text == export(48))
        #expect(try store.storedWorkflows(customerSlug: "a")[48]?.name == "Renamed")
        let newer = export(48, tasks: 3)
        try store.apply([WorkflowUpsert(listed: listed(48), exportSHA256: Digest.sha256Hex(newer))], customer: customer("a"),
                        syncedAt: Date(timeIntervalSince1970: 1_800_000_200), exportText: { _ in newer })
        #expect(try store.workflowsWithStaleTasks(customerSlug: "a") == [48])
        // An export that changed on disk since it was hashed is refused, nothing written.
        #expect(throws: StoreError.self) {
            try store.apply([WorkflowUpsert(listed: listed(99), exportSHA256: "0000")], customer: self.customer("a"),
                            syncedAt: Date(), exportText: { _ in "{}" })
        }
        #expect(try store.storedWorkflows(customerSlug: "a")[99] == nil)
    }

    @Test func multiRowStatementsComeInAFewRowCountsOnSQLiteAndAsFewStatementsOnPostgreSQL() {
        func sizes(_ count: Int, _ dialect: SQLDialect) -> [Int] {
            let ranges = Store.statementRows(count, maxRows: 100, dialect: dialect)
            // Every row once, in order.
            #expect(ranges.flatMap { Array($0) } == Array(0..<count))
            return ranges.map(\.count)
        }
        #expect(sizes(0, .sqlite).isEmpty)
        #expect(sizes(1, .sqlite) == [1])
        #expect(sizes(100, .sqlite) == [100])
        #expect(sizes(273, .sqlite) == [100, 100, 64, 8, 1])
        #expect(sizes(99, .sqlite) == [64, 32, 2, 1])
        #expect(sizes(273, .postgresql) == [100, 100, 73])
        // However many rows: the full size and powers of two below it, eight texts at most.
        let shapes = Set((0...1000).flatMap { sizes($0, .sqlite) })
        #expect(shapes == [100, 64, 32, 16, 8, 4, 2, 1])
    }

    @Test func newSQLiteStoresHaveLargePagesAndEarlierOnesKeepTheirs() throws {
        let created = directory.appendingPathComponent("new/store.sqlite")
        let store = try Store(url: created)
        try sync(store, "a", ids: [1, 2])
        #expect(try store.sqliteWriter!.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == Store.newDatabasePageSize)
        // A database made with SQLite's default page size (as every store before 16 KB pages).
        let earlier = directory.appendingPathComponent("earlier/store.sqlite")
        try FileManager.default.createDirectory(at: earlier.deletingLastPathComponent(), withIntermediateDirectories: true)
        try DatabaseQueue(path: earlier.path).write { try $0.execute(sql: "PRAGMA page_size = 4096; CREATE TABLE earlier (id INTEGER)") }
        let reopened = try Store(url: earlier)
        try sync(reopened, "a", ids: [1, 2])
        #expect(try reopened.sqliteWriter!.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == 4096)
        #expect(try reopened.counts(customerSlug: "a") == (2, 4, 2))
    }

    /// Counts of workflows, tasks and linkages that need every statement shape: all stored, once.
    @Test(arguments: StoreBackend.available)
    func batchesOfEveryRowCountAreStoredWhole(_ backend: StoreBackend) throws {
        let store = try backend.makeStore(in: directory)
        // 2 tasks and 1 linkage a workflow: 173 workflows are 346 task rows (6 × 50 + 32 + 8 + 4 + 2)
        // and 173 linkage rows (100 + 64 + 8 + 1).
        let ids = (1...173).map { Int64($0) }
        try sync(store, "a", ids: ids)
        // The same shapes again, with other rows: the statements kept prepared take new arguments.
        let more = (174...346).map { Int64($0) }
        try sync(store, "a", ids: more)
        #expect(try store.counts(customerSlug: "a") == (346, 692, 346))
        #expect(try store.exports(customerSlug: "a").map(\.text) == (ids + more).map { export($0) })
        #expect(try store.taskCounts(customerSlug: "a", zuoraID: 173) == (2, 1))
        #expect(try store.taskCounts(customerSlug: "a", zuoraID: 346) == (2, 1))
        #expect(try store.workflowsWithStaleTasks(customerSlug: "a").isEmpty)
    }

    @Test(arguments: StoreBackend.available)
    func aListingMatchIsRecordedOnlyWhenTrueAndForgottenByAnyWriteToTheCustomersRows(_ backend: StoreBackend) throws {
        let store = try backend.makeStore(in: directory)
        try sync(store, "a", ids: [7, 48])
        try sync(store, "b", ids: [5])
        let listing = ListedWorkflow.fingerprint(of: [listed(7), listed(48)])
        #expect(try store.listingMatch(customerSlug: "a") == nil)
        // Refused when the rows are not those of the listing: one row too many, or stale tasks.
        #expect(try store.recordListingMatch(customerSlug: "a", listingSHA256: listing, listedCount: 1) == false)
        #expect(try store.listingMatch(customerSlug: "a") == nil)
        #expect(try store.recordListingMatch(customerSlug: "a", listingSHA256: listing, listedCount: 2))
        #expect(try store.recordListingMatch(customerSlug: "b", listingSHA256: "other", listedCount: 1))
        #expect(try store.listingMatch(customerSlug: "a")?.listingSHA256 == listing)

        // A new export (tasks now stale) forgets it, and it cannot be recorded until the tasks follow.
        let newer = export(48, tasks: 3)
        try store.apply([WorkflowUpsert(listed: listed(48), exportSHA256: Digest.sha256Hex(newer))], customer: customer("a"),
                        syncedAt: Date(timeIntervalSince1970: 1_800_000_200), exportText: { _ in newer })
        #expect(try store.listingMatch(customerSlug: "a") == nil)
        #expect(try store.listingMatch(customerSlug: "b")?.listingSHA256 == "other", "another customer's match stays")
        #expect(try store.recordListingMatch(customerSlug: "a", listingSHA256: listing, listedCount: 2) == false)
        try store.replaceTasks(customerSlug: "a", batch: [(48, TaskExtractor.extract(from: try JSONValue.parse(Data(newer.utf8))))])
        let before = try #require(try store.listingMatch(customerSlug: "b"))
        #expect(try store.recordListingMatch(customerSlug: "a", listingSHA256: listing, listedCount: 2))
        // Recorded again for the same listing after a change: another id (what trusting files compare).
        #expect(try store.recordListingMatch(customerSlug: "b", listingSHA256: "other", listedCount: 1))
        #expect(try store.listingMatch(customerSlug: "b")?.listingSHA256 == before.listingSHA256)
        #expect(try store.listingMatch(customerSlug: "b")?.id != before.id)

        // Re-applying the same rows writes nothing, so the match stays; a changed row forgets it.
        try store.apply([WorkflowUpsert(listed: listed(7), exportSHA256: nil)], customer: customer("a"),
                        syncedAt: Date(timeIntervalSince1970: 1_800_000_300), exportText: { _ in "" })
        #expect(try store.listingMatch(customerSlug: "a")?.listingSHA256 == listing)
        try store.apply([WorkflowUpsert(listed: listed(7, name: "Renamed"), exportSHA256: nil)], customer: customer("a"),
                        syncedAt: Date(timeIntervalSince1970: 1_800_000_300), exportText: { _ in "" })
        #expect(try store.listingMatch(customerSlug: "a") == nil)

        // A deletion forgets it too; the copy and the dump leave it out (it only remembers work done).
        #expect(try store.recordListingMatch(customerSlug: "a", listingSHA256: "renamed", listedCount: 2))
        try store.deleteWorkflows(customerSlug: "a", zuoraIDs: [7])
        #expect(try store.listingMatch(customerSlug: "a") == nil)
        #expect(try store.dump().allSatisfy { !$0.contains("listing_sha256") })
        let copy = try StoreBackend.sqlite.makeStore(in: directory.appendingPathComponent("copy"))
        try copy.copyRows(from: store)
        #expect(try copy.listingMatch(customerSlug: "b") == nil)
        #expect(try copy.dump() == store.dump())
    }

    @Test(arguments: StoreBackend.available)
    func zuoraIDsAreUniquePerTenantAndDeletesCascade(_ backend: StoreBackend) throws {
        let store = try backend.makeStore(in: directory)
        try sync(store, "a", ids: [48])
        try sync(store, "b", ids: [48])
        #expect(try store.counts(customerSlug: "a") == (1, 2, 1))
        #expect(try store.counts(customerSlug: "b") == (1, 2, 1))
        try store.deleteWorkflows(customerSlug: "a", zuoraIDs: [48])
        #expect(try store.counts(customerSlug: "a") == (0, 0, 0))
        #expect(try store.counts(customerSlug: "b") == (1, 2, 1))
        #expect(try store.tableCounts().first { $0.table == "tasks" }?.rows == 2)
        // Deleting a customer takes its workflows, tasks and linkages with it.
        try store.database.write { try $0.execute("DELETE FROM customers WHERE slug = ?", "b") }
        #expect(try store.tableCounts().filter { $0.table != "runs" && $0.table != "workflow_changes" }.map(\.rows) == [1, 0, 0, 0, 0])
    }

    @Test(arguments: StoreBackend.available)
    func archivedWorkflowsRestoreAsTheyWere(_ backend: StoreBackend) throws {
        let store = try backend.makeStore(in: directory)
        try sync(store, "a", ids: [1, 2])
        let before = try store.dump()
        let archives = try store.archiveWorkflows(customerSlug: "a", zuoraIDs: [2, 1])
        #expect(archives.map { $0.tasks.count } == [2, 2])
        try store.deleteWorkflows(customerSlug: "a", zuoraIDs: [1, 2])
        try store.restore(archives, customerSlug: "a")
        #expect(try store.dump() == before)
        // A trash file naming a column the table does not have is refused.
        var bad = archives[0]
        bad.workflow["evil; DROP TABLE workflows"] = .int(1)
        #expect(throws: FileError.self) { try store.restore([bad], customerSlug: "a") }
        #expect(try store.dump() == before)
    }

    @Test(arguments: StoreBackend.available)
    func customersHistoryAndReportRows(_ backend: StoreBackend) throws {
        let store = try backend.makeStore(in: directory)
        try sync(store, "a", ids: [5])
        let synced = Date(timeIntervalSince1970: 1_800_000_000.123)
        try store.recordCustomerResult(slug: "a", syncedAt: synced, result: .succeeded, fullExport: true)
        #expect(try store.lastFullExport(slug: "a") == Timestamp.parse(Timestamp.format(synced)))
        #expect(try store.customerStatuses()["a"]?.lastSyncedAt == Timestamp.format(synced))
        try store.recordCustomerResult(slug: "a", syncedAt: synced.addingTimeInterval(60), result: .failed, fullExport: false)
        #expect(try store.lastFullExport(slug: "a") == Timestamp.parse(Timestamp.format(synced)))
        #expect(try store.customerSlugs() == ["a"])

        let row = RunHistoryRow(runID: "r1", customerSlug: "a", pipeline: "p", status: "failed", isDryRun: false, startedAt: synced,
                                finishedAt: synced.addingTimeInterval(2.5), workflows: 1, tasks: 2, created: 1, updated: 0, deleted: 0,
                                warnings: 0, requests: 3, retries: 1, failedStage: "s", error: "boom")
        try store.recordRun(row)
        var resumed = row
        resumed.status = "succeeded"
        resumed.error = nil
        try store.recordRun(resumed)
        #expect(try store.runHistory(customerSlug: "a") == [resumed])
        let change = WorkflowChangeRow(runID: "r1", customerSlug: "a", zuoraID: 5, name: "W", action: "created", fields: ["name", "export"],
                                       exportSHA256Before: nil, exportSHA256After: "ab", changedAt: synced)
        try store.recordChanges([change, change])
        #expect(try store.changes(customerSlug: "a", zuoraID: 5) == [change])
        #expect(try store.changes(runID: "other").isEmpty)

        #expect(try store.customerOverviews().map(\.tasks) == [2])
        #expect(try store.workflowOverviews(customerSlug: "a").first?.actionTypes == ["Callout", "Email"])
        let graph = try store.taskGraph(customerSlug: "a", zuoraID: 5)
        #expect(graph.tasks.map(\.parentTaskID) == [nil, 1])
        #expect(graph.linkages.count == 1)
        #expect(try store.indexEntries(customerSlug: "a").map(\.id) == [5])
    }

    /// The same operations on both backends leave the same rows, and `copyRows` moves an SQLite
    /// installation to PostgreSQL (and back) without a difference.
    @Test(.enabled(if: TestPostgres.isAvailable, TestPostgres.skipReason))
    func bothBackendsHoldTheSameRowsAndCopyBetweenThem() throws {
        let sqlite = try StoreBackend.sqlite.makeStore(in: directory)
        let postgres = try StoreBackend.postgresql.makeStore(in: directory)
        for store in [sqlite, postgres] {
            try sync(store, "a", ids: [1, 2, 3])
            try sync(store, "b", ids: [2])
            try store.deleteWorkflows(customerSlug: "a", zuoraIDs: [2])
            try store.recordRun(RunHistoryRow(runID: "r", customerSlug: "a", pipeline: "p", status: "succeeded", isDryRun: true,
                                              startedAt: Date(timeIntervalSince1970: 5), finishedAt: Date(timeIntervalSince1970: 6),
                                              workflows: nil, tasks: nil, created: 0, updated: 0, deleted: 1, warnings: 0, requests: 0,
                                              retries: 0, failedStage: nil, error: nil))
        }
        let expected = try sqlite.dump()
        #expect(expected.count > 10)
        #expect(try postgres.dump() == expected)

        let copy = try TestPostgres.freshStore()
        let counts = try copy.copyRows(from: sqlite, batchSize: 2)
        #expect(counts.first { $0.table == "tasks" }?.rows == 6)
        #expect(try copy.dump() == expected)
        let back = try Store(url: directory.appendingPathComponent("back.sqlite"))
        try back.copyRows(from: copy)
        #expect(try back.dump() == expected)
        #expect(throws: StoreError.self) { try copy.copyRows(from: sqlite) }
    }

    @Test(.enabled(if: TestPostgres.isAvailable, TestPostgres.skipReason))
    func twoProcessesMigratingAtOnceMigrateOnce() async throws {
        let location = try TestPostgres.freshDatabase()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { _ = try Store(postgres: location, environment: [:]) } }
            try await group.waitForAll()
        }
        let store = try Store(postgres: location, environment: [:])
        #expect(try store.schemaVersion() == PostgresSchema.currentVersion)
        #expect(try store.database.read { try $0.scalar(Int.self, "SELECT COUNT(*) FROM schema_migrations") } == PostgresSchema.migrations.count)
    }

    @Test func postgresURLsNeverCarryAPassword() throws {
        #expect(throws: ConfigurationError.self) { try StoreLocation.parse("postgresql://u:hunter2@db:5432/z", origin: "--store") }
        do {
            _ = try StoreLocation.parse("postgresql://u:hunter2@db:5432/z", origin: "--store")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
        }
        for url in ["postgresql://u@db/z?password=hunter2", "postgresql://u:hun@ter2@db/z", "postgresql://u@db/z?sslmode=require&password=hunter2"] {
            do {
                _ = try StoreLocation.parse(url, origin: "--store")
                Issue.record("accepted \(url)")
            } catch {
                #expect(error is ConfigurationError)
                #expect(!"\(error)".contains("hunter2") && !"\(error)".contains("ter2"), "\(error)")
            }
        }
        #expect(throws: ConfigurationError.self) { try StoreLocation.parse("postgresql://u@db:5432/", origin: "--store") }
        #expect(throws: ConfigurationError.self) { try StoreLocation.parse("mysql://u@db/z", origin: "--store") }
        let location = try StoreLocation.parse("postgresql://u@db.example:6543/zuora?sslmode=require", origin: "--store")
        #expect(location.description == "postgresql://u@db.example:6543/zuora")
        #expect(try StoreLocation.parse("sqlite", origin: "x") == .sqlite(path: nil))
    }

    @Test func aWrongPasswordOrHostIsAClearErrorWithoutThePassword() throws {
        let location = try PostgresLocation(url: "postgresql://u@127.0.0.1:1/zuora", passwordEnv: "ZS_TEST_PW", origin: "test")
        #expect(throws: StoreError.self) { try Store(postgres: location, environment: [:]) }
        do {
            _ = try Store(postgres: location, environment: ["ZS_TEST_PW": "s3cret-pw"])
            Issue.record("connected to port 1")
        } catch {
            let message = "\(error)"
            #expect(message.contains("postgresql://u@127.0.0.1:1/zuora"))
            #expect(!message.contains("s3cret-pw"))
            #expect((error as? StoreError)?.isRetryable == true)
        }
    }

    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(PostgresConnection.numberedPlaceholders("SELECT '?' , ? FROM \"a?\" WHERE x = ?") == "SELECT '?' , $1 FROM \"a?\" WHERE x = $2")
        #expect(PostgresConnection.isoTimestamp("2026-11-29 11:22:34.12+00") == "2026-11-29T11:22:34.120Z")
        #expect(PostgresConnection.isoTimestamp("2026-11-29 11:22:34+00") == "2026-11-29T11:22:34.000Z")
    }

    @Test(.enabled(if: TestPostgres.isAvailable, TestPostgres.skipReason))
    func postgreSQLIsAvailableToTheSuites() throws {
        let store = try TestPostgres.freshStore()
        #expect(store.dialect == .postgresql)
    }

    @Test func continuousIntegrationHasAPostgreSQLServer() throws {
        guard ProcessInfo.processInfo.environment["CI"] != nil else { return }
        #expect(TestPostgres.isAvailable, "CI must run the PostgreSQL tests: scripts/install-deps.sh installs postgresql")
    }
}
