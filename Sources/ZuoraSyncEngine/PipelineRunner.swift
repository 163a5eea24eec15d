import Foundation
import Logging
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncHTTP
import ZuoraSyncStore

/// Runs a pipeline for a set of customers into the data directory, and resumes unfinished runs.
/// Customers are independent: one failing does not stop the others. Cancelling the task (SIGINT,
/// SIGTERM) stops the stages in progress; the run is then recorded as `interrupted`.
public struct PipelineRunner: Sendable {
    public var dataDirectory: DataDirectory
    public var registry: StageRegistry
    public var transport: any HTTPTransport
    public var clock: any WallClock
    public var random: RandomSource
    public var logger: Logger
    public var environment: [String: String]
    /// Makes run ids; tests pin it for golden files.
    public var makeRunID: @Sendable (Date) -> String
    /// Who watches the run (progress display, `--events`); every run also appends its events to
    /// `runs/<run-id>/events.jsonl`.
    public var events: any RunEventSink
    /// The store (`--store`, `store:`): SQLite in the data directory unless PostgreSQL is chosen.
    public var storeLocation: StoreLocation = .sqlite(path: nil)
    /// The store the last run opened at `storeLocation`, kept for the caller (the command writes
    /// the metrics file from a PostgreSQL store's job queue after the run: one connection and one
    /// schema check fewer than opening it again).
    public let openedStore = OpenedStore()
    /// Caps how many published items a streaming stage holds before its producer waits
    /// (`StageContext.partials(of:holdingAtMost:)`); nil keeps each stage's own. Tests set 1, so
    /// that every producer waits on every item.
    public var streamHoldLimit: Int?

    public init(dataDirectory: DataDirectory, registry: StageRegistry, transport: any HTTPTransport, clock: any WallClock = SystemClock(),
                random: RandomSource = .system, logger: Logger = Logger(label: "zuora-sync"), environment: [String: String],
                makeRunID: (@Sendable (Date) -> String)? = nil, events: any RunEventSink = NoRunEvents()) {
        self.events = events
        self.dataDirectory = dataDirectory
        self.registry = registry
        self.transport = transport
        self.clock = clock
        self.random = random
        self.logger = logger
        self.environment = environment
        self.makeRunID = makeRunID ?? { date in DataDirectory.newRunID(at: date, random: random) }
    }

    /// Starts a new run and carries it as far as it goes.
    public func start(pipeline: PipelineDefinition, pipelinePath: String, customers: [CustomerConfig],
                      options: RunOptions = RunOptions()) async throws -> RunManifest {
        let now = clock.now()
        let id = makeRunID(now)
        let manifest = RunManifest(id: id, sequence: dataDirectory.nextSequence(), pipelineName: pipeline.name, pipelinePath: pipelinePath,
                                   pipeline: pipeline, customers: customers.map(\.id), options: options, status: .running, startedAt: now,
                                   results: customers.map { CustomerResult(customer: $0.id, status: .pending) })
        logger.info("run.started", metadata: ["run": "\(id)", "pipeline": "\(pipeline.name)", "customers": "\(customers.count)"])
        return try await execute(manifest: manifest, configs: customers)
    }

    /// The run `resume` would pick: the given one, else the newest that did not succeed.
    /// Without an id, a run whose unfinished customers were all synced by a later run is skipped.
    public func runToResume(_ runID: String?) throws -> RunManifest? {
        if let runID { return try dataDirectory.loadManifest(runID) }
        let manifests = dataDirectory.manifests()
        return manifests.first { manifest in
            guard manifest.status != .succeeded else { return false }
            let unfinished = manifest.customers.filter { manifest.result(for: $0)?.status != .succeeded }
            let superseding = Self.supersedingRuns(of: manifest, in: manifests)
            return unfinished.contains { superseding[$0] == nil }
        }
    }

