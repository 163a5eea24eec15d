import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine

/// Computes a `HealthReport`.
public struct HealthCheck: Sendable {
    public var dataDirectory: DataDirectory
    /// A customer not synced within this many schedule intervals is a problem.
    public var staleAfterIntervals: Double = 3
    /// A customer lock held longer than this is a problem (a hung process).
    public var lockHeldTooLongSeconds: Double = 6 * 3600
    /// The queue to look at (the PostgreSQL jobs table with a PostgreSQL store); `jobs/` when nil.
    public var queue: (any JobQueueing)?

    public init(dataDirectory: DataDirectory) {
        self.dataDirectory = dataDirectory
    }

    /// Checks everything as of `now`.
    /// - Parameters:
    ///   - customers: the configured customer ids.
    ///   - pipelines: the scheduled pipelines (path and definition); their shortest interval sets "stale".
    public func check(customers: [String], pipelines: [(path: String, definition: PipelineDefinition)], now: Date) -> HealthReport {
        var problems: [HealthReport.Problem] = []
        let listing = dataDirectory.manifestListing()
        for damaged in listing.problems {
            problems.append(.init(kind: "damaged-state", customer: nil, message: damaged.description,
                                  action: "look at the file; move it away if the run does not matter"))
        }
        let manifests = listing.items   // newest first
        var lastSuccess: [String: Date] = [:]
        var newest: [String: (result: CustomerResult, run: RunManifest)] = [:]
        for manifest in manifests where !manifest.options.dryRun {
            for result in manifest.results {
                if newest[result.customer] == nil {
                    var observed = result
                    if manifest.observedStatus() == .interrupted, result.status == .running || result.status == .pending { observed.status = .interrupted }
                    newest[result.customer] = (observed, manifest)
                }
                if result.status == .succeeded, lastSuccess[result.customer] == nil {
                    lastSuccess[result.customer] = result.finishedAt ?? manifest.finishedAt ?? manifest.startedAt
                }
            }
        }

        var schedules: [HealthReport.Schedule] = []
        var interval: Double?
        for pipeline in pipelines {
            let cron = try? CronSchedule(pipeline.definition.schedule)
            let next = cron?.nextRun(after: now)
            schedules.append(.init(pipeline: pipeline.path, schedule: pipeline.definition.schedule, nextRun: next))
            if let cron, let next, let following = cron.nextRun(after: next) {
                interval = min(interval ?? .infinity, following.timeIntervalSince(next))
            }
        }

        let reportCustomers = customers.map { id -> HealthReport.Customer in
            let success = lastSuccess[id]
            let last = newest[id]
            let age = success.map { Int(now.timeIntervalSince($0)) }
            if last == nil {
                problems.append(.init(kind: "never-synced", customer: id, message: "\(id) has never been synced",
                                      action: "zuora-sync run --customer \(id)"))
            } else if let last, last.result.status == .failed {
                problems.append(.init(kind: "last-run-failed", customer: id,
                                      message: "\(id)'s last run \(last.run.id) failed\(last.result.failedStage.map { " at \($0)" } ?? ""): \(last.result.error ?? "unknown error")",
                                      action: last.result.isRetryable == false ? "fix the cause, then zuora-sync run --customer \(id)" : "zuora-sync resume \(last.run.id)"))
            }
            if let interval, last != nil {
                let limit = staleAfterIntervals * interval
                if let age, Double(age) > limit {
                    problems.append(.init(kind: "stale-sync", customer: id,
                                          message: "\(id) last synced \(Self.describe(seconds: Double(age))) ago, more than \(Int(staleAfterIntervals)) × the schedule interval (\(Self.describe(seconds: interval)))",
                                          action: "check the scheduler and worker (zuora-sync schedule list, zuora-sync jobs)"))
                } else if success == nil {
                    problems.append(.init(kind: "stale-sync", customer: id, message: "\(id) has never synced successfully",
                                          action: "zuora-sync inspect \(last!.run.id)"))
                }
            }
            return .init(id: id, lastSuccessAt: success, ageSeconds: age, lastResult: last?.result.status.rawValue, lastRunID: last?.run.id)
        }

        // Interrupted runs nobody finished: some customer of it has no later success.
        for manifest in manifests where manifest.observedStatus() == .interrupted {
            let unfinished = manifest.results.filter { result in
                result.status != .succeeded && (lastSuccess[result.customer].map { $0 < manifest.startedAt } ?? true)
            }
            if !unfinished.isEmpty {
                problems.append(.init(kind: "interrupted-run", customer: nil,
                                      message: "run \(manifest.id) was interrupted (\(unfinished.map(\.customer).joined(separator: ", ")) not finished)",
                                      action: "zuora-sync resume \(manifest.id)"))
            }
        }

        var jobs = HealthReport.Jobs()
        let queue = self.queue ?? JobQueue(dataDirectory: dataDirectory)
        let jobListing = queue.listing(in: nil)
        for job in jobListing.items {
            switch job.state {
            case .waiting: jobs.waiting += 1
            case .running: jobs.running += 1
            case .failed: jobs.failed += 1
            case .done: jobs.done += 1
            }
            if job.state == .failed {
                problems.append(.init(kind: "failed-job", customer: job.customer,
                                      message: "job \(job.id) (\(job.customer)) failed after \(job.attempts) attempt(s): \(job.lastError ?? "unknown error")",
                                      action: "zuora-sync jobs retry \(job.id)"))
            }
        }
        for damaged in jobListing.problems {
            problems.append(.init(kind: "damaged-state", customer: nil, message: damaged.description, action: "look at the job file; `zuora-sync jobs forget ID` removes it"))
        }

        for lock in heldLocks(now: now) where lock.heldSeconds > lockHeldTooLongSeconds {
            problems.append(.init(kind: "stale-lock", customer: lock.customer,
                                  message: "\(lock.customer) has been locked for \(Self.describe(seconds: lock.heldSeconds)) (\(lock.holder))",
                                  action: "check that process; a hung one can be stopped, the kernel then releases the lock"))
        }

        return HealthReport(checkedAt: now, customers: reportCustomers, jobs: jobs, schedules: schedules,
                            nextScheduledSlot: schedules.compactMap(\.nextRun).min(), problems: problems)
    }

    /// Locks held right now by a live process, with their holder and for how long.
    func heldLocks(now: Date) -> [(customer: String, holder: String, heldSeconds: Double)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.locks.path)) ?? []).filter { $0.hasSuffix(".lock") }.sorted()
        return names.compactMap { name in
            let url = dataDirectory.locks.appendingPathComponent(name)
            let fd = open(url.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            if flock(fd, LOCK_SH | LOCK_NB) == 0 {
                flock(fd, LOCK_UN)
                return nil   // nobody holds it
            }
            let holder = ((try? String(contentsOf: url, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let since = holder.range(of: "since ").flatMap { Timestamp.parse(String(holder[$0.upperBound...])) }
            return (String(name.dropLast(".lock".count)), holder, since.map { now.timeIntervalSince($0) } ?? 0)
        }
    }

    /// `45 s`, `12 min`, `3.5 h`, `2.0 d`.
    public static func describe(seconds: Double) -> String {
        switch seconds {
        case ..<90: return "\(Int(seconds)) s"
        case ..<5400: return "\(Int(seconds / 60)) min"
        case ..<172_800: return String(format: "%.1f h", seconds / 3600)
        default: return String(format: "%.1f d", seconds / 86400)
        }
    }
}
