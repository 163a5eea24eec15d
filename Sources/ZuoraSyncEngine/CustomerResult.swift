import Foundation
import ZuoraSyncCore

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

/// The figures of one customer's sync, for the summary table. The engine fills the store's totals
/// and the warnings; each stage kind adds its own columns and changes (`StageKind.summarize`).
public struct CustomerSummary: Sendable, Codable, Equatable {
    public var workflows = 0
    public var tasks = 0
    public var warnings = 0
    public var durationMilliseconds = 0
    /// Columns contributed by stages, shown between `tasks` and `warnings`.
    public var columns: [SummaryColumn] = []
    /// The workflows created, updated or deleted in this run (`+`, `~`, `-` prefixed).
    public var changes: [String] = []
    /// Whether every export was refreshed in this run (the daily full pass).
    public var refreshedEveryExport = false
    /// The counts of each stage that ran, by stage kind (as in `commit.json`), for metrics and reports.
    public var stageCounts: [String: [String: Int]] = [:]
    /// Zuora requests, retries, 429s and waits of this customer's client in this pass.
    public var requests = RequestTally()

    public init() {}

    /// Adds or replaces a column.
    public mutating func set(_ header: String, _ value: String, order: Int) {
        columns.removeAll { $0.header == header }
        columns.append(SummaryColumn(header: header, value: value, order: order))
        columns.sort { ($0.order, $0.header) < ($1.order, $1.header) }
    }

    /// A column's value, by header.
    public func column(_ header: String) -> String? { columns.first { $0.header == header }?.value }

    /// Missing keys (an older `run.json`) take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workflows = try c.decodeIfPresent(Int.self, forKey: .workflows) ?? 0
        tasks = try c.decodeIfPresent(Int.self, forKey: .tasks) ?? 0
        warnings = try c.decodeIfPresent(Int.self, forKey: .warnings) ?? 0
        durationMilliseconds = try c.decodeIfPresent(Int.self, forKey: .durationMilliseconds) ?? 0
        columns = try c.decodeIfPresent([SummaryColumn].self, forKey: .columns) ?? []
        changes = try c.decodeIfPresent([String].self, forKey: .changes) ?? []
        refreshedEveryExport = try c.decodeIfPresent(Bool.self, forKey: .refreshedEveryExport) ?? false
        stageCounts = try c.decodeIfPresent([String: [String: Int]].self, forKey: .stageCounts) ?? [:]
        requests = try c.decodeIfPresent(RequestTally.self, forKey: .requests) ?? RequestTally()
    }
}

/// One column a stage adds to the summary table.
public struct SummaryColumn: Sendable, Codable, Equatable {
    public var header: String
    public var value: String
    /// Position among the stage columns (lower first).
    public var order: Int
}