    /// Resumes a run (default: the newest one that did not succeed): committed stages are skipped,
    /// customers that succeeded are left alone. A run whose process is still alive is refused.
    public func resume(runID: String?, customers: [CustomerConfig]) async throws -> RunManifest {
        guard var manifest = try runToResume(runID) else {
            throw FileError(path: dataDirectory.runs.path, message: "no unfinished run to resume; start one with `zuora-sync run`.")
        }
        // Worked on by a live process (on any host): its run lock is held.
        if RunLock.isHeld(runDirectory: dataDirectory.run(manifest.id)) {
            throw RunInProgressError(runID: manifest.id, process: manifest.process)
        }
        manifest.passes += 1
        manifest.status = .running
        manifest.finishedAt = nil
        logger.info("run.resumed", metadata: ["run": "\(manifest.id)", "pass": "\(manifest.passes)"])
        return try await execute(manifest: manifest, configs: customers)
    }

    private func execute(manifest original: RunManifest, configs: [CustomerConfig]) async throws -> RunManifest {
        var started = original
        started.process = RunProcess.current()
        let manifest = started
        for definition in manifest.pipeline.stages where registry.kind(named: definition.kind) == nil {
            throw ConfigurationError(file: dataDirectory.manifest(manifest.id).path, keyPath: "stages",
                                     message: "stage '\(definition.id)' has kind '\(definition.kind)', which this zuora-sync does not know. Known: \(registry.names.joined(separator: ", ")).")
        }
        // One process per run: two resumes of one run would each rewrite run.json.
        guard let runLock = try RunLock.acquire(runDirectory: dataDirectory.run(manifest.id)) else {
            throw RunInProgressError(runID: manifest.id, process: original.process)
        }
        defer { runLock.release() }
        AtomicFile.forgetCheckedDirectories()
        sweepTemporaryFiles(manifest)
        let journal = try RunJournal(manifest: manifest, url: dataDirectory.manifest(manifest.id))
        let eventLog = RunEventLog(url: dataDirectory.events(manifest.id))
        defer { eventLog.close() }
        let sink = RunEventFanOut([eventLog, events])
        let options = manifest.options
        let store = openedStore.keep(try Store.opening(storeLocation, dataDirectory: dataDirectory, environment: environment, readOnly: options.dryRun))
        let pending = manifest.customers.filter { manifest.result(for: $0)?.status != .succeeded }
        let superseding = manifest.passes > 1 ? Self.supersedingRuns(of: manifest, in: dataDirectory.manifests()) : [:]
        let limit = manifest.pipeline.customerConcurrency
        var startedEvent = RunEvent(.runStarted, time: clock.now(), run: manifest.id)
        startedEvent.total = pending.count
        startedEvent.status = manifest.passes > 1 ? "resumed" : "started"
        startedEvent.message = "pipeline \(manifest.pipelineName), pass \(manifest.passes)"
        sink.emit(startedEvent)

        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for slug in pending {
                if running >= limit {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask {
                    let result: CustomerResult
                    if let later = superseding[slug] {
                        result = Self.superseded(slug, by: later, at: clock.now())
                    } else {
                        result = await runCustomer(slug: slug, manifest: manifest, configs: configs, store: store, sink: sink)
                    }
                    do { try await journal.setResult(result) } catch {
                        logger.error("run.journal.write_failed", metadata: ["customer": "\(slug)", "error": "\(error)"])
                    }
                }
            }
        }
        let wasCancelled = Task.isCancelled
        try await journal.update { manifest in
            manifest.finishedAt = clock.now()
            manifest.process = nil
            if wasCancelled || manifest.results.contains(where: { $0.status == .interrupted || $0.status == .pending }) {
                manifest.status = .interrupted
            } else {
                manifest.status = manifest.results.allSatisfy { $0.status == .succeeded } ? .succeeded : .failed
            }
        }
        if !options.dryRun, !wasCancelled, manifest.pipeline.retention.pruneAfterRun {
            applyRetention(manifest.pipeline.retention, pipelineName: manifest.pipelineName, store: store)
        }
        let final = await journal.manifest
        var finishedEvent = RunEvent(.runFinished, time: clock.now(), run: final.id)
        finishedEvent.status = final.status.rawValue
        finishedEvent.durationMilliseconds = final.finishedAt.map { Int($0.timeIntervalSince(final.startedAt) * 1000) }
        finishedEvent.counts = Dictionary(grouping: final.results, by: { $0.status.rawValue }).mapValues(\.count)
        sink.emit(finishedEvent)
        logger.info("run.finished", metadata: ["run": "\(final.id)", "status": "\(final.status.rawValue)"])
        return final
    }

