import Foundation
import Logging

/// Runs a pipeline for a set of customers into the data directory, and resumes unfinished runs.
/// Customers are independent: one failing does not stop the others.
public struct PipelineRunner: Sendable {
    public var dataDirectory: DataDirectory
    public var transport: any HTTPTransport
    public var clock: any WallClock
    public var logger: Logger
    public var environment: [String: String]
    /// Makes run ids; tests pin it for golden files.
    public var makeRunID: @Sendable (Date) -> String

    public init(dataDirectory: DataDirectory, transport: any HTTPTransport, clock: any WallClock = SystemClock(),
                logger: Logger = Logger(label: "zuora-sync"), environment: [String: String] = ProcessInfo.processInfo.environment,
                makeRunID: @escaping @Sendable (Date) -> String = DataDirectory.newRunID) {
        self.dataDirectory = dataDirectory
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.environment = environment
        self.makeRunID = makeRunID
    }

    /// Starts a new run and carries it as far as it goes.
    public func start(pipeline: PipelineDefinition, pipelinePath: String, customers: [CustomerConfig],
                      options: RunOptions = RunOptions()) async throws -> RunManifest {
        let now = clock.now()
        let id = makeRunID(now)
        let manifest = RunManifest(id: id, sequence: dataDirectory.nextSequence(), pipelineName: pipeline.name, pipelinePath: pipelinePath, pipeline: pipeline,
                                   customers: customers.map(\.id), options: options, status: .running, startedAt: now,
                                   finishedAt: nil, passes: 1,
                                   results: customers.map { CustomerResult(customer: $0.id, status: .pending) })
        logger.info("run.started", metadata: ["run": "\(id)", "pipeline": "\(pipeline.name)", "customers": "\(customers.count)"])
        return try await execute(manifest: manifest, configs: customers)
    }

    /// Resumes a run (default: the newest one that did not succeed): committed stages are skipped,
    /// customers that succeeded are left alone.
    public func resume(runID: String?, customers: [CustomerConfig]) async throws -> RunManifest {
        var manifest: RunManifest
        if let runID {
            manifest = try dataDirectory.loadManifest(runID)
        } else {
            guard let latest = dataDirectory.manifests().first(where: { $0.status != .succeeded }) else {
                throw FileError(path: dataDirectory.runs.path, message: "no unfinished run to resume; start one with `zuora-sync run`.")
            }
            manifest = latest
        }
        manifest.passes += 1
        manifest.status = .running
        manifest.finishedAt = nil
        logger.info("run.resumed", metadata: ["run": "\(manifest.id)", "pass": "\(manifest.passes)"])
        return try await execute(manifest: manifest, configs: customers)
    }

    private func execute(manifest: RunManifest, configs: [CustomerConfig]) async throws -> RunManifest {
        let journal = try RunJournal(manifest: manifest, url: dataDirectory.manifest(manifest.id))
        let options = manifest.options
        let store = options.dryRun ? try Store.openForReading(url: dataDirectory.storeFile) : try Store(url: dataDirectory.storeFile)
        let pending = manifest.customers.filter { manifest.result(for: $0)?.status != .succeeded }
        let limit = manifest.pipeline.customerConcurrency

        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for slug in pending {
                if running >= limit {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask {
                    let result = await runCustomer(slug: slug, manifest: manifest, configs: configs, store: store)
                    do { try await journal.setResult(result) } catch {
                        logger.error("run.journal.write_failed", metadata: ["customer": "\(slug)", "error": "\(error)"])
                    }
                }
            }
        }
        try await journal.update { manifest in
            manifest.finishedAt = clock.now()
            manifest.status = manifest.results.allSatisfy { $0.status == .succeeded } ? .succeeded : .failed
        }
        let final = await journal.manifest
        logger.info("run.finished", metadata: ["run": "\(final.id)", "status": "\(final.status.rawValue)"])
        return final
    }

