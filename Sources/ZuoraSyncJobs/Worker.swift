import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP
import ZuoraSyncEngine
import ZuoraSyncStages
import Logging

/// Takes waiting jobs and runs them: a retry resumes the job's run; the pipeline's `jobs:` policy
/// decides when to try again (default 3 attempts, 60 s then 120 s apart). Invalid credentials, a
/// customer removed from the configuration and a configuration error are not retried. A job that
/// fails for good triggers the pipeline's notifications.
public struct Worker: Sendable {
    public var dataDirectory: DataDirectory
    /// The stage kinds pipelines may use.
    public var registry: StageRegistry = BuiltInStages.registry
    /// Builds the transport for a job's pipeline (its `http:` timeouts).
    public var makeTransport: @Sendable (HTTPSettings) -> any HTTPTransport
    public var clock: any WallClock
    public var logger: Logger
    public var environment: [String: String]
    public var loadCustomers: @Sendable () throws -> [CustomerConfig]
    /// Builds the notifier of a pipeline (tests inject a transport).
    public var makeNotifier: @Sendable (PipelineDefinition, Logger) -> Notifier
    /// Real seconds between lease renewals while a job runs.
    public var heartbeatInterval: Double = 5
    /// Waits between heartbeats: real time even when `clock` is a test's manual clock.
    public var heartbeatClock: any WallClock = SystemClock()
    /// Overrides the pipeline's `jobs.lease_seconds` (tests, `work --lease-seconds`).
    public var leaseSeconds: Double?
    /// Who watches the runs this worker starts (progress display, `work --events`).
    public var events: any RunEventSink = NoRunEvents()
    /// This worker's identity in leases.
    public let owner = RandomSource.system.hex(digits: 32)
    /// The store its runs write (`--store`); with PostgreSQL, `queue` is that store's jobs table.
    public var storeLocation: StoreLocation = .sqlite(path: nil)
    /// Where jobs come from: the data directory's `jobs/` unless set (PostgreSQL's queue).
    public var queue: any JobQueueing

    public init(dataDirectory: DataDirectory, makeTransport: @escaping @Sendable (HTTPSettings) -> any HTTPTransport,
                clock: any WallClock = SystemClock(), logger: Logger,
                environment: [String: String] = ProcessEnvironment.current(),
                loadCustomers: @escaping @Sendable () throws -> [CustomerConfig],
                makeNotifier: @escaping @Sendable (PipelineDefinition, Logger) -> Notifier = { Notifier(settings: $0.notifications, logger: $1) }) {
        self.dataDirectory = dataDirectory
        self.makeTransport = makeTransport
        self.clock = clock
        self.logger = logger
        self.environment = environment
        self.loadCustomers = loadCustomers
        self.makeNotifier = makeNotifier
        self.queue = JobQueue(dataDirectory: dataDirectory)
    }

    /// What a `work` call did.
    public struct Summary: Sendable, Equatable {
        public var processed: [Job] = []
    }

    /// Runs jobs until told to stop: when the queue is empty (`stopWhenEmpty`), after `maxJobs`, or
    /// when `shouldStop` says so (SIGINT/SIGTERM). `concurrency` jobs run at once.
    public func work(stopWhenEmpty: Bool, maxJobs: Int? = nil, concurrency: Int = 1,
                     shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> Summary {
        let budget = JobBudget(limit: maxJobs)
        let results = try await withThrowingTaskGroup(of: [Job].self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask { try await slot(stopWhenEmpty: stopWhenEmpty, budget: budget, shouldStop: shouldStop) }
            }
            var all: [Job] = []
            for try await jobs in group { all += jobs }
            return all
        }
        return Summary(processed: results)
    }

    private func slot(stopWhenEmpty: Bool, budget: JobBudget, shouldStop: @escaping @Sendable () -> Bool) async throws -> [Job] {
        var processed: [Job] = []
        while !shouldStop() && !Task.isCancelled {
            let claimed: Job?
            do {
                let recovered = try queue.recoverExpiredLeases(now: clock.now())
                for job in recovered { logger.warning("job.recovered", metadata: ["job": "\(job.id)", "customer": "\(job.customer)"]) }
                guard await budget.take() else { break }
                do { claimed = try queue.claim(owner: lease(), now: clock.now()) } catch {
                    await budget.giveBack()
                    throw error
                }
            } catch let error as RetryClassifiable where error.isRetryable {
                // The queue's database is restarting or unreachable: wait and ask again.
                logger.warning("queue.unavailable", metadata: ["queue": "\(queue.location)", "error": "\(error)"])
                try? await clock.sleep(seconds: 2)
                continue
            }
            if let job = claimed {
                processed.append(await process(job))
                continue
            }
            await budget.giveBack()
            let waiting = queue.jobs(in: .waiting)
            let running = queue.jobs(in: .running)
            if stopWhenEmpty && waiting.isEmpty && running.isEmpty { break }
            // Sleep until the next job is due, polling at least every 2 s for new work.
            let nextDue = waiting.map(\.notBefore).min().map { $0.timeIntervalSince(clock.now()) } ?? 2
            try? await clock.sleep(seconds: min(2, max(0.05, nextDue)))
        }
        return processed
    }