    /// For each customer of `manifest`, a later run (not a dry run) that synced it successfully.
    /// Resuming the older run for that customer would re-apply an older listing and exports over
    /// newer data (and cleanup would then see newer workflows as obsolete).
    public static func supersedingRuns(of manifest: RunManifest, in manifests: [RunManifest]) -> [String: String] {
        var result: [String: String] = [:]
        for later in manifests where later.sequence > manifest.sequence && !later.options.dryRun {
            for customer in manifest.customers where later.result(for: customer)?.status == .succeeded && result[customer] == nil {
                result[customer] = later.id
            }
        }
        return result
    }

    static func superseded(_ customer: String, by run: String, at date: Date) -> CustomerResult {
        var result = CustomerResult(customer: customer, status: .failed)
        result.error = "superseded: run \(run) synced customer '\(customer)' successfully after this run started; resuming this older run would roll its data back, so it is not resumed for this customer"
        result.isRetryable = false
        result.startedAt = date
        result.finishedAt = date
        return result
    }

    /// Prunes runs the pipeline's retention policy does not keep, then objects nothing refers to.
    /// A failure here is a warning: the run itself is done.
    private func applyRetention(_ settings: RetentionSettings, pipelineName: String, store: Store) {
        do {
            let pruned = try RunRetention(dataDirectory: dataDirectory, settings: settings, pipelineName: pipelineName, clock: clock).prune()
            guard !pruned.isEmpty else { return }
            let report = try ObjectCollector(dataDirectory: dataDirectory).collect(store: store)
            logger.info("retention.pruned", metadata: ["runs": "\(pruned.count)", "objects_removed": "\(report.removed)"])
        } catch {
            logger.warning("retention.failed", metadata: ["error": "\(error)"])
        }
    }

