import Foundation
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncHTTP
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// Serves each fixture tenant from its own mock, so a fault hits one customer only.
struct PerTenantTransport: HTTPTransport {
    let mocks: [String: MockZuora]
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.url.scheme == FixtureTransport.scheme, let tenant = request.url.host, let mock = mocks[tenant] else {
            throw UnexpectedRequest(request: "\(request.method.rawValue) \(request.url.absoluteString)")
        }
        return try await FixtureTransport(mock: mock).send(request)
    }
}

/// Each hostile answer from upstream: a clear warning or error, the store and the other customer
/// untouched, nothing written outside the data directory, no crash.
@Suite("Hostile upstream")
struct HostileUpstreamTests {
    /// First a clean sync of globex and initech, then one with `faults` on initech only.
    func syncWithFault(_ faults: String, pipeline change: @escaping (inout PipelineDefinition) -> Void = { _ in })
        async throws -> (workspace: TestWorkspace, before: String, manifest: RunManifest) {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["globex", "initech"], clock: clock)
        let before = try workspace.databaseDump()
        clock.advance(seconds: 90_000) // past the token lifetime and the daily full pass
        let transport = PerTenantTransport(mocks: ["globex": try workspace.mock(clock: clock), "initech": try workspace.mock(clock: clock, faults: faults)])
        let manifest = try await workspace.runner(transport: transport, clock: clock)
            .start(pipeline: try workspace.pipeline(change), pipelinePath: "p", customers: workspace.customers(["globex", "initech"]))
        #expect(manifest.result(for: "globex")?.status == .succeeded, "the other customer is untouched by \(faults)")
        return (workspace, before, manifest)
    }

    func initech(_ manifest: RunManifest) -> CustomerResult { manifest.result(for: "initech")! }

    @Test(arguments: ["hugeexpiry:token", "negexpiry:token"])
    func outOfRangeTokenLifetimesNeverCrash(_ fault: String) async throws {
        let (_, _, manifest) = try await syncWithFault(fault)
        #expect(initech(manifest).status == .succeeded)
        #expect(TokenProvider.lifetime(.double(9.2e15)) == 86_400)
        #expect(TokenProvider.lifetime(.int(-5)) == 60)
        #expect(TokenProvider.lifetime(.double(0.5)) == 60)
        #expect(TokenProvider.lifetime(.string("3599")) == 3599)
        #expect(Timestamp.format(Date(timeIntervalSince1970: 9.2e15)) == "9999-12-31T23:59:59.000Z")
    }

    @Test(arguments: [("crlftoken:token", "control characters"), ("notoken:token", "no access_token")])
    func unusableTokensFailThatCustomerOnly(_ fault: String, _ message: String) async throws {
        let (workspace, before, manifest) = try await syncWithFault(fault)
        #expect(initech(manifest).status == .failed)
        #expect(initech(manifest).error?.contains(message) == true, "\(initech(manifest).error ?? "")")
        #expect(try workspace.databaseDump().contains(before.split(separator: "\n").first { $0.contains("initech") }.map(String.init) ?? "?"))
    }

    @Test(arguments: ["html:list", "dataobject:list", "deep:list", "badjson:list", "truncate:list@1", "redirect:list"])
    func aBrokenListingChangesNothing(_ fault: String) async throws {
        let (workspace, before, manifest) = try await syncWithFault(fault)
        #expect(initech(manifest).status == .failed)
        #expect(initech(manifest).failedStage == "fetch-workflow-pages")
        #expect(!(initech(manifest).error ?? "").isEmpty)
        let initechRows = { (dump: String) in dump.split(separator: "\n").filter { $0.hasPrefix("initech|") } }
        #expect(initechRows(try workspace.databaseDump()) == initechRows(before), "initech's rows are untouched")
    }

    @Test func hostileIdsAndNamesAreSkippedOrStoredSafely() async throws {
        let (workspace, _, manifest) = try await syncWithFault("badids:list@1")
        #expect(initech(manifest).status == .succeeded)
        let fetch = try StageResultFile.read(FetchWorkflowPages.Result.self, formatVersion: 1,
                                             in: workspace.data.stage(run: manifest.id, customer: "initech", index: 2, stageID: "fetch-workflow-pages"))
        #expect(fetch.skippedWithoutID == 4, "negative, huge, fractional and ../ ids are skipped with a warning")
        #expect(fetch.workflows.contains { $0.id == 12 }, "a quoted integer id is read as the integer")
        // Nothing lands outside the data directory or under a `..` name.
        let files = workspace.files(under: workspace.root).keys
        #expect(!files.contains { $0.contains("..") || $0.contains("passwd") })
        let name = try #require(try workspace.store.storedWorkflows(customerSlug: "initech")[990_001]?.name)
        #expect(name.contains("\n") && name.contains("\u{FFFD}") && !name.contains("\u{0}"))
        let commit = try CanonicalJSON.readVersioned(StageCommit.self, from: workspace.data.stage(run: manifest.id, customer: "initech", index: 2, stageID: "fetch-workflow-pages").appendingPathComponent(StageFiles.commit))
        #expect(commit.warnings.contains { $0.contains("NUL") })
    }

    @Test func aNextPageToAnotherHostIsNeverFollowed() async throws {
        // PerTenantTransport throws on any URL that is not a fixture tenant: following it would fail the run.
        let (_, _, manifest) = try await syncWithFault("otherhost:list")
        #expect(initech(manifest).status == .succeeded)
    }

    @Test(arguments: ["echo=403:export@2", "big=2:export@2", "redirect:export@2", "deep:export@2", "html:export@2"])
    func aBadExportIsAWarningAndTheStoredCopyStays(_ fault: String) async throws {
        let (workspace, before, manifest) = try await syncWithFault(fault) { $0.http.maxExportMegabytes = 1 }
        #expect(initech(manifest).status == .succeeded)
        let download = try StageResultFile.read(DownloadExports.Result.self, formatVersion: 1,
                                                in: workspace.data.stage(run: manifest.id, customer: "initech", index: 3, stageID: "download-exports"))
        #expect(download.failed.count == 1, "\(fault)")
        let failedID = try #require(download.failed.first?.id)
        let row = { (dump: String) in dump.split(separator: "\n").first { $0.hasPrefix("initech|\(failedID)|") } }
        #expect(row(try workspace.databaseDump()) == row(before), "the last good export of \(failedID) is kept")
    }

    @Test func echoedCredentialsNeverReachFilesOrMessages() async throws {
        let (workspace, _, manifest) = try await syncWithFault("echo=403:export@1x*")
        let tokens = ["mock-", "initech-demo-secret", Data("initech-demo-secret".utf8).base64EncodedString()]
        for (path, data) in workspace.files(under: workspace.data.root) where !path.hasPrefix("store.sqlite") {
            let text = String(decoding: data, as: UTF8.self)
            for secret in tokens { #expect(!text.contains(secret), "\(path) contains \(secret)") }
        }
        let warnings = try CanonicalJSON.readVersioned(StageCommit.self, from: workspace.data.stage(run: manifest.id, customer: "initech", index: 3, stageID: "download-exports").appendingPathComponent(StageFiles.commit)).warnings
        #expect(!warnings.isEmpty && warnings.allSatisfy { $0.contains("[redacted]") })
    }

    @Test func aNegativeRetryAfterFallsBackToBackoff() async throws {
        let (_, _, manifest) = try await syncWithFault("badretry:list@1")
        #expect(initech(manifest).status == .succeeded)
        #expect(RetryPolicy.retryAfterSeconds("-5", now: Date()) == nil)
    }
}
