import Foundation
import GRDB
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

@Suite("Sync pipeline on the demo fixtures")
struct SyncPipelineTests {
    @Test func fullSyncLandsEverythingInStoreAndSnapshots() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock()
        let manifest = try await workspace.sync(mock: mock)
        #expect(manifest.status == .succeeded)
        let globex = try #require(manifest.figures("globex"))
        #expect(globex.listed == 123)
        #expect(globex.created == 123)
        #expect(globex.exportsDownloaded == 121)
        #expect(globex.exportsFailed == 2)
        #expect(globex.workflows == 123)
        #expect(manifest.figures("hooli")?.workflows == 0)

        let store = try workspace.store
        let counts = try store.counts(customerSlug: "globex")
        #expect(counts.workflows == 123)
        #expect(counts.tasks > 123)
        // Workflows whose export failed are stored from the listing, without an export.
        let stored = try store.storedWorkflows(customerSlug: "globex")
        #expect(stored.values.filter { !$0.hasGoodExport }.count == 2)
        // Snapshots: one canonical file per good export, identical to the store's bytes.
        let snapshots = SnapshotWriter(dataDirectory: workspace.data.root)
        for export in try store.exports(customerSlug: "initech") {
            let file = try Data(contentsOf: snapshots.workflowFile("initech", zuoraID: export.zuoraID))
            #expect(file == Data(export.text.utf8))
            #expect(Digest.sha256Hex(file) == export.sha256)
            #expect(file.last == UInt8(ascii: "\n"))
        }
        let index = try CanonicalJSON.read([SnapshotIndexEntry].self, from: snapshots.indexFile("globex"))
        #expect(index.count == 123)
        #expect(index.map(\.id) == index.map(\.id).sorted())
        // Parent task ids come from the export's task_id.
        let parents = try await store.sqliteWriter!.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE parent_task_id IS NOT NULL AND parent_task_id NOT IN (SELECT zuora_task_id FROM tasks)")
        }
        #expect(parents == 0)
        // The in-process mock saw one token request per customer and three list pages for globex.
        #expect(mock.stats.count("globex", .token) == 1)
        #expect(mock.stats.count("globex", .list) == 3)
        // Stage outputs are on disk with commit markers.
        let fetch = workspace.data.stage(run: manifest.id, customer: "globex", index: 2, stageID: "fetch-workflow-pages")
        for name in ["page-0001.json", "page-0002.json", "page-0003.json", "result.json", "commit.json"] {
            #expect(FileManager.default.fileExists(atPath: fetch.appendingPathComponent(name).path), "\(name)")
        }
    }

    @Test func noSecretOrTokenIsWrittenInClear() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock()
        try await workspace.sync(mock: mock)
        for (path, data) in workspace.files(under: workspace.data.root) where !path.hasSuffix(".sqlite") {
            let text = String(decoding: data, as: UTF8.self)
            #expect(!text.contains("demo-secret"), "\(path) contains a secret")
            #expect(!text.contains("mock-"), "\(path) contains a token")
        }
        let tokenFiles = try FileManager.default.contentsOfDirectory(at: workspace.data.root.appendingPathComponent("auth/tokens"), includingPropertiesForKeys: nil)
        #expect(tokenFiles.count == 3)
        for file in tokenFiles {
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }

    @Test func secondSyncOfUnchangedTenantDownloadsNothingNew() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let mock = try workspace.mock(clock: clock)
        try await workspace.sync(mock: mock, clock: clock)
        let before = mock.stats
        clock.advance(seconds: 1800)
        let second = try await workspace.sync(mock: mock, clock: clock)
        let globex = try #require(second.figures("globex"))
        #expect(globex.created == 0 && globex.updated == 0 && globex.deleted == 0)
        #expect(globex.unchanged == 123)
        #expect(globex.exportsSkipped == 121)
        // Only the two workflows without a good export are tried again.
        #expect(mock.stats.count("globex", .export) - before.count("globex", .export) == 2)
        #expect(mock.stats.count("initech", .export) - before.count("initech", .export) == 0)
        // The token from the first run is reused through the cache file.
        #expect(mock.stats.count("globex", .token) - before.count("globex", .token) == 0)
    }

    @Test func oneUpstreamChangeIsOneExportAndOneUpdate() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock)
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: "2026-11-01T10:00:00.000Z") { _, export in
            var tasks = export["tasks"]!.arrayValue!
            var first = tasks[0].objectValue!
            first["name"] = .string("Renamed upstream")
            tasks[0] = .object(first)
            export["tasks"] = .array(tasks)
        }
        let mock = try workspace.mock(clock: clock)
        clock.advance(seconds: 3600)
        let second = try await workspace.sync(["initech"], mock: mock, clock: clock)
        let summary = try #require(second.figures("initech"))
        #expect(mock.stats.count("initech", .export) == 1)
        #expect(summary.updated == 1)
        #expect(summary.unchanged == 5)
        #expect(summary.changes.count == 1 && summary.changes[0].hasPrefix("~ 41 "))
        let names = try await workspace.store.sqliteWriter!.read { db in try String.fetchAll(db, sql: "SELECT name FROM tasks WHERE name = 'Renamed upstream'") }
        #expect(names.count == 1)
    }

    @Test func failedExportKeepsTheLastGoodCopyByteForByte() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock)
        let snapshot = SnapshotWriter(dataDirectory: workspace.data.root).workflowFile("initech", zuoraID: 43)
        let before = try Data(contentsOf: snapshot)
        let dumpBefore = try workspace.databaseDump()
        // Upstream says 43 changed, but its export is now broken JSON.
        try workspace.editUpstream(tenant: "initech", workflowID: 43, updatedAt: "2026-11-02T00:00:00.000Z") { _, _ in }
        try Data("{\"workflow\": {".utf8).write(to: workspace.fixtures.appendingPathComponent("initech/exports/43.json"))
        clock.advance(seconds: 60)
        let second = try await workspace.sync(["initech"], clock: clock)
        #expect(second.status == .succeeded)
        let commit = try CanonicalJSON.read(StageCommit.self, from: workspace.data.stage(run: second.id, customer: "initech", index: 3, stageID: "download-exports").appendingPathComponent("commit.json"))
        #expect(commit.warnings.contains { $0.contains("workflow 43") && $0.contains("invalid JSON") && $0.contains("stored copy is kept") })
        #expect(try Data(contentsOf: snapshot) == before)
        let dumpAfter = try workspace.databaseDump()
        // Only the listing metadata (updated_on) of 43 may differ; export, hash, tasks and linkages are untouched.
        let strip = { (dump: String) in dump.split(separator: "\n").filter { !$0.hasPrefix("\"initech\"|43|") }.joined(separator: "\n") }
        #expect(strip(dumpAfter) == strip(dumpBefore))
        let exportRow = try workspace.store.exports(customerSlug: "initech", zuoraIDs: [43]).first
        #expect(exportRow.map { Data($0.text.utf8) } == before)
    }

    @Test func wrongCredentialsFailThatCustomerOnlyAndAreNotRetryable() async throws {
        let workspace = try TestWorkspace()
        var customers = workspace.customers(["globex", "initech"])
        customers[0].secret = .inline("wrong-secret")
        let mock = try workspace.mock()
        let manifest = try await workspace.runner(transport: FixtureTransport(mock: mock))
            .start(pipeline: try workspace.pipeline(), pipelinePath: "p", customers: customers)
        #expect(manifest.status == .failed)
        let globex = try #require(manifest.result(for: "globex"))
        #expect(globex.status == .failed)
        #expect(globex.failedStage == "oauth-token")
        #expect(globex.isRetryable == false)
        #expect(globex.error?.contains("Bad client credentials") == true)
        #expect(globex.error?.contains("wrong-secret") == false)
        #expect(mock.stats.count("globex", .token) == 1, "not retried")
        #expect(manifest.result(for: "initech")?.status == .succeeded)
    }

    @Test func missingSecretFailsAtValidationWithoutANetworkCall() async throws {
        let workspace = try TestWorkspace()
        var customers = workspace.customers(["initech"])
        customers[0].secret = .environment("NOT_SET_ANYWHERE")
        let mock = try workspace.mock()
        let manifest = try await workspace.runner(transport: FixtureTransport(mock: mock))
            .start(pipeline: try workspace.pipeline(), pipelinePath: "p", customers: customers)
        let result = try #require(manifest.result(for: "initech"))
        #expect(result.failedStage == "validate-credentials")
        #expect(result.isRetryable == false)
        #expect(result.error?.contains("NOT_SET_ANYWHERE") == true)
        #expect(mock.stats.requests.isEmpty)
    }

    @Test func transientFaultsAreRetriedWithRetryAfterHonoured() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let mock = try workspace.mock(clock: clock, faults: "429=7:export@2,503:list@1")
        let manifest = try await workspace.sync(["initech"], mock: mock, clock: clock)
        #expect(manifest.status == .succeeded)
        #expect(clock.recordedSleeps.contains(7), "Retry-After: 7 was honoured: \(clock.recordedSleeps)")
        #expect(mock.stats.count("initech", .list) == 2)
        #expect(mock.stats.count("initech", .export) == 7)
        #expect(try workspace.store.counts(customerSlug: "initech").workflows == 6)
    }

    @Test func revokedTokenIsRefreshedOnceForAllRequests() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock(faults: "revoke:export@3")
        let manifest = try await workspace.sync(["globex"], mock: mock)
        #expect(manifest.status == .succeeded)
        #expect(mock.stats.count("globex", .token) == 2, "one refresh shared by all in-flight exports")
        #expect(manifest.figures("globex")?.exportsDownloaded == 121)
    }

    @Test func aRetryAfterLongerThanTheMaximumStopsTheCustomer() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock(faults: "429=3600:list@1")
        let manifest = try await workspace.sync(["initech"], mock: mock)
        let result = try #require(manifest.result(for: "initech"))
        #expect(result.status == .failed)
        #expect(result.failedStage == "fetch-workflow-pages")
        #expect(result.isRetryable == true)
        #expect(result.error?.contains("3600") == true)
    }

    @Test func aSecondRunOfALockedCustomerFailsClearlyAndRetryably() async throws {
        let workspace = try TestWorkspace()
        let lock = try CustomerLock.acquire(customer: "initech", in: workspace.data, now: Date())
        defer { lock.release() }
        let manifest = try await workspace.sync(["initech", "hooli"])
        let initech = try #require(manifest.result(for: "initech"))
        #expect(initech.status == .failed)
        #expect(initech.isRetryable == true)
        #expect(initech.error?.contains("another run is syncing customer 'initech'") == true)
        #expect(initech.error?.contains("pid \(getpid())") == true)
        #expect(manifest.result(for: "hooli")?.status == .succeeded)
        lock.release()
        #expect(try await workspace.sync(["initech"]).status == .succeeded, "free again once released")
    }
}
