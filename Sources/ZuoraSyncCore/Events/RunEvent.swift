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

    /// What happened (`event`).
    public var event: Kind
    /// When, from the run's clock (`time`, UTC ISO 8601 with milliseconds).
    public var time: Date
    /// The run id (`run`).
    public var run: String
    /// The customer, for events of one customer (`customer`).
    public var customer: String?
    /// The stage id, for events inside a stage (`stage`).
    public var stage: String?
    /// How something ended or began (`status`), see `Kind`.
    public var status: String?
    /// Items done so far (`done`) in a `progress` event.
    public var done: Int?
    /// Items in all (`total`): of a `progress` event when known; customers of `run.started`.
    public var total: Int?
    /// What `done` and `total` count (`unit`): `pages`, `exports`.
    public var unit: String?
    /// Figures (`counts`): a stage's, a customer's, or customers per status.
    public var counts: [String: Int]?
    /// Text for people (`message`): a warning, an error (secrets removed), why a wait.
    public var message: String?
    /// The Zuora call retried (`call`), e.g. `GET /workflows/12/export`; never a host or token.
    public var call: String?
    /// The attempt that failed (`attempt`), from 1.
    public var attempt: Int?
    /// The HTTP status that caused a retry (`http_status`).
    public var httpStatus: Int?
    /// Seconds waited before the next try (`wait_seconds`).
    public var waitSeconds: Double?
    /// How long it took (`duration_ms`).
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
