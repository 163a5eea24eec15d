import Foundation
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncHTTP
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// Each stage kind on its own, through `StageHarness` (a `StageContext` factory) and a transport
/// that fails on any request the test did not declare.
@Suite("Stage kinds, one at a time")
struct StageUnitTests {
    static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: value.canonicalData())
    }

    static func item(_ id: Int64, _ name: String, updatedAt: String = "2026-01-02T03:04:05.000Z") -> JSONValue {
        .object(["id": .int(id), "name": .string(name), "status": .string("Active"), "updatedAt": .string(updatedAt),
                 "active_version": .object(["id": .int(id + 1000), "version": .string("0.0.1"), "type": .string("Workflow::Setup")])])
    }

    static func export(_ id: Int64, tasks: Int = 2) -> JSONValue {
        .object(["workflow": .object(["id": .int(id + 1000), "name": .string("W\(id)")]),
                 "tasks": .array((0..<tasks).map { .object(["id": .int(id * 10 + Int64($0)), "name": .string("T\($0)"), "action_type": .string("Email"),
                                                            "task_id": $0 == 0 ? .null : .int(id * 10 + Int64($0) - 1)]) }),
                 "linkages": .array([.object(["linkage_type": .string("Start"), "source_workflow_id": .int(id + 1000), "source_task_id": .null,
                                              "target_task_id": .int(id * 10)])])])
    }

    static func tokenRoute(_ transport: ScriptedTransport) {
        transport.on(.post, "/oauth/token") { _ in json(.object(["access_token": .string("t-1"), "token_type": .string("bearer"), "expires_in": .int(3599)])) }
    }

    static func listing(_ items: [JSONValue], complete: Bool = true) -> FetchWorkflowPages.Result {
        FetchWorkflowPages.Result(workflows: items.compactMap(ListedWorkflow.init(item:)), isComplete: complete,
                                  incompleteReason: complete ? nil : "test", pages: 1, skippedWithoutID: 0, duplicates: 0)
    }

    @Test func validateCredentialsRefusesABadBaseURLWithoutARequest() async throws {
        let transport = ScriptedTransport()
        let harness = try StageHarness(customer: CustomerConfig(id: "acme", name: "Acme", baseURL: URL(string: "http://example.com")!,
                                                               clientID: "c", secret: .inline("s")), transport: transport)
        await #expect(throws: StageFailure.self) { try await harness.run(ValidateCredentials.self) }
        #expect(transport.requests.isEmpty)
    }

    @Test func fetchWorkflowPagesFollowsPagesAndCountsDuplicatesOnce() async throws {
        let transport = ScriptedTransport()
        Self.tokenRoute(transport)
        transport.on(.get, "/workflows") { request in
            let page = request.url.query?.contains("page=2") == true ? 2 : 1
            let items = page == 1 ? [Self.item(1, "a"), Self.item(2, "b")] : [Self.item(2, "b"), Self.item(3, "c")]
            let next: JSONValue = page == 1 ? .string("fixture://acme/workflows?page=2&page_length=2") : .null
            return Self.json(.object(["data": .array(items), "pagination": .object(["next_page": next])]))
        }
        let harness = try StageHarness(transport: transport)
        let (output, directory) = try await harness.run(FetchWorkflowPages.self, settings: ["page_size": .int(2)])
        #expect(output.result.workflows.map(\.id) == [1, 2, 3])
        #expect(output.result.duplicates == 1 && output.result.isComplete)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(FetchWorkflowPages.pageFileName(2)).path))
        #expect(transport.unexpectedRequests.isEmpty)
        #expect(harness.events.events.filter { $0.event == .progress }.map(\.done) == [1, 2], "the first page, then the last count")
    }

    @Test func downloadExportsKeepsGoingPastAFailedExport() async throws {
        let transport = ScriptedTransport()
        Self.tokenRoute(transport)
        transport.on(.get, "/workflows/1/export") { _ in Self.json(Self.export(1)) }
        transport.on(.get, "/workflows/2/export") { _ in Self.json(.object(["errors": .array([.object(["title": .string("Workflow version is not found")])])]), status: 404) }
        let harness = try StageHarness(transport: transport)
        try harness.given(FetchWorkflowPages.self, result: Self.listing([Self.item(1, "a"), Self.item(2, "b")]))
        let (output, directory) = try await harness.run(DownloadExports.self)
        #expect(output.result.downloaded.map(\.id) == [1])
        #expect(output.result.failed.map(\.status) == [404])
        #expect(output.warnings.count == 1 && output.warnings[0].contains("the stored copy is kept"))
        let file = try Data(contentsOf: DownloadExports.exportFile(1, in: directory))
        #expect(file == Self.export(1).canonicalData())
        // Progress through the context: the total first, the last at done == total (the clock stands still, so nothing between).
        let progress = harness.events.events.filter { $0.event == .progress }
        #expect(progress.map(\.done) == [0, 2])
        #expect(progress.allSatisfy { $0.total == 2 && $0.unit == "exports" && $0.stage == DownloadExports.name && $0.customer == "acme" })
    }

    /// A worker's failure stops the stage at once: the other workers' requests in flight are
    /// cancelled, not waited for (through their retries and Retry-After waits).
    @Test func aFailedWorkerCancelsTheOtherWorkersRequests() async throws {
        final class Transport: HTTPTransport, @unchecked Sendable {
            // @unchecked: `secondStarted` and `secondWasCancelled` are only touched under `lock`.
            let scripted = ScriptedTransport()
            private let lock = NSLock()
            private var secondStarted = false
            private var secondWasCancelledValue = false
            var secondWasCancelled: Bool { lock.withLock { secondWasCancelledValue } }

            func send(_ request: HTTPRequest) async throws -> HTTPResponse {
                if request.url.path.hasSuffix("/workflows/2/export") {
                    lock.withLock { secondStarted = true }
                    do {
                        // Ends the test's wait if the stage never cancels it (the test then fails).
                        try await Task.sleep(for: .seconds(20))
                    } catch {
                        lock.withLock { secondWasCancelledValue = true }
                        throw error
                    }
                    return StageUnitTests.json(StageUnitTests.export(2))
                }
                if request.url.path.hasSuffix("/workflows/1/export") {
                    // Fails only once the other export is in flight: rate limited for longer than
                    // `retry.max_retry_after`, which stops the customer.
                    while !lock.withLock({ secondStarted }) { try await Task.sleep(for: .milliseconds(1)) }
                    return HTTPResponse(status: 429, headers: ["Retry-After": "86400"])
                }
                return try await scripted.send(request)
            }
        }
        let transport = Transport()
        Self.tokenRoute(transport.scripted)
        let harness = try StageHarness(transport: transport)
        try harness.given(FetchWorkflowPages.self, result: Self.listing([Self.item(1, "a"), Self.item(2, "b")]))
        await #expect(throws: (any Error).self) { try await harness.run(DownloadExports.self) }
        #expect(transport.secondWasCancelled, "the other worker's request was cancelled")
    }

    @Test func saveWorkflowsAndExtractTasksStoreRowsAndTasks() async throws {
        let harness = try StageHarness()
        let listing = Self.listing([Self.item(1, "a"), Self.item(2, "b")])
        try harness.given(FetchWorkflowPages.self, result: listing)
        let downloads = try harness.given(DownloadExports.self, result: DownloadExports.Result(
            isFullPass: true, downloaded: [.init(id: 1, sha256: Digest.sha256Hex(Self.export(1, tasks: 3).canonicalData()), bytes: 0)],
            unchanged: [], failed: []))
        try AtomicFile.write(Self.export(1, tasks: 3).canonicalData(), to: DownloadExports.exportFile(1, in: downloads))
        let (save, _) = try await harness.run(SaveWorkflows.self)
        #expect(save.result.created == 2 && save.result.exportsStored == 1)
        let (extract, _) = try await harness.run(ExtractTasks.self)
        #expect(extract.result.tasks == 3 && extract.result.workflows == 1)
        #expect(try harness.store.counts(customerSlug: "acme") == (workflows: 2, tasks: 3, linkages: 1))
        var summary = CustomerSummary()
        SaveWorkflows.summarize(save.result, into: &summary)
        #expect(summary.column("created") == "2" && summary.changes == ["+ 1 a", "+ 2 b"])
    }

    /// A workflow that an interrupted attempt created, and that changed upstream before the run
    /// was resumed, is counted once, as created by the run.
    @Test func saveWorkflowsCountsAWorkflowAnInterruptedAttemptCreatedOnce() async throws {
        let harness = try StageHarness()
        let interrupted = try #require(ListedWorkflow(item: Self.item(1, "a")))
        try harness.store.applyRecordingChanges([WorkflowUpsert(listed: interrupted, exportSHA256: nil)], customer: harness.customer,
                                                syncedAt: harness.clock.now(), runID: harness.runID) { _ in "" }
        try harness.given(FetchWorkflowPages.self, result: Self.listing([Self.item(1, "renamed upstream"), Self.item(2, "b")]))
        try harness.given(DownloadExports.self, result: DownloadExports.Result(isFullPass: false, downloaded: [], unchanged: [], failed: []))
        let (save, _) = try await harness.run(SaveWorkflows.self)
        #expect(save.result.created == 2 && save.result.updated == 0 && save.result.unchanged == 0)
        #expect(save.result.changed.map(\.id) == [1, 2] && save.result.changed.allSatisfy { $0.action == .created })
        #expect(try harness.store.storedWorkflows(customerSlug: "acme")[1]?.name == "renamed upstream")
    }

    @Test func cleanupObsoleteDeletesNothingAfterAnIncompleteListing() async throws {
        let harness = try StageHarness()
        try harness.given(FetchWorkflowPages.self, result: Self.listing([Self.item(1, "a"), Self.item(2, "b")]))
        try harness.given(DownloadExports.self, result: DownloadExports.Result(isFullPass: false, downloaded: [], unchanged: [], failed: []))
        _ = try await harness.run(SaveWorkflows.self)
        try harness.given(FetchWorkflowPages.self, result: Self.listing([Self.item(1, "a")], complete: false))
        let (output, _) = try await harness.run(CleanupObsolete.self)
        #expect(output.status == .skipped && !output.result.isApplied)
        #expect(output.result.obsolete.map(\.id) == [2])
        #expect(try harness.store.counts(customerSlug: "acme").workflows == 2)
    }

    @Test func cleanupObsoleteArchivesThenDeletesWithinTheGuard() async throws {
        let harness = try StageHarness()
        try harness.given(FetchWorkflowPages.self, result: Self.listing((1...4).map { Self.item($0, "w\($0)") }))
        try harness.given(DownloadExports.self, result: DownloadExports.Result(isFullPass: false, downloaded: [], unchanged: [], failed: []))
        _ = try await harness.run(SaveWorkflows.self)
        // The next run (its own id: save-workflows counts what its run recorded) lists one workflow fewer.
        harness.runID = "20260102T000000Z-test01"
        try harness.given(FetchWorkflowPages.self, result: Self.listing((1...3).map { Self.item($0, "w\($0)") }))
        _ = try await harness.run(SaveWorkflows.self)
        let (output, _) = try await harness.run(CleanupObsolete.self, settings: ["max_delete_fraction": .double(0.3)])
        #expect(output.status == .committed && output.result.isApplied)
        #expect(try harness.store.counts(customerSlug: "acme").workflows == 3)
        #expect(FileManager.default.fileExists(atPath: harness.dataDirectory.trash.appendingPathComponent("\(harness.runID)/acme/4.json").path))
    }

    @Test func oauthTokenRecordsExpiryButNeverTheToken() async throws {
        let transport = ScriptedTransport()
        Self.tokenRoute(transport)
        let harness = try StageHarness(transport: transport)
        let (output, directory) = try await harness.run(OAuthToken.self)
        #expect(output.result.tokenRequests == 1)
        let text = try String(contentsOf: directory.appendingPathComponent(StageFiles.result), encoding: .utf8)
        #expect(!text.contains("t-1"))
    }

    @Test func theScriptedTransportFailsOnAnUndeclaredRequest() async throws {
        let transport = ScriptedTransport()
        await #expect(throws: UnexpectedRequest.self) {
            _ = try await transport.send(HTTPRequest(method: .get, url: URL(string: "https://x.example/workflows")!))
        }
        #expect(transport.unexpectedRequests == ["GET /workflows"])
    }
}
