import Foundation

/// One thing that happened during a run, for people (the progress display) and scripts
/// (`--events`, `runs/<run-id>/events.jsonl`). Encoded as one JSON object per line with sorted,
/// snake_case keys; fields that do not apply are left out. The schema is in README ("Run events").
public struct RunEvent: Sendable, Codable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A run started or resumed (`customers` in `total`).
        case runStarted = "run.started"
        /// A run ended (`status`: succeeded, failed, interrupted).
        case runFinished = "run.finished"
        /// A stage started for a customer.
        case stageStarted = "stage.started"
        /// A stage committed (`status`, `counts`, `duration_ms`), or was already committed (`status`: already-committed).
        case stageFinished = "stage.finished"
        /// Work inside a stage moved on: `done` of `total` (`total` absent when unknown) in `unit` (`pages`, `exports`).
        case progress
        /// A recoverable problem (`message`); the run goes on.
        case warning
        /// A Zuora call is tried again (`call`, `attempt`, `http_status` or `message`, `wait_seconds`).
        case retry
        /// Zuora asked to slow down: `wait_seconds` before the next call (`Retry-After`, `RateLimit-Remaining: 0`).
        case wait
        /// A customer's part of the run failed or was interrupted (`stage`, `message`, `status`).
        case customerFailed = "customer.failed"
        /// A customer's part of the run succeeded (`counts`: workflows, tasks, ...; `duration_ms`).
        case customerFinished = "customer.finished"
    }

    /// Format of the event lines; raised when a field changes meaning.
    public static let schemaVersion = 1

    public var event: Kind
    public var time: Date
    public var run: String
    public var customer: String?
    public var stage: String?
    public var status: String?
    public var done: Int?
    public var total: Int?
    public var unit: String?
    public var counts: [String: Int]?
    public var message: String?
    public var call: String?
    public var attempt: Int?
    public var httpStatus: Int?
    public var waitSeconds: Double?
    public var durationMilliseconds: Int?

    public init(_ event: Kind, time: Date, run: String, customer: String? = nil, stage: String? = nil) {
        self.event = event
        self.time = time
        self.run = run
        self.customer = customer
        self.stage = stage
    }

    enum CodingKeys: String, CodingKey {
        case event, time, run, customer, stage, status, done, total, unit, counts, message, call, attempt
        case httpStatus = "http_status", waitSeconds = "wait_seconds", durationMilliseconds = "duration_ms"
    }

    /// One line of JSON (no newline): sorted keys, UTC timestamps with milliseconds.
    public func jsonLine() -> String {
        (try? CanonicalJSON.encodeLine(self)) ?? "{\"event\":\"\(event.rawValue)\"}"
    }

    /// Reads a line written by `jsonLine`.
    public static func parse(line: String) throws -> RunEvent {
        try CanonicalJSON.decode(RunEvent.self, from: Data(line.utf8))
    }
}