    func lease(seconds: Double? = nil) -> Job.Lease {
        let now = clock.now()
        return Job.Lease(owner: owner, pid: getpid(), host: ProcessEnvironment.hostName(), heartbeatAt: now,
                         expiresAt: now.addingTimeInterval(seconds ?? leaseSeconds ?? 120))
    }

    /// Runs one claimed job to its next state and returns it.
    public func process(_ claimed: Job) async -> Job {
        var job = claimed
        var jobLogger = logger
        jobLogger[metadataKey: "job"] = "\(job.id)"
        jobLogger[metadataKey: "customer"] = "\(job.customer)"
        jobLogger.info("job.started", metadata: ["attempt": "\(job.attempts)"])
        var succeeded = false
        var retryable = true
        var message: String?
        var pipeline: PipelineDefinition?
        do {
            let definition = try PipelineLoader.load(path: job.pipelinePath, registry: registry)
            pipeline = definition
            let leaseLength = leaseSeconds ?? Double(definition.jobs.leaseSeconds)
            let customers = try loadCustomers()
            guard let customer = customers.first(where: { $0.id == job.customer }) else {
                throw StageFailure("customer '\(job.customer)' is no longer in the customers file", isRetryable: false)
            }
            let previous = job.runID.flatMap { try? dataDirectory.loadManifest($0) }
            let isSuperseded = previous.map { PipelineRunner.supersedingRuns(of: $0, in: dataDirectory.manifests())[job.customer] != nil } ?? false
            if previous?.result(for: job.customer)?.status == .succeeded || isSuperseded {
                // The run finished but its worker died before moving the job, or a later run synced
                // the customer since: nothing left to do (resuming would roll its data back).
                return await finish(job, succeeded: true, retryable: true, error: nil, pipeline: definition, logger: jobLogger)
            }
            let resumable = previous != nil
            if let earlier = job.runID, previous == nil {
                // The earlier attempt ran on another host (or its run directory is gone): the store
                // is shared, its run files are not, so this attempt starts a new run.
                jobLogger.notice("job.new_run", metadata: ["previous_run": "\(earlier)", "reason": "run \(earlier) is not in this data directory (another host ran it); starting a new run of \(job.customer)"])
            } else if let earlier = job.runID {
                jobLogger.info("job.resume_run", metadata: ["run": "\(earlier)"])
            }
            let runID = resumable ? job.runID! : DataDirectory.newRunID(at: clock.now())
            job.runID = runID
            job.lease = lease(seconds: leaseLength)
            try queue.update(job)
            var configured = PipelineRunner(dataDirectory: dataDirectory, registry: registry, transport: makeTransport(definition.http), clock: clock, logger: jobLogger,
                                        environment: environment, makeRunID: { _ in runID }, events: events)
            configured.storeLocation = storeLocation
            let runner = configured
            let heartbeatJob = job
            let pipelinePath = job.pipelinePath
            let manifest = try await withThrowingTaskGroup(of: RunManifest?.self) { group in
                group.addTask {
                    // Cancelled with the job (a signal): the run below records itself as interrupted.
                    do { try await heartbeat(heartbeatJob, leaseLength: leaseLength) } catch is CancellationError {}
                    return nil
                }
                group.addTask {
                    resumable ? try await runner.resume(runID: runID, customers: customers)
                        : try await runner.start(pipeline: definition, pipelinePath: pipelinePath, customers: [customer])
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let manifest = next { return manifest }
                }
                throw CancellationError()
            }
            let result = manifest.result(for: job.customer)
            if result?.status == .interrupted {
                return requeueInterrupted(job, logger: jobLogger)
            }
            succeeded = result?.status == .succeeded
            retryable = result?.isRetryable ?? true
            message = result?.error.map { "\(result?.failedStage.map { "\($0): " } ?? "")\($0)" }
        } catch let failure as ConfigurationError {
            retryable = false
            message = failure.description
        } catch {
            retryable = PipelineRunner.isRetryable(error)
            message = String(describing: error)
        }
        return await finish(job, succeeded: succeeded, retryable: retryable, error: message, pipeline: pipeline, logger: jobLogger)
    }

