import Foundation
import Logging

/// One stage kind's implementation. A stage reads earlier stages' outputs through its context,
/// writes its own outputs into `context.directory`, and reports counts and warnings; the runner
/// writes the commit marker after it returns.
public protocol PipelineStage: Sendable {
    func run(_ context: StageContext) async throws -> StageReport
}

extension StageKind {
    /// The implementation of this kind.
    public func makeStage() -> any PipelineStage {
        switch self {
        case .validateCredentials: return ValidateCredentialsStage()
        case .oauthToken: return OAuthTokenStage()
        case .fetchWorkflowPages: return FetchWorkflowPagesStage()
        case .downloadExports: return DownloadExportsStage()
        case .saveWorkflows: return SaveWorkflowsStage()
        case .extractTasks: return ExtractTasksStage()
        case .cleanupObsolete: return CleanupObsoleteStage()
        }
    }
}

/// What a stage may see and use: its settings, its directory, earlier outputs, and the customer's services.
public struct StageContext: Sendable {
    public let runID: String
    public let runStartedAt: Date
    public let customer: CustomerConfig
    public let definition: StageDefinition
    public let options: RunOptions
    /// This stage's output directory (created before `run`).
    public let directory: URL
    public let services: CustomerServices
    let earlierStages: [StageKind: URL]

    /// The output directory of an earlier stage of this pipeline.
    public func directory(of kind: StageKind) throws -> URL {
        guard let url = earlierStages[kind] else {
            throw StageFailure("stage '\(definition.id)' needs a '\(kind.rawValue)' stage before it", isRetryable: false)
        }
        return url
    }

    /// Decodes an earlier stage's `result.json`.
    public func result<T: Decodable>(of kind: StageKind, as type: T.Type) throws -> T {
        try CanonicalJSON.read(type, from: directory(of: kind).appendingPathComponent("result.json"))
    }

    /// Writes this stage's `result.json`.
    public func writeResult<T: Encodable>(_ value: T) throws {
        try CanonicalJSON.write(value, to: directory.appendingPathComponent("result.json"))
    }

    public var logger: Logger {
        var logger = services.logger
        logger[metadataKey: "stage"] = "\(definition.id)"
        return logger
    }
}

/// The customer's long-lived collaborators for one run: the store, snapshots, clock, and the Zuora
/// client (made on first use, so a resumed run that skips validation still resolves the secret).
public final class CustomerServices: @unchecked Sendable {
    // @unchecked: the only mutable state, `cachedClient`, is guarded by `lock`.
    public let customer: CustomerConfig
    public let store: Store
    public let snapshots: SnapshotWriter
    public let dataDirectory: DataDirectory
    public let clock: any WallClock
    public let logger: Logger
    let transport: any HTTPTransport
    let environment: [String: String]
    let pipeline: PipelineDefinition
    let tokenCache: TokenCache?
    private let lock = NSLock()
    private var cachedClient: ZuoraClient?

    init(customer: CustomerConfig, store: Store, dataDirectory: DataDirectory, clock: any WallClock, logger: Logger,
         transport: any HTTPTransport, environment: [String: String], pipeline: PipelineDefinition, tokenCache: TokenCache?) {
        self.customer = customer
        self.store = store
        self.snapshots = SnapshotWriter(dataDirectory: dataDirectory.root)
        self.dataDirectory = dataDirectory
        self.clock = clock
        self.logger = logger
        self.transport = transport
        self.environment = environment
        self.pipeline = pipeline
        self.tokenCache = tokenCache
    }

    /// The customer's secret; a missing one fails the customer for good (no retry helps).
    public func secret() throws -> String {
        do { return try customer.secret.resolve(environment: environment) } catch let error as SecretError {
            throw StageFailure("customer '\(customer.id)': \(error.message)", isRetryable: false)
        }
    }

    /// The customer's Zuora client.
    public func client() throws -> ZuoraClient {
        if let client = lock.withLock({ cachedClient }) { return client }
        let secret = try secret()
        let policy = RetryPolicy(settings: pipeline.retry)
        let tokens = TokenProvider(customer: customer, secret: secret, transport: transport, clock: clock, cache: tokenCache,
                                   policy: policy, logger: logger)
        let concurrency = pipeline.stage(.downloadExports)?.concurrency ?? 8
        let client = ZuoraClient(customer: customer, tokens: tokens, transport: transport, policy: policy,
                                 concurrency: concurrency, clock: clock, logger: logger)
        return lock.withLock {
            if let existing = cachedClient { return existing }
            cachedClient = client
            return client
        }
    }
}
