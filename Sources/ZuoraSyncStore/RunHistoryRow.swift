import Foundation
import ZuoraSyncCore

/// A row of `runs`: how one customer's part of a run ended.
public struct RunHistoryRow: Sendable, Codable, Equatable {

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

    init(row: SQLRow) {
        runID = row["run_id"]
        customerSlug = row["customer_slug"]
        pipeline = row["pipeline"]
        status = row["status"]
        isDryRun = row["is_dry_run"]
        startedAt = row["started_at"]
        finishedAt = row["finished_at"]
        durationMilliseconds = row["duration_ms"]
        workflows = row["workflows"]
        tasks = row["tasks"]
        created = row["created"]
        updated = row["updated"]
        deleted = row["deleted"]
        warnings = row["warnings"]
        requests = row["requests"]
        retries = row["retries"]
        failedStage = row["failed_stage"]
        error = row["error"]
    }

    static let columns = "run_id, customer_slug, pipeline, status, is_dry_run, started_at, finished_at, duration_ms, workflows, tasks, created, updated, deleted, warnings, requests, retries, failed_stage, error"

    var values: [SQLValue] {
        [runID.sqlValue, customerSlug.sqlValue, pipeline.sqlValue, status.sqlValue, isDryRun.sqlValue, startedAt.sqlValue,
         finishedAt.sqlValue, durationMilliseconds.sqlValue, workflows.sqlValue, tasks.sqlValue, created.sqlValue, updated.sqlValue,
         deleted.sqlValue, warnings.sqlValue, requests.sqlValue, retries.sqlValue, failedStage.sqlValue, error.sqlValue]
    }
}
