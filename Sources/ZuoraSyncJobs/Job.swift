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
