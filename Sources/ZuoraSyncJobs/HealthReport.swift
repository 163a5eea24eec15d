import Foundation

/// What `zuora-sync status` reports: per customer the last successful sync, its age and the last
/// result; the queue; the next scheduled slot; and the problems that need a person, each with what
/// to do. Computed from the run manifests, the queue, the schedule and the lock files.
public struct HealthReport: Sendable, Encodable {
    /// One configured customer.
    public struct Customer: Sendable, Encodable, Equatable {
        public var id: String
        public var lastSuccessAt: Date?
        /// Seconds since the last success.
        public var ageSeconds: Int?
        /// How the customer's newest run ended (`succeeded`, `failed`, `interrupted`), nil when never run.
        public var lastResult: String?
        public var lastRunID: String?
    }

    /// Jobs per state.
    public struct Jobs: Sendable, Encodable, Equatable {
        public var waiting = 0
        public var running = 0
        public var failed = 0
        public var done = 0
    }

    /// Something a person should look at.
    public struct Problem: Sendable, Encodable, Equatable {
        /// `failed-job`, `never-synced`, `stale-sync`, `interrupted-run`, `stale-lock`, `damaged-state`, `last-run-failed`.
        public var kind: String
        public var customer: String?
        public var message: String
        /// What to do about it.
        public var action: String
    }

    /// One pipeline's schedule.
    public struct Schedule: Sendable, Encodable, Equatable {
        public var pipeline: String
        public var schedule: String
        public var nextRun: Date?
    }

    public var checkedAt: Date
    public var customers: [Customer]
    public var jobs: Jobs
    public var schedules: [Schedule]
    public var nextScheduledSlot: Date?
    public var problems: [Problem]

    /// Nothing needs attention.
    public var isHealthy: Bool { problems.isEmpty }
}
