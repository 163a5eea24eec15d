import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP
import ZuoraSyncEngine
import ZuoraSyncStages

/// One queued sync of one customer with one pipeline: `jobs/<state>/<id>.json`.
public struct Job: Sendable, Codable, Equatable, VersionedFile {
    public static let currentFormatVersion = 1

    public enum State: String, Sendable, Codable, CaseIterable { case waiting, running, done, failed }

    /// Who runs a job, until when: renewed by the worker's heartbeat.
    public struct Lease: Sendable, Codable, Equatable {
        public var owner: String
        public var pid: Int32
        public var host: String
        public var heartbeatAt: Date
        public var expiresAt: Date
    }

    public var formatVersion = 1
    public var id: String
    public var pipelinePath: String
    public var customer: String
    public var state: State
    public var attempts: Int
    public var maxAttempts: Int
    /// Seconds to wait before the 2nd, 3rd, ... attempt.
    public var retryDelays: [Int]
    /// The run this job uses; a retry resumes it.
    public var runID: String?
    public var lastError: String?
    public var isRetryable: Bool?
    public var createdAt: Date
    public var updatedAt: Date
    /// Not taken before this time (retry delay).
    public var notBefore: Date
    /// When each attempt started.
    public var attemptStartedAt: [Date]
    public var lease: Lease?
}

/// The state changes every queue makes the same way (files or PostgreSQL).
extension Job {
    /// A new waiting job of a customer, due now.
    static func queued(pipelinePath: String, customer: String, settings: JobSettings, now: Date) -> Job {
        Job(id: DataDirectory.newRunID(at: now) + "-" + customer, pipelinePath: pipelinePath, customer: customer, state: .waiting,
            attempts: 0, maxAttempts: settings.maxAttempts, retryDelays: settings.retryDelays, runID: nil, lastError: nil,
            isRetryable: nil, createdAt: now, updatedAt: now, notBefore: now, attemptStartedAt: [], lease: nil)
    }

    /// This job taken by a worker: running under its lease, one more attempt.
    func claimed(by lease: Lease, now: Date) -> Job {
        var job = self
        job.state = .running
        job.attempts += 1
        job.attemptStartedAt.append(now)
        job.updatedAt = now
        job.lease = lease
        return job
    }

    /// This failed job waiting again, with fresh attempts (`jobs retry`).
    func retried(now: Date) -> Job {
        var job = self
        job.state = .waiting
        job.attempts = 0
        job.notBefore = now
        job.updatedAt = now
        return job
    }

    /// This running job put back to waiting after its worker stopped heartbeating; it keeps its run.
    func recovered(now: Date) -> Job {
        var job = self
        job.state = .waiting
        job.lastError = "the worker \(lease.map { "pid \($0.pid) on \($0.host)" } ?? "") stopped heartbeating; the job was put back to resume its run"
        job.lease = nil
        job.notBefore = now
        job.updatedAt = now
        return job
    }
}
