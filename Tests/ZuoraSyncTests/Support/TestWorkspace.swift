import Foundation
import GRDB
import Logging
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncHTTP
@testable import ZuoraSyncJobs
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// A temporary directory with freshly generated demo fixtures and an empty data directory, plus
/// helpers to run the pipeline on them in process.
final class TestWorkspace {
    let root: URL
    let fixtures: URL
    let data: DataDirectory

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-tests-\(UUID().uuidString)")
        fixtures = root.appendingPathComponent("fixtures")
        data = DataDirectory(root.appendingPathComponent("data"))
        try FileManager.default.createDirectory(at: data.root, withIntermediateDirectories: true)
        try FixtureGenerator.writeDemo(to: fixtures)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    static let pipelinePath = repositoryRoot.appendingPathComponent("pipelines/sync-workflows.yaml").path

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func pipeline(_ change: (inout PipelineDefinition) -> Void = { _ in }) throws -> PipelineDefinition {
        var definition = try PipelineLoader.load(path: Self.pipelinePath, registry: BuiltInStages.registry)
        definition.retry.baseDelayMilliseconds = 1
        definition.retry.maxDelayMilliseconds = 5
        change(&definition)
        return definition
    }

    func customers(_ ids: [String] = ["globex", "initech", "hooli"]) -> [CustomerConfig] {
        ids.map { id in
            CustomerConfig(id: id, name: id.capitalized, baseURL: URL(string: "fixture://\(id)")!, clientID: "\(id)-client",
                           secret: .inline("\(id)-demo-secret"))
        }
    }

    func runner(transport: any HTTPTransport, clock: any WallClock = ManualClock(), runID: String? = nil, logger given: Logger? = nil) -> PipelineRunner {
        var logger = given ?? Logger(label: "test")
        if given == nil { logger.logLevel = .critical }
        let fixed = runID
        return PipelineRunner(dataDirectory: data, registry: BuiltInStages.registry, transport: transport, clock: clock, logger: logger, environment: [:],
                              makeRunID: { [data] date in
                                  let id = fixed ?? DataDirectory.newRunID(at: date)
                                  RunLocations.record(id, data)
                                  return id
                              })
    }

    func mock(clock: any WallClock = ManualClock(), faults: String = "") throws -> MockZuora {
        MockZuora(fixtures: fixtures, clock: clock, faults: try FaultPlan(spec: faults))
    }

    /// Runs the default pipeline once.
    @discardableResult
    func sync(_ ids: [String] = ["globex", "initech", "hooli"], mock: MockZuora? = nil, clock: ManualClock = ManualClock(),
              options: RunOptions = RunOptions(), runID: String? = nil,
              pipeline change: (inout PipelineDefinition) -> Void = { _ in }) async throws -> RunManifest {
        let mock = try mock ?? self.mock(clock: clock)
        return try await runner(transport: FixtureTransport(mock: mock), clock: clock, runID: runID)
            .start(pipeline: try pipeline(change), pipelinePath: "pipelines/sync-workflows.yaml", customers: customers(ids), options: options)
    }

    var store: Store { get throws { try Store(url: data.storeFile) } }

    /// Every row of every table, in a stable order, as text: for "ends identical" comparisons.
    /// Row ids and sync times are left out (they legitimately differ between two runs).
    func databaseDump() throws -> String {
        try store.sqliteWriter!.read { db in
            var lines: [String] = []
            let queries = [
                "SELECT slug, name, base_url FROM customers ORDER BY slug",
                "SELECT c.slug, w.zuora_id, w.name, w.description, w.status, w.type, w.version, w.created_on, w.updated_on, w.export_sha256, length(w.export) FROM workflows w JOIN customers c ON c.id = w.customer_id ORDER BY c.slug, w.zuora_id",
                "SELECT c.slug, w.zuora_id, t.zuora_task_id, t.parent_task_id, t.name, t.action_type, t.parameters, t.tags, t.css FROM tasks t JOIN workflows w ON w.id = t.workflow_id JOIN customers c ON c.id = w.customer_id ORDER BY c.slug, w.zuora_id, t.zuora_task_id",
                "SELECT c.slug, w.zuora_id, l.linkage_type, l.source_workflow_id, l.source_task_id, l.target_task_id FROM linkages l JOIN workflows w ON w.id = l.workflow_id JOIN customers c ON c.id = w.customer_id ORDER BY c.slug, w.zuora_id, l.id",
            ]
            for sql in queries {
                for row in try Row.fetchAll(db, sql: sql) {
                    lines.append(row.databaseValues.map { $0.description }.joined(separator: "|"))
                }
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Relative path → bytes of every file under a directory.
    func files(under directory: URL) -> [String: Data] {
        var result: [String: Data] = [:]
        let base = directory.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) else { return [:] }
        for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            let relative = String(url.standardizedFileURL.path.dropFirst(base.count + 1))
            result[relative] = try? Data(contentsOf: url)
        }
        return result
    }

    /// Changes one workflow of a fixture tenant (list item and export) as if edited upstream.
    func editUpstream(tenant: String, workflowID: Int64, updatedAt: String,
                      change: (inout [String: JSONValue], inout [String: JSONValue]) -> Void) throws {
        let tenantDirectory = fixtures.appendingPathComponent(tenant)
        let listURL = tenantDirectory.appendingPathComponent("workflows.json")
        var items = try JSONValue.parse(Data(contentsOf: listURL)).arrayValue!
        let index = items.firstIndex { $0["id"]?.intValue == workflowID }!
        var item = items[index].objectValue!
        item["updatedAt"] = .string(updatedAt)
        let exportURL = tenantDirectory.appendingPathComponent("exports/\(workflowID).json")
        var export = try JSONValue.parse(Data(contentsOf: exportURL)).objectValue!
        change(&item, &export)
        items[index] = .object(item)
        try AtomicFile.write(JSONValue.array(items).canonicalData(), to: listURL)
        try AtomicFile.write(JSONValue.object(export).canonicalData(), to: exportURL)
    }

    /// Removes workflows from a fixture tenant's listing (as if deleted upstream).
    func deleteUpstream(tenant: String, where shouldDelete: (Int64) -> Bool) throws {
        let listURL = fixtures.appendingPathComponent(tenant).appendingPathComponent("workflows.json")
        let items = try JSONValue.parse(Data(contentsOf: listURL)).arrayValue!
        try AtomicFile.write(JSONValue.array(items.filter { !shouldDelete($0["id"]?.intValue ?? -1) }).canonicalData(), to: listURL)
    }
}

/// A transport that forwards to another and fails every call after the first `limit`, as a
/// network that goes away mid-run.
final class FailingAfterTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: `calls` is only touched under `lock`.
    private let lock = NSLock()
    private var calls = 0
    let base: any HTTPTransport
    let limit: Int

    init(base: any HTTPTransport, limit: Int) {
        self.base = base
        self.limit = limit
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let number = lock.withLock { calls += 1; return calls }
        if number > limit { throw HTTPTransportError(.connectionRefused, "test network is down") }
        return try await base.send(request)
    }
}
