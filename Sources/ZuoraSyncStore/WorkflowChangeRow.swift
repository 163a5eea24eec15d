import Foundation
import ZuoraSyncCore

/// A row of `workflow_changes`: a workflow a run created, updated or deleted, with the export's
/// hash before and after.
public struct WorkflowChangeRow: Sendable, Codable, Equatable {

    public var runID: String
    public var customerSlug: String
    public var zuoraID: Int64
    public var name: String
    /// `created`, `updated`, `deleted`.
    public var action: String
    /// What differs (`name`, `status`, `version`, `updatedAt`, `export`), as a JSON list.
    public var fields: String
    /// `fields` as a list.
    public var changedFields: [String] {
        (try? JSONValue.parse(Data(fields.utf8)))?.arrayValue?.compactMap(\.stringValue) ?? []
    }
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

    init(row: SQLRow) {
        runID = row["run_id"]
        customerSlug = row["customer_slug"]
        zuoraID = row["zuora_id"]
        name = row["name"]
        action = row["action"]
        // Compact canonical text on both backends (PostgreSQL's jsonb prints it its own way).
        let stored: String = row["fields"]
        fields = (try? JSONValue.parse(Data(stored.utf8)).compactCanonicalString()) ?? stored
        exportSHA256Before = row["export_sha256_before"]
        exportSHA256After = row["export_sha256_after"]
        changedAt = row["changed_at"]
    }

    static let columns = "run_id, customer_slug, zuora_id, name, action, fields, export_sha256_before, export_sha256_after, changed_at"

    var values: [SQLValue] {
        [runID.sqlValue, customerSlug.sqlValue, zuoraID.sqlValue, name.sqlValue, action.sqlValue, fields.sqlValue,
         exportSHA256Before.sqlValue, exportSHA256After.sqlValue, changedAt.sqlValue]
    }
}