    private func runCustomer(slug: String, manifest: RunManifest, configs: [CustomerConfig], store: Store) async -> CustomerResult {
        var result = CustomerResult(customer: slug, status: .running)
        let started = clock.now()
        result.startedAt = started
        var customerLogger = logger
        customerLogger[metadataKey: "customer"] = "\(slug)"
        customerLogger[metadataKey: "run"] = "\(manifest.id)"
        guard let customer = configs.first(where: { $0.id == slug }) else {
            result.status = .failed
            result.error = "customer '\(slug)' is no longer in the customers file; add it back or start a new run"
            result.isRetryable = false
            result.finishedAt = started
            return result
        }
        let options = manifest.options
        let services = CustomerServices(
            customer: customer, store: store, dataDirectory: dataDirectory, clock: clock, logger: customerLogger,
            transport: transport, environment: environment, pipeline: manifest.pipeline,
            tokenCache: options.dryRun ? nil : TokenCache(dataDirectory: dataDirectory.root))
        var currentStage: StageDefinition?
        do {
            let lock = try CustomerLock.acquire(customer: slug, in: dataDirectory, now: started)
            defer { lock.release() }
            var commits: [StageKind: StageCommit] = [:]
            var earlier: [StageKind: URL] = [:]
            var previousFingerprint = ""
            for (index, definition) in manifest.pipeline.stages.enumerated() {
                currentStage = definition
                let directory = dataDirectory.stage(run: manifest.id, customer: slug, index: index, stageID: definition.id)
                let fingerprint = try Self.fingerprint(definition, customer: customer, options: options, previous: previousFingerprint)
                let commitURL = directory.appendingPathComponent("commit.json")
                if let commit = try? CanonicalJSON.read(StageCommit.self, from: commitURL), commit.fingerprint == fingerprint {
                    customerLogger.info("stage.already_committed", metadata: ["stage": "\(definition.id)"])
                    commits[definition.kind] = commit
                } else {
                    if FileManager.default.fileExists(atPath: commitURL.path) {
                        // Inputs changed since this stage committed: redo it from scratch.
                        try FileManager.default.removeItem(at: directory)
                    }
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    let stageStarted = clock.now()
                    let context = StageContext(runID: manifest.id, runStartedAt: manifest.startedAt, customer: customer,
                                               definition: definition, options: options, directory: directory,
                                               services: services, earlierStages: earlier)
                    let report = try await definition.kind.makeStage().run(context)
                    let finished = clock.now()
                    let commit = StageCommit(stageID: definition.id, kind: definition.kind, status: report.status, counts: report.counts,
                                             warnings: report.warnings, startedAt: stageStarted, finishedAt: finished,
                                             durationMilliseconds: Int(finished.timeIntervalSince(stageStarted) * 1000),
                                             fingerprint: fingerprint)
                    try CanonicalJSON.write(commit, to: commitURL)
                    for warning in report.warnings {
                        customerLogger.warning("stage.warning", metadata: ["stage": "\(definition.id)", "warning": "\(warning)"])
                    }
                    customerLogger.info("stage.committed", metadata: ["stage": "\(definition.id)", "counts": "\(report.counts)"])
                    commits[definition.kind] = commit
                }
                earlier[definition.kind] = directory
                previousFingerprint = fingerprint
            }
            currentStage = nil
            result.summary = try summarize(commits: commits, earlier: earlier, customer: customer, store: store)
            if !options.dryRun {
                let fullExport = (try? CanonicalJSON.read(DownloadExportsResult.self,
                                                           from: earlier[.downloadExports]?.appendingPathComponent("result.json")
                                                               ?? URL(fileURLWithPath: "/nonexistent")))?.isFullPass ?? false
                try store.recordCustomerResult(slug: slug, syncedAt: clock.now(), result: "succeeded", fullExport: fullExport)
                try CustomerState.record(runID: manifest.id, customer: slug, at: clock.now(), store: store,
                                         objects: ObjectStore(dataDirectory: dataDirectory.root),
                                         to: dataDirectory.customerState(run: manifest.id, customer: slug))
            }
            result.status = .succeeded
        } catch {
            let secret = try? services.secret()
            result.status = .failed
            result.failedStage = currentStage?.id
            result.error = redact(Self.describe(error), secrets: [secret].compactMap { $0 })
            result.isRetryable = Self.isRetryable(error)
            customerLogger.error("customer.failed", metadata: ["stage": "\(currentStage?.id ?? "-")", "error": "\(result.error!)"])
            if !options.dryRun {
                _ = try? store.upsertCustomer(customer)
                try? store.recordCustomerResult(slug: slug, syncedAt: clock.now(), result: "failed", fullExport: false)
            }
        }
        let finished = clock.now()
        result.finishedAt = finished
        if result.summary != nil { result.summary!.durationMilliseconds = Int(finished.timeIntervalSince(started) * 1000) }
        return result
    }

    private func summarize(commits: [StageKind: StageCommit], earlier: [StageKind: URL], customer: CustomerConfig,
                           store: Store) throws -> CustomerSummary {
        var summary = CustomerSummary()
        func count(_ kind: StageKind, _ key: String) -> Int { commits[kind]?.counts[key] ?? 0 }
        summary.listed = count(.fetchWorkflowPages, "listed")
        summary.exportsDownloaded = count(.downloadExports, "downloaded")
        summary.exportsSkipped = count(.downloadExports, "unchanged")
        summary.exportsFailed = count(.downloadExports, "failed")
        summary.created = count(.saveWorkflows, "created")
        summary.updated = count(.saveWorkflows, "updated")
        summary.unchanged = count(.saveWorkflows, "unchanged")
        summary.deleted = count(.cleanupObsolete, "deleted")
        summary.warnings = commits.values.reduce(0) { $0 + $1.warnings.count }
        let totals = try store.counts(customerSlug: customer.id)
        summary.workflows = totals.workflows
        summary.tasks = totals.tasks
        if let directory = earlier[.saveWorkflows], let plan = try? CanonicalJSON.read(SavePlan.self, from: directory.appendingPathComponent("plan.json")) {
            summary.changes += plan.items.filter { $0.action != .unchanged }.map { ($0.action == .created ? "+ " : "~ ") + "\($0.listed.id) \($0.listed.name)" }
        }
        if let directory = earlier[.cleanupObsolete], let plan = try? CanonicalJSON.read(CleanupPlan.self, from: directory.appendingPathComponent("plan.json")), plan.isApplied {
            summary.changes += plan.obsolete.map { "- \($0.id) \($0.name)" }
        }
        return summary
    }

    static func fingerprint(_ definition: StageDefinition, customer: CustomerConfig, options: RunOptions, previous: String) throws -> String {
        struct Input: Encodable {
            var stage: StageDefinition
            var customer: String
            var options: RunOptions
            var previous: String
        }
        return Digest.sha256Hex(try CanonicalJSON.encode(Input(stage: definition, customer: customer.identity, options: options, previous: previous)))
    }

    static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let failure as StageFailure: return failure.isRetryable
        case let zuora as ZuoraError: return zuora.isRetryable
        case is ConfigurationError, is SecretError: return false
        default: return true
        }
    }

    static func describe(_ error: any Error) -> String { String(describing: error) }
}
