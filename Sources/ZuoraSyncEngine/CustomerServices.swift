import Foundation
import Logging
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncHTTP
import ZuoraSyncStore

/// The customer's long-lived collaborators for one run: the store, snapshots, clock, and the Zuora
/// client (made on first use, so a resumed run that skips validation still resolves the secret).
public final class CustomerServices: @unchecked Sendable {
    // @unchecked: the only mutable state, `cachedClient`, is guarded by `lock`.
    public let customer: CustomerConfig
    public let store: Store
    public let snapshots: SnapshotWriter
    public let dataDirectory: DataDirectory
    public let clock: any WallClock
    public let random: RandomSource
    public let logger: Logger
    /// Events of this customer's part of the run (progress, retries, waits) and its request counts.
    public let events: EventReporter
    let transport: any HTTPTransport
    let environment: [String: String]
    let pipeline: PipelineDefinition
    let tokenCache: TokenCache?
    private let lock = NSLock()
    private var cachedClient: ZuoraClient?

    public init(customer: CustomerConfig, store: Store, dataDirectory: DataDirectory, clock: any WallClock, random: RandomSource = .system,
                logger: Logger, transport: any HTTPTransport, environment: [String: String], pipeline: PipelineDefinition,
                tokenCache: TokenCache?, events: EventReporter? = nil) {
        self.events = events ?? EventReporter.silent(clock: clock)
        self.customer = customer
        self.store = store
        self.snapshots = SnapshotWriter(dataDirectory: dataDirectory.root)
        self.dataDirectory = dataDirectory
        self.clock = clock
        self.random = random
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

    /// The customer's Zuora client; its request concurrency comes from the pipeline's `client:`.
    public func client() throws -> ZuoraClient {
        if let client = lock.withLock({ cachedClient }) { return client }
        let secret = try secret()
        let policy = RetryPolicy(settings: pipeline.retry, random: random)
        let tokens = TokenProvider(customer: customer, secret: secret, transport: transport, clock: clock, cache: tokenCache,
                                   policy: policy, logger: logger)
        let client = ZuoraClient(customer: customer, tokens: tokens, transport: transport, policy: policy,
                                 concurrency: pipeline.client.concurrency, clock: clock, logger: logger, limits: pipeline.http, events: events)
        return lock.withLock {
            if let existing = cachedClient { return existing }
            cachedClient = client
            return client
        }
    }
}