    /// Whether the job is still running under this worker's lease.
    func isStillOurs(_ job: Job) -> Bool {
        // A failed read (the database restarting) is not a lost lease: only a job seen under
        // another owner, or no longer running, is.
        let found: Job?
        do { found = try queue.find(job.id) } catch { return true }
        guard let current = found, current.state == .running else { return false }
        return current.lease?.owner == owner
    }

    private func heartbeat(_ job: Job, leaseLength: Double) async throws {
        var job = job
        // Renew well before the lease can lapse, however short it is.
        let interval = min(heartbeatInterval, leaseLength / 3)
        while true {
            try await heartbeatClock.sleep(seconds: interval)
            // Renew only a lease that is still ours: if it lapsed and the job was taken back,
            // writing would bring a second copy of the job back to life. Stop the run instead.
            guard isStillOurs(job) else { throw LeaseLost(jobID: job.id) }
            job.lease = lease(seconds: leaseLength)
            job.updatedAt = clock.now()
            try queue.update(job)
        }
    }

    /// A job whose run a signal interrupted goes back to waiting at once, without using up an
    /// attempt; the next worker resumes its run.
    private func requeueInterrupted(_ running: Job, logger: Logger) -> Job {
        var job = running
        job.state = .waiting
        job.attempts = max(0, job.attempts - 1)
        if !job.attemptStartedAt.isEmpty { job.attemptStartedAt.removeLast() }
        job.lease = nil
        job.notBefore = clock.now()
        job.updatedAt = clock.now()
        job.lastError = "interrupted by a signal; the next worker resumes run \(job.runID ?? "-")"
        do { try queue.move(job, from: .running, owner: owner) } catch {
            logger.error("job.move_failed", metadata: ["error": "\(error)"])
        }
        logger.warning("job.interrupted")
        return job
    }

    private func finish(_ running: Job, succeeded: Bool, retryable: Bool, error: String?, pipeline: PipelineDefinition?, logger: Logger) async -> Job {
        var job = running
        let now = clock.now()
        // If our lease lapsed and the job was taken back (or moved on), it is no longer ours to move.
        guard isStillOurs(job) else {
            logger.warning("job.lost_lease")
            let current = (try? queue.find(job.id)).flatMap { $0 }
            return current ?? job
        }
        job.lease = nil
        job.updatedAt = now
        job.lastError = succeeded ? nil : error
        job.isRetryable = succeeded ? nil : retryable
        if succeeded {
            job.state = .done
        } else if !retryable || job.attempts >= job.maxAttempts {
            job.state = .failed
        } else {
            job.state = .waiting
            let delays = job.retryDelays.isEmpty ? [60] : job.retryDelays
            job.notBefore = now.addingTimeInterval(Double(delays[min(job.attempts - 1, delays.count - 1)]))
        }
        do { try queue.move(job, from: .running, owner: owner) } catch {
            logger.error("job.move_failed", metadata: ["error": "\(error)"])
        }
        logger.info("job.finished", metadata: ["state": "\(job.state.rawValue)", "attempt": "\(job.attempts)"])
        do { try MetricsFile.write(dataDirectory: dataDirectory, queue: queue is JobQueue ? nil : queue) } catch {
            logger.warning("metrics.write_failed", metadata: ["file": "\(dataDirectory.metricsFile.path)", "error": "\(error)"])
        }
        if job.state == .failed {
            let notice = FailureNotice(
                text: "zuora-sync: \(job.customer) failed for good after \(job.attempts) attempt(s) (\(pipeline?.name ?? job.pipelinePath)): \(error ?? "unknown error")",
                customer: job.customer, pipeline: pipeline?.name ?? job.pipelinePath, error: error ?? "unknown error",
                attempts: job.attempts, runID: job.runID, jobID: job.id)
            await makeNotifier(pipeline ?? PipelineDefinition.empty, logger).notify(notice)
        }
        return job
    }
}

/// Counts jobs taken against `--max-jobs` across concurrent slots.
actor JobBudget {
    private let limit: Int?
    private var taken = 0
    init(limit: Int?) { self.limit = limit }
    func take() -> Bool {
        if let limit, taken >= limit { return false }
        taken += 1
        return true
    }
    func giveBack() { taken -= 1 }
}

extension PipelineDefinition {
    /// A pipeline with no stages and no notifications, for jobs whose pipeline file cannot be read.
    static let empty = PipelineDefinition(name: "", schedule: "0 * * * *", customerConcurrency: 1, http: HTTPSettings(),
                                          retry: RetrySettings(), jobs: JobSettings(), stages: [])
}

/// The worker's lease on a job lapsed and the job was taken back: its run is stopped.
struct LeaseLost: Error, CustomStringConvertible, Sendable {
    let jobID: String
    var description: String { "the lease on job \(jobID) lapsed and the job was taken back by the queue; this worker stopped its run" }
}
