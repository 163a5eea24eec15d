import Foundation
import GRDB
import ZuoraSyncCore

/// A row of `runs`: how one customer's part of a run ended.
public struct RunHistoryRow: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runs"

    public var runID: String
    public var customerSlug: String
    public var pipeline: String
    /// `succeeded`, `failed`, `interrupted`.
    public var status: String
    public var isDryRun: Bool
    public var startedAt: String
    public var finishedAt: String
    public var durationMilliseconds: Int
    public var workflows: Int?
    public var tasks: Int?
    public var created: Int
    public var updated: Int
    public var deleted: Int
    public var warnings: Int
    public var requests: Int
    public var retries: Int
    public var failedStage: String?
    public var error: String?

    public init(runID: String, customerSlug: String, pipeline: String, status: String, isDryRun: Bool, startedAt: Date, finishedAt: Date,
                workflows: Int?, tasks: Int?, created: Int, updated: Int, deleted: Int, warnings: Int, requests: Int, retries: Int,
                failedStage: String?, error: String?) {
        self.runID = runID
        self.customerSlug = customerSlug
        self.pipeline = pipeline
        self.status = status
        self.isDryRun = isDryRun
        self.startedAt = Timestamp.format(startedAt)
        self.finishedAt = Timestamp.format(finishedAt)
        durationMilliseconds = Int(finishedAt.timeIntervalSince(startedAt) * 1000)
        self.workflows = workflows
        self.tasks = tasks
        self.created = created
        self.updated = updated
        self.deleted = deleted
        self.warnings = warnings
        self.requests = requests
        self.retries = retries
        self.failedStage = failedStage
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", customerSlug = "customer_slug", pipeline, status, isDryRun = "is_dry_run", startedAt = "started_at"
        case finishedAt = "finished_at", durationMilliseconds = "duration_ms", workflows, tasks, created, updated, deleted, warnings
        case requests, retries, failedStage = "failed_stage", error
    }
}

/// A row of `workflow_changes`: a workflow a run created, updated or deleted, with the export's
/// hash before and after.
public struct WorkflowChangeRow: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "workflow_changes"

    public var runID: String
    public var customerSlug: String
    public var zuoraID: Int64
    public var name: String
    /// `created`, `updated`, `deleted`.
    public var action: String
    /// What differs (`name`, `status`, `version`, `updatedAt`, `export`), as a JSON list.
    public var fields: String
    public var exportSHA256Before: String?
    public var exportSHA256After: String?
    public var changedAt: String

    public init(runID: String, customerSlug: String, zuoraID: Int64, name: String, action: String, fields: [String],
                exportSHA256Before: String?, exportSHA256After: String?, changedAt: Date) {
        self.runID = runID
        self.customerSlug = customerSlug
        self.zuoraID = zuoraID
        self.name = name
        self.action = action
        self.fields = JSONValue.array(fields.map { .string($0) }).compactCanonicalString()
        self.exportSHA256Before = exportSHA256Before
        self.exportSHA256After = exportSHA256After
        self.changedAt = Timestamp.format(changedAt)
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", customerSlug = "customer_slug", zuoraID = "zuora_id", name, action, fields
        case exportSHA256Before = "export_sha256_before", exportSHA256After = "export_sha256_after", changedAt = "changed_at"
    }
}

extension Store {
    /// Records (or, on resume, replaces) how a customer's part of a run ended.
    public func recordRun(_ row: RunHistoryRow) throws {
        try writer.write { db in try row.upsert(db) }
    }

    /// Records the workflows a run changed; a resumed stage recording them again replaces them.
    public func recordChanges(_ rows: [WorkflowChangeRow]) throws {
        guard !rows.isEmpty else { return }
        try writer.write { db in
            for row in rows { try row.insert(db, onConflict: .replace) }
        }
    }

    /// A customer's runs, newest first (all customers when nil).
    public func runHistory(customerSlug: String? = nil, limit: Int = 1000) throws -> [RunHistoryRow] {
        try writer.read { db in
            var request = RunHistoryRow.order(Column("finished_at").desc, Column("run_id").desc).limit(limit)
            if let customerSlug { request = request.filter(Column("customer_slug") == customerSlug) }
            return try request.fetchAll(db)
        }
    }

    /// The changes of a workflow (or of a whole run), oldest first.
    public func changes(customerSlug: String? = nil, zuoraID: Int64? = nil, runID: String? = nil) throws -> [WorkflowChangeRow] {
        try writer.read { db in
            var request = WorkflowChangeRow.order(Column("changed_at"), Column("run_id"), Column("zuora_id"))
            if let customerSlug { request = request.filter(Column("customer_slug") == customerSlug) }
            if let zuoraID { request = request.filter(Column("zuora_id") == zuoraID) }
            if let runID { request = request.filter(Column("run_id") == runID) }
            return try request.fetchAll(db)
        }
    }
}
