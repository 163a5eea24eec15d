import Foundation
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

@Suite("Cleanup never destroys good data")
struct CleanupTests {
    @Test func upstreamDeleteRemovesRowsCascadesAndArchivesToTrash() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"])
        let before = try workspace.store.taskCounts(customerSlug: "initech", zuoraID: 46)
        #expect(before.tasks > 0)
        try workspace.deleteUpstream(tenant: "initech") { $0 == 46 }
        let second = try await workspace.sync(["initech"])
        #expect(second.figures("initech")?.deleted == 1)
        #expect(try workspace.store.storedWorkflows(customerSlug: "initech")[46] == nil)
        let after = try workspace.store.taskCounts(customerSlug: "initech", zuoraID: 46)
        #expect(after.tasks == 0 && after.linkages == 0)
        let orphans = try await workspace.store.sqliteWriter!.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE workflow_id NOT IN (SELECT id FROM workflows)")
        }
        #expect(orphans == 0)
        #expect(!FileManager.default.fileExists(atPath: SnapshotWriter(dataDirectory: workspace.data.root).workflowFile("initech", zuoraID: 46).path))
        let trash = workspace.data.trash.appendingPathComponent("\(second.id)/initech/46.json")
        let archive = try CanonicalJSON.read(WorkflowArchive.self, from: trash)
        #expect(archive.tasks.count == before.tasks)
        #expect(archive.linkages.count == before.linkages)
        #expect(archive.workflow["export"]?.stringValue != nil)
    }

    @Test func listingThatFailsOnPageTwoDeletesNothing() async throws {
        let workspace = try TestWorkspace()
        // The first sync makes list calls 1-3; the second gets page 1 (call 4) and then only 500s.
        let mock = try workspace.mock(faults: "500:list@5x*")
        try await workspace.sync(["globex"], mock: mock)
        let dump = try workspace.databaseDump()
        try workspace.deleteUpstream(tenant: "globex") { $0 == 129 }
        let second = try await workspace.sync(["globex"], mock: mock)
        #expect(second.result(for: "globex")?.failedStage == "fetch-workflow-pages")
        #expect(mock.stats.count("globex", .list) >= 5)
        #expect(try workspace.databaseDump() == dump)
    }

    @Test func emptyListingForACustomerWithWorkflowsIsSuspicious() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"])
        try workspace.deleteUpstream(tenant: "initech") { _ in true }
        let second = try await workspace.sync(["initech"])
        #expect(second.status == .succeeded)
        #expect(try workspace.store.counts(customerSlug: "initech").workflows == 6)
        let plan = try StageResultFile.read(CleanupObsolete.Result.self, formatVersion: 1, in: workspace.data.stage(run: second.id, customer: "initech", index: 6, stageID: "cleanup-obsolete"))
        #expect(!plan.isApplied)
        #expect(plan.skippedReason?.contains("listed no workflows") == true)
    }

    @Test func listingMissingHalfTheWorkflowsNeedsAllowMassDelete() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["globex"])
        try workspace.deleteUpstream(tenant: "globex") { $0 % 2 == 0 }
        let refused = try await workspace.sync(["globex"])
        #expect(refused.figures("globex")?.deleted == 0)
        #expect(try workspace.store.counts(customerSlug: "globex").workflows == 123)

        let allowed = try await workspace.sync(["globex"], options: RunOptions(allowMassDelete: true))
        let deleted = try #require(allowed.figures("globex")?.deleted)
        #expect(deleted > 50)
        #expect(try workspace.store.counts(customerSlug: "globex").workflows == 123 - deleted)
    }

    @Test func truncatedListingPageFailsAndDeletesNothing() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock(faults: "truncate:list@4")
        try await workspace.sync(["globex"], mock: mock)
        try workspace.deleteUpstream(tenant: "globex") { $0 == 129 }
        let second = try await workspace.sync(["globex"], mock: mock)
        // A truncated page is not valid JSON: the stage fails, nothing is deleted.
        let result = try #require(second.result(for: "globex"))
        #expect(result.status == .failed)
        #expect(result.error?.contains("list page 1 is not valid JSON") == true)
        #expect(try workspace.store.storedWorkflows(customerSlug: "globex")[129] != nil)
    }

    @Test func shiftedListingIsIncompleteAndDeletesNothing() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock()
        try await workspace.sync(["globex"], mock: mock)
        try workspace.deleteUpstream(tenant: "globex") { $0 == 129 }
        let second = try await workspace.runner(transport: ShortFirstPageTransport(base: FixtureTransport(mock: mock)))
            .start(pipeline: try workspace.pipeline(), pipelinePath: "p", customers: workspace.customers(["globex"]))
        #expect(second.status == .succeeded)
        let fetch = try StageResultFile.read(FetchWorkflowPages.Result.self, formatVersion: 1, in: workspace.data.stage(run: second.id, customer: "globex", index: 2, stageID: "fetch-workflow-pages"))
        #expect(!fetch.isComplete)
        #expect(fetch.incompleteReason?.contains("shifted") == true)
        #expect(second.figures("globex")?.deleted == 0)
        #expect(try workspace.store.storedWorkflows(customerSlug: "globex")[129] != nil)
    }

    @Test func dryRunChangesNothingOutsideItsRunDirectory() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"])
        try workspace.deleteUpstream(tenant: "initech") { $0 == 40 }
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: "2026-11-03T00:00:00.000Z") { item, _ in
            item["name"] = .string("Renamed")
        }
        let before = workspace.files(under: workspace.data.root).filter { !$0.key.hasPrefix("runs/") && !$0.key.hasPrefix("locks/") }
        let dump = try workspace.databaseDump()
        let dry = try await workspace.sync(["initech"], options: RunOptions(dryRun: true))
        #expect(dry.status == .succeeded)
        let after = workspace.files(under: workspace.data.root).filter { !$0.key.hasPrefix("runs/") && !$0.key.hasPrefix("locks/") }
        #expect(before.keys.sorted() == after.keys.sorted())
        #expect(before.filter { !$0.key.hasPrefix("store.sqlite") } == after.filter { !$0.key.hasPrefix("store.sqlite") })
        #expect(try workspace.databaseDump() == dump)
        let summary = try #require(dry.figures("initech"))
        #expect(summary.updated == 1)
        let plan = try StageResultFile.read(CleanupObsolete.Result.self, formatVersion: 1, in: workspace.data.stage(run: dry.id, customer: "initech", index: 6, stageID: "cleanup-obsolete"))
        #expect(plan.obsolete.map(\.id) == [40])
        #expect(!plan.isApplied)
    }
}

/// Drops the last item of list page 1 while keeping its `next_page`, as a listing that shifted
/// while it was paged.
struct ShortFirstPageTransport: HTTPTransport {
    let base: any HTTPTransport

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var response = try await base.send(request)
        guard request.url.path.hasSuffix("/workflows"), request.url.query?.contains("page=1&") == true,
              case .object(var body)? = try? JSONValue.parse(response.body), var data = body["data"]?.arrayValue else { return response }
        data.removeLast()
        body["data"] = .array(data)
        response.body = JSONValue.object(body).canonicalData()
        return response
    }
}
