import Foundation
import GRDB
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncJobs
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// A stage kind defined outside the library: counts the customer's tasks by action type.
struct CountTasksByActionType: StageKind {
    static let name = "count-tasks-by-action-type"
    static var inputs: [any StageKind.Type] { [ExtractTasks.self] }

    struct Settings: StageSettings {
        /// `top`: how many action types to keep. Default 3, 1...20.
        var top: Int
        init(reading settings: some SettingsReader) throws {
            top = try settings.int("top", default: 3, range: 1...20)
        }
    }

    struct Result: Codable, Sendable, Equatable {
        var counts: [String: Int]
        var extractedTasks: Int
    }

    func run(_ context: StageContext, settings: Settings) async throws -> StageOutput<Result> {
        let extracted = try context.result(of: ExtractTasks.self)
        let rows = try await context.services.store.sqliteWriter!.read { db in
            try GRDBRows.actionTypeCounts(db, customer: context.customer.id)
        }
        let top = rows.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(settings.top)
        return StageOutput(Result(counts: Dictionary(uniqueKeysWithValues: top.map { ($0.key, $0.value) }), extractedTasks: extracted.tasks))
    }

    static func counts(of result: Result) -> [String: Int] { ["action_types": result.counts.count] }

    static func summarize(_ result: Result, into summary: inout CustomerSummary) {
        summary.set("action types", "\(result.counts.count)", order: 50)
    }
}

@Suite("Architecture: plug-in stages, versioned state, signals")
struct ArchitectureTests {
    static let customPipeline = """
        name: with-custom-stage
        stages:
          - id: validate-credentials
            kind: validate-credentials
          - id: oauth-token
            kind: oauth-token
          - id: fetch-workflow-pages
            kind: fetch-workflow-pages
          - id: download-exports
            kind: download-exports
          - id: save-workflows
            kind: save-workflows
          - id: extract-tasks
            kind: extract-tasks
          - id: count
            kind: count-tasks-by-action-type
            top: 2
        """

