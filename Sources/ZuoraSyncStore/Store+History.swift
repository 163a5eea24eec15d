import Foundation
import GRDB
import ZuoraSyncCore

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