    /// Removes temporary files of killed processes (SIGKILL, power loss): in the newest runs that
    /// did not finish (a killed process leaves its run `running`) and their trash, the customers'
    /// snapshot folders and the small state folders. Finished runs are left alone (walking their
    /// thousands of export copies on every run cost more than the rest of an unchanged run);
    /// objects sweep their own shards, and the snapshot refresh removes every stray name in
    /// `workflows/`.
    private func sweepTemporaryFiles(_ manifest: RunManifest) {
        let runs = ((try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.runs.path)) ?? []).sorted(by: >).prefix(20)
        for run in Set(runs + [manifest.id]) {
            if run != manifest.id, let status = try? CanonicalJSON.readVersioned(RunManifest.self, from: dataDirectory.manifest(run)).status,
               status == .succeeded || status == .failed {
                continue
            }
            AtomicFile.sweepTemporaryFiles(in: dataDirectory.run(run), recursive: true)
            AtomicFile.sweepTemporaryFiles(in: dataDirectory.trash.appendingPathComponent(run), recursive: true)
        }
        AtomicFile.sweepTemporaryFiles(in: dataDirectory.runs, recursive: false)
        let snapshots = SnapshotWriter(dataDirectory: dataDirectory.root)
        for customer in manifest.customers { AtomicFile.sweepTemporaryFiles(in: snapshots.customerDirectory(customer), recursive: false) }
        for folder in ["", "auth", "jobs", "schedule", "snapshot-stats", "snapshot-stats/verified", "state-cache", "snapshots", "locks", "metrics"] {
            AtomicFile.sweepTemporaryFiles(in: dataDirectory.root.appendingPathComponent(folder), recursive: folder == "auth" || folder == "jobs")
        }
    }

    private func runCustomer(slug: String, manifest: RunManifest, configs: [CustomerConfig], store: Store,
                             sink: any RunEventSink) async -> CustomerResult {
        let reporter = EventReporter(sink: sink, clock: clock, run: manifest.id, customer: slug)
        let result = await runCustomerStages(slug: slug, manifest: manifest, configs: configs, store: store, reporter: reporter)
        if !manifest.options.dryRun, result.status != .pending, result.status != .running {
            do { try store.recordRun(Self.historyRow(result, manifest: manifest, at: clock.now())) } catch {
                logger.error("run.history.write_failed", metadata: ["customer": "\(slug)", "error": "\(error)"])
            }
        }
        reporter.stage = result.failedStage
        switch result.status {
        case .succeeded:
            reporter.emit(.customerFinished) { event in
                event.status = result.status.rawValue
                event.durationMilliseconds = result.summary?.durationMilliseconds
                if let summary = result.summary {
                    event.counts = ["workflows": summary.workflows, "tasks": summary.tasks, "warnings": summary.warnings,
                                    "changes": summary.changes.count, "requests": summary.requests.requests,
                                    "retries": summary.requests.retries]
                }
            }
        default:
            reporter.emit(.customerFailed) { event in
                event.status = result.status.rawValue
                event.message = result.error
            }
        }
        return result
    }

    private func runCustomerStages(slug: String, manifest: RunManifest, configs: [CustomerConfig], store: Store,
                                   reporter: EventReporter) async -> CustomerResult {
        var result = CustomerResult(customer: slug, status: .running)
        let started = clock.now()
        result.startedAt = started
        var customerLogger = logger
        customerLogger[metadataKey: "customer"] = "\(slug)"
        customerLogger[metadataKey: "run"] = "\(manifest.id)"
        if Task.isCancelled {
            result.status = .interrupted
            return result
        }
        guard let customer = configs.first(where: { $0.id == slug }) else {
            result.status = .failed
            result.error = "customer '\(slug)' is no longer in the customers file; add it back or start a new run"
            result.isRetryable = false
            result.finishedAt = started
            return result
        }
        let options = manifest.options
        let services = CustomerServices(
            customer: customer, store: store, dataDirectory: dataDirectory, clock: clock, random: random, logger: customerLogger,
            transport: transport, environment: environment, pipeline: manifest.pipeline,
            tokenCache: options.dryRun ? nil : TokenCache(dataDirectory: dataDirectory.root), events: reporter)
        var currentStage: StageDefinition?
        do {
            let lock = try store.lockCustomer(slug, dataDirectory: dataDirectory, now: started)
            defer { lock.release() }
            let cache = StageResultCache(holdLimitCap: streamHoldLimit)
            var completed: [(kind: RegisteredStageKind, directory: URL, commit: StageCommit)] = []
            var earlier: [String: URL] = [:]
            var previousFingerprint = ""
            let stages = manifest.pipeline.stages
            func prepare(_ index: Int, previous: String) throws -> PreparedStage {
                let definition = stages[index]
                let directory = dataDirectory.stage(run: manifest.id, customer: slug, index: index, stageID: definition.id)
                let fingerprint = try Self.fingerprint(definition, customer: customer, options: options, previous: previous)
                let existing = try Self.readCommit(at: directory.appendingPathComponent(StageFiles.commit))
                return PreparedStage(definition: definition, kind: registry.kind(named: definition.kind)!, directory: directory,
                                     fingerprint: fingerprint, existing: existing)
            }
            func context(for stage: PreparedStage, earlier: [String: URL]) -> (StageContext, StoredSettingsReader) {
                let context = StageContext(runID: manifest.id, runStartedAt: manifest.startedAt, customer: customer, stageID: stage.definition.id,
                                           options: options, directory: stage.directory, services: services, earlierStages: earlier, cache: cache,
                                           events: reporter.forStage(stage.definition.id))
                let reader = StoredSettingsReader(values: stage.definition.settings,
                                                  source: "\(dataDirectory.manifest(manifest.id).path): stage '\(stage.definition.id)'")
                return (context, reader)
            }
            var index = 0
            while index < stages.count {
                try Task.checkCancellation()
                let stage = try prepare(index, previous: previousFingerprint)
                currentStage = stage.definition
                reporter.stage = stage.definition.id
                if let existing = stage.existing, existing.fingerprint == stage.fingerprint {
                    customerLogger.info("stage.already_committed", metadata: ["stage": "\(stage.definition.id)"])
                    reporter.emit(.stageFinished) { event in
                        event.status = "already-committed"
                        event.counts = existing.counts.isEmpty ? nil : existing.counts
                    }
                    completed.append((stage.kind, stage.directory, existing))
                    earlier[stage.kind.name] = stage.directory
                    previousFingerprint = stage.fingerprint
                    index += 1
                    continue
                }
                // The stages after this one that stream from the one before them run at once with
                // it, a chain (see `StageKind.streamsFrom`); they commit in order.
                var chain = [stage]
                while index + chain.count < stages.count {
                    let next = try prepare(index + chain.count, previous: chain.last!.fingerprint)
                    guard next.kind.streamsFrom == chain.last!.kind.name, next.existing?.fingerprint != next.fingerprint else { break }
                    chain.append(next)
                }
                if chain.count > 1 {
                    var started: [Date] = []
                    var contexts: [(context: StageContext, reader: StoredSettingsReader)] = []
                    var chainEarlier = earlier
                    for (position, member) in chain.enumerated() {
                        // A consumer's partial outputs from an interrupted attempt came from a
                        // producer that was never committed: they are not reused.
                        started.append(try begin(member, discardingEarlierAttempt: position > 0, reporter: reporter))
                        contexts.append(context(for: member, earlier: chainEarlier))
                        chainEarlier[member.kind.name] = member.directory
                        if position < chain.count - 1 { cache.openStream(for: member.kind.name) }
                    }
                    let failure: (stage: StageDefinition, error: any Error)? = await withTaskGroup(of: FinishedStage.self) { group in
                        for position in 1..<chain.count {
                            let (memberContext, reader) = contexts[position]
                            let kind = chain[position].kind
                            let producer = chain[position - 1].kind.name
                            group.addTask {
                                // Finished or failed, it no longer takes anything: its producer must not wait for it.
                                defer { cache.releaseStream(for: producer) }
                                do { return FinishedStage(position: position, outcome: .success(try await kind.execute(memberContext, reader))) } catch {
                                    return FinishedStage(position: position, outcome: .failure(error))
                                }
                            }
                        }
                        var outcomes: [Int: Result<StageRecord, any Error>] = [:]
                        for (position, member) in chain.enumerated() {
                            var outcome: Result<StageRecord, any Error>
                            if position == 0 {
                                do { outcome = .success(try await member.kind.execute(contexts[0].context, contexts[0].reader)) } catch { outcome = .failure(error) }
                            } else {
                                while outcomes[position] == nil {
                                    guard let finished = await group.next() else { break }
                                    outcomes[finished.position] = finished.outcome
                                }
                                outcome = outcomes[position] ?? .failure(CancellationError())
                            }
                            do {
                                let commit = try finish(member, record: try outcome.get(), started: started[position], reporter: reporter, logger: customerLogger)
                                completed.append((member.kind, member.directory, commit))
                                earlier[member.kind.name] = member.directory
                                previousFingerprint = member.fingerprint
                                if position < chain.count - 1 {
                                    cache.finishStream(for: member.kind.name, error: nil)
                                    // Events of shared services (a retry) name the oldest stage still running.
                                    reporter.stage = chain[position + 1].definition.id
                                }
                            } catch {
                                // Every later stage stops (its stream throws) and is awaited before
                                // leaving; none commits.
                                for later in chain[position...].dropLast() { cache.finishStream(for: later.kind.name, error: error) }
                                for await _ in group {}
                                return (member.definition, error)
                            }
                        }
                        return nil
                    }
                    if let failure {
                        currentStage = failure.stage
                        reporter.stage = failure.stage.id
                        throw failure.error
                    }
                    index += chain.count
                    continue
                }
                let stageStarted = try begin(stage, discardingEarlierAttempt: false, reporter: reporter)
                let (stageContext, reader) = context(for: stage, earlier: earlier)
                let record = try await stage.kind.execute(stageContext, reader)
                let commit = try finish(stage, record: record, started: stageStarted, reporter: reporter, logger: customerLogger)
                completed.append((stage.kind, stage.directory, commit))
                earlier[stage.kind.name] = stage.directory
                previousFingerprint = stage.fingerprint
                index += 1
            }
            currentStage = nil
            var summary = CustomerSummary()
            for stage in completed { try stage.kind.summarize(stage.directory, cache, &summary) }
            summary.warnings = completed.reduce(0) { $0 + $1.commit.warnings.count }
            for stage in completed { summary.stageCounts[stage.kind.name] = stage.commit.counts }
            summary.requests = reporter.tally
            let totals = try store.workflowAndTaskCounts(customerSlug: customer.id)
            summary.workflows = totals.workflows
            summary.tasks = totals.tasks
            result.summary = summary
            if !options.dryRun {
                // Snapshots converge to the store on every run and resume, whatever a stage did
                // before an interruption. A snapshot file edited by hand is restored by a full pass
                // or a run that changed the store; an unchanged incremental run trusts them, and
                // so does a run whose stage checked them all since the store last changed.
                try services.snapshots.refresh(customerSlug: slug, store: store, trustingAnUnchangedStore: !summary.refreshedEveryExport,
                                               acceptingAnEarlierCheck: true)
                try store.recordCustomerResult(slug: slug, syncedAt: clock.now(), result: .succeeded, fullExport: summary.refreshedEveryExport)
                try CustomerState.record(runID: manifest.id, customer: slug, at: clock.now(), store: store,
                                         objects: ObjectStore(dataDirectory: dataDirectory.root),
                                         to: dataDirectory.customerState(run: manifest.id, customer: slug))
            }
            result.status = .succeeded
        } catch let error where error is CancellationError || Task.isCancelled {
            _ = error
            result.status = .interrupted
            result.failedStage = currentStage?.id
            result.error = "interrupted; resume with `zuora-sync resume \(manifest.id)`"
            result.isRetryable = true
            customerLogger.warning("customer.interrupted", metadata: ["stage": "\(currentStage?.id ?? "-")"])
        } catch {
            let secret = try? services.secret()
            result.status = .failed
            result.failedStage = currentStage?.id
            result.error = redact(String(describing: error), secrets: [secret].compactMap { $0 })
            result.isRetryable = Self.isRetryable(error)
            customerLogger.error("customer.failed", metadata: ["stage": "\(currentStage?.id ?? "-")", "error": "\(result.error!)"])
            if !options.dryRun {
                _ = try? store.upsertCustomer(customer)
                try? store.recordCustomerResult(slug: slug, syncedAt: clock.now(), result: .failed, fullExport: false)
            }
        }
        let finished = clock.now()
        result.finishedAt = finished
        if result.summary != nil { result.summary!.durationMilliseconds = Int(finished.timeIntervalSince(started) * 1000) }
        return result
    }

    /// A stage of a streaming chain that finished: its place in the chain and its record or error.
    struct FinishedStage: Sendable {
        var position: Int
        var outcome: Result<StageRecord, any Error>
    }

    /// A stage of a customer's run, before it runs: where it writes, its inputs' fingerprint and
    /// its commit marker if it has one.
    struct PreparedStage {
        var definition: StageDefinition
        var kind: RegisteredStageKind
        var directory: URL
        var fingerprint: String
        var existing: StageCommit?
    }

    /// Readies a stage's directory and announces the stage. Outputs of an interrupted attempt are
    /// reused only when that attempt had the same inputs (its attempt.json names this fingerprint)
    /// and the caller does not discard them; otherwise, and when inputs changed since the stage
    /// committed, it is redone from scratch.
    private func begin(_ stage: PreparedStage, discardingEarlierAttempt: Bool, reporter: EventReporter) throws -> Date {
        let directory = stage.directory
        let attemptURL = directory.appendingPathComponent(StageFiles.attempt)
        let attempt = try? CanonicalJSON.readVersioned(StageAttempt.self, from: attemptURL)
        let reusable = attempt?.fingerprint == stage.fingerprint && stage.existing == nil && !discardingEarlierAttempt
        if !reusable, FileManager.default.fileExists(atPath: directory.path) {
            try PathSafety.remove(directory)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if !reusable {
            try CanonicalJSON.write(StageAttempt(fingerprint: stage.fingerprint, startedAt: clock.now()), to: attemptURL)
        }
        let started = clock.now()
        reporter.forStage(stage.definition.id).emit(.stageStarted)
        return started
    }

    /// Writes a finished stage's commit marker and announces it.
    private func finish(_ stage: PreparedStage, record: StageRecord, started: Date, reporter: EventReporter, logger: Logger) throws -> StageCommit {
        let finished = clock.now()
        let id = stage.definition.id
        let commit = StageCommit(stageID: id, kind: stage.kind.name, status: record.status, counts: record.counts,
                                 warnings: record.warnings, startedAt: started, finishedAt: finished,
                                 durationMilliseconds: Int(finished.timeIntervalSince(started) * 1000),
                                 fingerprint: stage.fingerprint)
        try AtomicFile.writeIfChanged(try CanonicalJSON.encode(commit), to: stage.directory.appendingPathComponent(StageFiles.commit))
        let stageReporter = reporter.forStage(id)
        for warning in record.warnings {
            logger.warning("stage.warning", metadata: ["stage": "\(id)", "warning": "\(warning)"])
            stageReporter.emit(.warning) { $0.message = warning }
        }
        stageReporter.emit(.stageFinished) { event in
            event.status = commit.status.rawValue
            event.counts = commit.counts.isEmpty ? nil : commit.counts
            event.durationMilliseconds = commit.durationMilliseconds
        }
        logger.info("stage.committed", metadata: ["stage": "\(id)", "duration_ms": "\(commit.durationMilliseconds)"])
        // What the stage freed goes back to the system now, before the next stage allocates in
        // other arenas: peak memory grew with the tenant's size although no stage holds its exports.
        ProcessTuning.releaseFreeMemory()
        return commit
    }

    /// A stage's commit marker, if there is one. A damaged marker is an error naming the file:
    /// a stage is never silently redone or skipped on a guess.
    static func readCommit(at url: URL) throws -> StageCommit? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try CanonicalJSON.readVersioned(StageCommit.self, from: url)
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

    /// Whether a later attempt can help: errors that know it say so; configuration and secret
    /// problems never; anything else (file system, database) may.
    public static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let classified as any RetryClassifiable: return classified.isRetryable
        case is ConfigurationError, is SecretError: return false
        default: return true
        }
    }
}

/// `resume` of a run whose process still works on it.
public struct RunInProgressError: Error, CustomStringConvertible, Sendable, RetryClassifiable {
    public let runID: String
    /// The process run.json names, when it names one.
    public let process: RunProcess?
    /// Another attempt may find the run free.
    public var isRetryable: Bool { true }
    public var description: String {
        let holder = process.map { "pid \($0.pid) on \($0.host)" } ?? "another process"
        return "run \(runID) is being worked on by \(holder) (it holds the run's lock); wait for it to finish, or stop that process (the run is then marked interrupted) before resuming."
    }
}
