import Foundation
import Logging
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncHTTP
import ZuoraSyncStore

/// Runs one stage kind on its own, for unit tests: a temporary data directory, a store, a
/// customer, a manual clock, and the results of earlier stages given as typed values (written
/// where the stage will read them). Any HTTP request goes to `transport`, which by default fails
/// on every request.
public final class StageHarness: @unchecked Sendable {
    // @unchecked: mutated only by the test that owns it, before and between stage runs.
    public let root: URL
    public let dataDirectory: DataDirectory
    public let store: Store
    public let clock: ManualClock
    public var customer: CustomerConfig
    public var options = RunOptions()
    public var runID = "20260101T000000Z-test00"
    public var transport: any HTTPTransport
    public var pipeline = PipelineDefinition(name: "harness", stages: [])
    /// Every event the stages run here reported (progress, retries, waits), in order.
    public let events = RecordedRunEvents()
    private var earlier: [String: URL] = [:]
    private var index = 0

    public init(customer: CustomerConfig = CustomerConfig(id: "acme", name: "Acme", baseURL: URL(string: "fixture://acme")!,
                                                          clientID: "acme-client", secret: .inline("acme-secret")),
                transport: any HTTPTransport = ScriptedTransport()) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-stage-\(UUID().uuidString)")
        dataDirectory = DataDirectory(root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        store = try Store(url: dataDirectory.storeFile)
        clock = ManualClock()
        self.customer = customer
        self.transport = transport
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Records `result` as the committed output of an earlier stage of kind `K`; returns its directory.
    @discardableResult
    public func given<K: StageKind>(_ kind: K.Type, result: K.Result) throws -> URL {
        let directory = nextDirectory(K.name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try StageResultFile.write(result, formatVersion: K.resultFormatVersion, in: directory)
        earlier[K.name] = directory
        return directory
    }

    /// Runs a stage of kind `K` with settings read from `settings` (defaults for missing keys),
    /// and returns its output. Its directory becomes an earlier stage for the next call.
    public func run<K: StageKind>(_ kind: K.Type, settings: [String: JSONValue] = [:]) async throws -> (output: StageOutput<K.Result>, directory: URL) {
        let directory = nextDirectory(K.name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var logger = Logger(label: "stage-harness")
        logger.logLevel = .critical
        let services = CustomerServices(customer: customer, store: store, dataDirectory: dataDirectory, clock: clock,
                                        random: .seeded(1), logger: logger, transport: transport, environment: [:],
                                        pipeline: pipeline, tokenCache: nil,
                                        events: EventReporter(sink: events, clock: clock, run: runID, customer: customer.id))
        services.events.stage = K.name
        let context = StageContext(runID: runID, runStartedAt: clock.now(), customer: customer, stageID: K.name, options: options,
                                   directory: directory, services: services, earlierStages: earlier)
        let typed = try K.Settings(reading: StoredSettingsReader(values: settings, source: "test settings"))
        let output = try await K().run(context, settings: typed)
        try StageResultFile.write(output.result, formatVersion: K.resultFormatVersion, in: directory)
        earlier[K.name] = directory
        return (output, directory)
    }

    private func nextDirectory(_ name: String) -> URL {
        index += 1
        return dataDirectory.stage(run: runID, customer: customer.id, index: index - 1, stageID: name)
    }
}