    @Test func aStageKindDefinedInTheTestsRunsFromYAML() async throws {
        let workspace = try TestWorkspace()
        let registry = BuiltInStages.registry.adding(CountTasksByActionType.self)
        let pipeline = try PipelineLoader.parse(text: Self.customPipeline, file: "custom.yaml", registry: registry)
        #expect(pipeline.stages.last?.settings == ["top": .int(2)])
        var runner = workspace.runner(transport: FixtureTransport(mock: try workspace.mock()))
        runner.registry = registry
        let manifest = try await runner.start(pipeline: pipeline, pipelinePath: "custom.yaml", customers: workspace.customers(["initech"]))
        #expect(manifest.status == .succeeded)
        let directory = workspace.data.stage(run: manifest.id, customer: "initech", index: 6, stageID: "count")
        let result = try StageResultFile.read(CountTasksByActionType.Result.self, formatVersion: 1, in: directory)
        #expect(result.counts.count == 2)
        #expect(result.extractedTasks == 39)
        let expected = try await workspace.store.sqliteWriter!.read { db in try GRDBRows.actionTypeCounts(db, customer: "initech") }
        for (type, count) in result.counts { #expect(expected[type] == count) }
        let commit = try CanonicalJSON.readVersioned(StageCommit.self, from: directory.appendingPathComponent(StageFiles.commit))
        #expect(commit.kind == "count-tasks-by-action-type" && commit.counts == ["action_types": 2])
        let summary = RunSummaryFormatter.summary(manifest, dataDirectory: workspace.data)
        #expect(summary.contains("action types"))
    }

    @Test func aCustomKindsSettingsAreValidatedLikeBuiltInOnes() throws {
        let registry = BuiltInStages.registry.adding(CountTasksByActionType.self)
        func error(_ text: String) -> ConfigurationError? {
            do { _ = try PipelineLoader.parse(text: text, file: "custom.yaml", registry: registry); return nil } catch { return error as? ConfigurationError }
        }
        let outOfRange = try #require(error(Self.customPipeline.replacingOccurrences(of: "top: 2", with: "top: 99")))
        #expect(outOfRange.line == 17 && outOfRange.keyPath == "stages[6].top" && outOfRange.message.contains("1 to 20"))
        let misspelt = try #require(error(Self.customPipeline.replacingOccurrences(of: "top: 2", with: "tpo: 2")))
        #expect(misspelt.message.contains("Did you mean 'top'?"))
        let unknown = try #require(error(Self.customPipeline.replacingOccurrences(of: "kind: count-tasks-by-action-type", with: "kind: count-tasks")))
        #expect(unknown.message.contains("count-tasks-by-action-type"))
        // Without registering it, the kind is unknown: the built-in registry is not special-cased.
        #expect(throws: ConfigurationError.self) { try PipelineLoader.parse(text: Self.customPipeline, file: "custom.yaml", registry: BuiltInStages.registry) }
    }

    @Test func everyBuiltInKindsSettingsRoundTripThroughRunJSON() throws {
        let pipeline = try PipelineLoader.load(path: TestWorkspace.pipelinePath, registry: BuiltInStages.registry)
        for stage in pipeline.stages {
            let kind = try #require(BuiltInStages.registry.kind(named: stage.kind))
            let again = try kind.settings(from: StoredSettingsReader(values: stage.settings, source: "run.json"))
            #expect(again == stage.settings, "\(stage.kind)")
        }
    }

    @Test func aRunDirectoryOfFormatOneResumesWithoutRedoingCommittedStages() async throws {
        let workspace = try TestWorkspace()
        let fixture = TestWorkspace.repositoryRoot.appendingPathComponent("Tests/Fixtures/legacy-run-v1/runs")
        try FileManager.default.copyItem(at: fixture, to: workspace.data.runs)
        let runID = "20261129T092040Z-dea657"
        let old = try workspace.data.loadManifest(runID)
        #expect(old.formatVersion == 1 && old.status == .running)
        #expect(old.pipeline.client.concurrency == 8, "a setting the old format lacks takes its default")
        let mock = try workspace.mock()
        let resumed = try await workspace.runner(transport: FixtureTransport(mock: mock)).resume(runID: runID, customers: workspace.customers(["initech"]))
        #expect(resumed.status == .succeeded)
        #expect(mock.stats.count("initech", .list) == 0 && mock.stats.count("initech", .export) == 0, "committed stages were skipped")
        #expect(try workspace.store.counts(customerSlug: "initech").workflows == 6)
        #expect(try workspace.store.counts(customerSlug: "initech").tasks == 39)
        // Written back in its own format, so its fingerprints keep matching on a later pass.
        let text = try String(contentsOf: workspace.data.manifest(runID), encoding: .utf8)
        #expect(text.contains("\"maxDeleteFraction\""))
    }

    @Test func damagedStateFilesAreReportedByPath() async throws {
        let workspace = try TestWorkspace()
        let good = try await workspace.sync(["hooli"])
        try FileManager.default.createDirectory(at: workspace.data.run("20250101T000000Z-broken"), withIntermediateDirectories: true)
        try Data("{ not json".utf8).write(to: workspace.data.manifest("20250101T000000Z-broken"))
        let listing = workspace.data.manifestListing()
        #expect(listing.items.map(\.id) == [good.id])
        #expect(listing.problems.count == 1)
        #expect(listing.problems.first?.path.hasSuffix("20250101T000000Z-broken/run.json") == true)

        // A damaged commit marker stops the customer with the file's path, instead of a guess.
        let commit = workspace.data.stage(run: good.id, customer: "hooli", index: 2, stageID: "fetch-workflow-pages").appendingPathComponent(StageFiles.commit)
        try Data("garbage".utf8).write(to: commit)
        var manifest = try workspace.data.loadManifest(good.id)
        manifest.status = .failed
        manifest.results = [CustomerResult(customer: "hooli", status: .failed)]
        try CanonicalJSON.write(manifest, to: workspace.data.manifest(good.id))
        let resumed = try await workspace.runner(transport: FixtureTransport(mock: try workspace.mock())).resume(runID: good.id, customers: workspace.customers(["hooli"]))
        let error = try #require(resumed.result(for: "hooli")?.error)
        #expect(error.contains(commit.path))

        // A job file from a newer tool, or a damaged one, is listed as a problem, not hidden.
        let queue = JobQueue(dataDirectory: workspace.data)
        try queue.prepare()
        try Data(#"{"formatVersion": 9}"#.utf8).write(to: queue.file("future", .waiting))
        let jobs = queue.listing()
        #expect(jobs.items.isEmpty)
        #expect(jobs.problems.first?.message.contains("newer zuora-sync") == true)
    }

    @Test func aRunningRunWhoseProcessIsGoneShowsAsInterrupted() throws {
        var manifest = RunManifest(id: "r", sequence: 1, pipelineName: "p", pipelinePath: "p", pipeline: PipelineDefinition(name: "p", stages: []),
                                   customers: [], options: RunOptions(), status: .running, startedAt: Date(timeIntervalSince1970: 0), results: [])
        manifest.process = RunProcess(pid: 4_000_000, host: ProcessEnvironment.hostName())
        #expect(manifest.observedStatus() == .interrupted)
        manifest.process = RunProcess.current()
        #expect(manifest.observedStatus() == .running)
        manifest.process = nil
        #expect(manifest.observedStatus() == .interrupted)
    }
}

/// SQL for the test's own stage kind.
enum GRDBRows {
    static func actionTypeCounts(_ db: GRDB.Database, customer: String) throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try GRDB.Row.fetchAll(db, sql: """
            SELECT t.action_type AS type, COUNT(*) AS n FROM tasks t JOIN workflows w ON w.id = t.workflow_id
            JOIN customers c ON c.id = w.customer_id WHERE c.slug = ? GROUP BY t.action_type
            """, arguments: [customer]) {
            result[row["type"] ?? "?"] = row["n"]
        }
        return result
    }
}

/// Run manifests are read once per file in a process, however often a run lists them, and read
/// again when their file is replaced; a removed run is forgotten.
@Suite struct ManifestMemoTests {
    @Test func aManifestIsReadOncePerFileAndAgainWhenReplaced() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-memo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        PathSafety.protect(root)
        let directory = DataDirectory(root)
        func write(_ id: String, sequence: Int, status: RunStatus) throws {
            let manifest = RunManifest(id: id, sequence: sequence, pipelineName: "p", pipelinePath: "p", pipeline: PipelineDefinition(name: "p", stages: []),
                                       customers: [], options: RunOptions(), status: status, startedAt: Date(timeIntervalSince1970: 0), results: [])
            try FileManager.default.createDirectory(at: directory.run(id), withIntermediateDirectories: true)
            try AtomicFile.write(CanonicalJSON.encode(manifest, formatVersion: RunManifest.currentFormatVersion), to: directory.manifest(id))
        }
        let first = "20260101T000000Z-aaaaaa", second = "20260101T000100Z-bbbbbb"
        try write(first, sequence: 1, status: .succeeded)
        try write(second, sequence: 2, status: .running)
        let memo = ManifestMemo.shared
        var reads: Int { memo.reads(in: directory.runs) }
        let before = reads
        #expect(directory.manifests().map(\.id) == [second, first])
        let afterFirstListing = reads
        #expect(before == 0 && afterFirstListing == 2)
        #expect(directory.manifests().map(\.status) == [.running, .succeeded])
        #expect(directory.nextSequence() == 3)
        #expect(reads == afterFirstListing, "listed again: nothing read again")
        // Replaced (a new file under the same name): read again, and only that one.
        try write(second, sequence: 2, status: .failed)
        #expect(directory.manifests().map(\.status) == [.failed, .succeeded])
        #expect(reads == afterFirstListing + 1)
        // Removed: no longer listed, and forgotten.
        try FileManager.default.removeItem(at: directory.run(first))
        #expect(directory.manifests().map(\.id) == [second])
        try write(first, sequence: 1, status: .succeeded)
        #expect(directory.manifests().count == 2)
        #expect(reads == afterFirstListing + 2, "a run written again under a removed run's name is read")
    }
}
