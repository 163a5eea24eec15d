import Foundation

/// Options that change what a run does; recorded in `run.json` so a resume does the same.
public struct RunOptions: Sendable, Codable, Equatable {
    /// Download every export, changed or not.
    public var full = false
    /// Run up to the store, then report what would change without changing it.
    public var dryRun = false
    /// Let cleanup delete more than the configured share or count.
    public var allowMassDelete = false
    public init(full: Bool = false, dryRun: Bool = false, allowMassDelete: Bool = false) {
        self.full = full
        self.dryRun = dryRun
        self.allowMassDelete = allowMassDelete
    }
}

/// Where a run or a customer stands.
public enum RunStatus: String, Sendable, Codable {
    case pending, running, succeeded, failed
}

/// `runs/<run-id>/run.json`: what was run, for whom, with which options, and how it ended.
public struct RunManifest: Sendable, Codable {
    public var formatVersion = 1
    public var id: String
    /// Position among the data directory's runs (1, 2, ...): orders runs that started in the same second.
    public var sequence: Int
    public var pipelineName: String
    public var pipelinePath: String
    /// The pipeline as it was when the run started; a resume uses this copy.
    public var pipeline: PipelineDefinition
    public var customers: [String]
    public var options: RunOptions
    public var status: RunStatus
    public var startedAt: Date
    public var finishedAt: Date?
    /// 1 for the first pass, +1 for each resume.
    public var passes: Int
    public var results: [CustomerResult]

    public func result(for customer: String) -> CustomerResult? { results.first { $0.customer == customer } }
}

/// How one customer's part of a run ended.
public struct CustomerResult: Sendable, Codable, Equatable {
    public var customer: String
    public var status: RunStatus
    public var failedStage: String?
    public var error: String?
    public var isRetryable: Bool?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var summary: CustomerSummary?

    public init(customer: String, status: RunStatus) {
        self.customer = customer
        self.status = status
    }
}

/// The figures of one customer's sync, for the summary table.
public struct CustomerSummary: Sendable, Codable, Equatable {
    public var listed = 0
    public var workflows = 0
    public var tasks = 0
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var deleted = 0
    public var exportsDownloaded = 0
    public var exportsSkipped = 0
    public var exportsFailed = 0
    public var warnings = 0
    public var durationMilliseconds = 0
    /// Names of the workflows created, updated or deleted in this run (`+`, `~`, `-` prefixed).
    public var changes: [String] = []
    public init() {}
}

/// `commit.json`, written last in a stage directory: the stage finished and its outputs are whole.
public struct StageCommit: Sendable, Codable {
    public var formatVersion = 1
    public var stageID: String
    public var kind: StageKind
    public var status: String
    public var counts: [String: Int]
    public var warnings: [String]
    public var startedAt: Date
    public var finishedAt: Date
    public var durationMilliseconds: Int
    /// SHA-256 over the stage's settings, the customer's identity and the previous stage's fingerprint.
    public var fingerprint: String
}

/// What a stage reports back to the runner.
public struct StageReport: Sendable {
    public var counts: [String: Int]
    public var warnings: [String]
    public var status: String

    public init(counts: [String: Int] = [:], warnings: [String] = [], status: String = "committed") {
        self.counts = counts
        self.warnings = warnings.sorted()
        self.status = status
    }
}

/// A customer-level failure raised by a stage: what happened, and whether a later try can help.
public struct StageFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var isRetryable: Bool
    public init(_ message: String, isRetryable: Bool) {
        self.message = message
        self.isRetryable = isRetryable
    }
    public var description: String { message }
}
