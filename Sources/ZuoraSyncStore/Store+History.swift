import Foundation
import ZuoraSyncCore

extension Store {
    /// Records (or, on resume, replaces) how a customer's part of a run ended.
    public func recordRun(_ row: RunHistoryRow) throws {
        try write { db in
            let assignments = RunHistoryRow.columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0 != "run_id" && $0 != "customer_slug" }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            try db.execute("""
                INSERT INTO runs (\(RunHistoryRow.columns)) VALUES \(Store.placeholders(rows: 1, columns: 18))
                ON CONFLICT (run_id, customer_slug) DO UPDATE SET \(assignments)
                """, row.values)
        }
    }

    /// Records the workflows a run changed; a resumed stage recording them again replaces them.
    public func recordChanges(_ rows: [WorkflowChangeRow]) throws {
        guard !rows.isEmpty else { return }
        try write { db in try Self.recordChanges(rows, db) }
    }

    static func recordChanges(_ rows: [WorkflowChangeRow], _ db: any SQLSession) throws {
        for row in rows {
            try db.execute("""
                INSERT INTO workflow_changes (\(WorkflowChangeRow.columns)) VALUES \(Store.placeholders(rows: 1, columns: 9))
                ON CONFLICT (run_id, customer_slug, zuora_id, action) DO UPDATE SET name = excluded.name, fields = excluded.fields,
                    export_sha256_before = excluded.export_sha256_before, export_sha256_after = excluded.export_sha256_after,
                    changed_at = excluded.changed_at
                """, row.values)
        }
    }

    /// A customer's runs, newest first (all customers when nil).
    public func runHistory(customerSlug: String? = nil, limit: Int = 1000) throws -> [RunHistoryRow] {
        try read { db in
            let filter = customerSlug == nil ? "" : "WHERE customer_slug = ?"
            let arguments: [SQLValue] = (customerSlug.map { [$0.sqlValue] } ?? []) + [limit.sqlValue]
            return try db.query("SELECT \(RunHistoryRow.columns) FROM runs \(filter) ORDER BY finished_at DESC, run_id DESC LIMIT ?", arguments)
                .map(RunHistoryRow.init(row:))
        }
    }

    /// The changes of a workflow (or of a whole run), oldest first.
    public func changes(customerSlug: String? = nil, zuoraID: Int64? = nil, runID: String? = nil) throws -> [WorkflowChangeRow] {
        var changes: [WorkflowChangeRow] = []
        try forEachChange(customerSlug: customerSlug, zuoraID: zuoraID, runID: runID) { changes.append($0) }
        return changes
    }

    /// The same changes, one at a time (a first sync of a large tenant records one per workflow).
    public func forEachChange(customerSlug: String? = nil, zuoraID: Int64? = nil, runID: String? = nil,
                              _ body: (WorkflowChangeRow) throws -> Void) throws {
        try read { db in
            var conditions: [String] = []
            var arguments: [SQLValue] = []
            if let customerSlug { conditions.append("customer_slug = ?"); arguments.append(customerSlug.sqlValue) }
            if let zuoraID { conditions.append("zuora_id = ?"); arguments.append(zuoraID.sqlValue) }
            if let runID { conditions.append("run_id = ?"); arguments.append(runID.sqlValue) }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            try db.forEachRow("SELECT \(WorkflowChangeRow.columns) FROM workflow_changes \(filter) ORDER BY changed_at, run_id, zuora_id",
                              arguments) { try body(WorkflowChangeRow(row: $0)) }
        }
    }
}
