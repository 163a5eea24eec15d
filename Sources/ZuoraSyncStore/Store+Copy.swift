import Foundation
import ZuoraSyncCore

/// Moving an installation between stores (`zuora-sync store copy`) and comparing two stores row
/// by row (`store check --dump`, the copy's own verification, the backend tests).
extension Store {
    /// The tables in dependency order, each with the parent it hangs from.
    static let copiedTables: [(table: String, parent: (column: String, table: String)?)] = [
        ("customers", nil),
        ("workflows", ("customer_id", "customers")),
        ("task_sources", ("workflow_id", "workflows")),
        ("tasks", ("workflow_id", "workflows")),
        ("linkages", ("workflow_id", "workflows")),
        ("runs", nil),
        ("workflow_changes", nil),
    ]

    /// Columns holding JSON that PostgreSQL keeps as `jsonb` (re-printed its own way): compared
    /// and dumped in canonical form. Exports are kept byte for byte on both and compared as is.
    static let jsonColumns: Set<String> = ["tags", "parameters", "assignment", "css", "fields"]

    /// Columns that only remember work already done (the listing match): not copied (the target
    /// proves the match again on its first run) and not part of the dump that compares data.
    static let derivedColumns: Set<String> = ["listing_sha256", "listing_match_id"]

    /// Row counts of every table.
    public func tableCounts() throws -> [(table: String, rows: Int)] {
        try read { db in
            try Self.copiedTables.map { entry in
                (entry.table, try db.scalar(Int.self, "SELECT COUNT(*) FROM \(entry.table)") ?? 0)
            }
        }
    }

    /// Copies every row of `source` into this (empty) store in one transaction, keeping the
    /// surrogate ids' relations (ids themselves are renumbered by the target). Returns row counts.
    @discardableResult
    public func copyRows(from source: Store, batchSize: Int = 500) throws -> [(table: String, rows: Int)] {
        let existing = try tableCounts().filter { $0.rows > 0 }
        if let first = existing.first {
            throw StoreError("the target store \(database.location) is not empty (\(first.table): \(first.rows) rows); copy into a new database", isRetryable: false)
        }
        return try write { target in
            var idMaps: [String: [Int64: Int64]] = [:]
            var counts: [(table: String, rows: Int)] = []
            for (table, parent) in Self.copiedTables {
                let targetColumns = Set(try target.columnNames(table: table))
                var map: [Int64: Int64] = [:]
                var copied = 0, read = 0
                var lastID: Int64 = Int64.min
                let hasID = targetColumns.contains("id")
                while true {
                    let rows: [SQLRow] = try source.read { db in
                        hasID ? try db.query("SELECT * FROM \(table) WHERE id > ? ORDER BY id LIMIT ?", lastID, batchSize)
                            : try db.query("SELECT * FROM \(table) ORDER BY 1, 2 LIMIT ? OFFSET ?", batchSize, read)
                    }
                    if rows.isEmpty { break }
                    // Rows read, not rows copied: a skipped orphan must not be read again.
                    read += rows.count
                    for row in rows {
                        let names = row.columns.filter { $0 != "id" && !Self.derivedColumns.contains($0) && targetColumns.contains($0) }
                        var values = names.map { row.value($0) }
                        if hasID { lastID = row["id"] }
                        if let parent, let index = names.firstIndex(of: parent.column), case .integer(let old) = values[index] {
                            // An orphan row (written with foreign keys off) has nothing to hang from.
                            guard let new = idMaps[parent.table]?[old] else { continue }
                            values[index] = .integer(new)
                        }
                        let sql = "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES \(Store.placeholders(rows: 1, columns: names.count))"
                        if hasID {
                            let inserted = try target.query(sql + " RETURNING id", values)
                            let old: Int64 = row["id"]
                            map[old] = inserted.first.map { $0["id"] as Int64 }
                            lastID = old
                        } else {
                            try target.execute(sql, values)
                        }
                        copied += 1
                    }
                    if !hasID && rows.count < batchSize { break }
                }
                idMaps[table] = map
                counts.append((table, copied))
            }
            return counts
        }
    }

    /// Every row of every table as canonical JSON lines, sorted, with surrogate ids replaced by
    /// what they stand for (customer slug, workflow Zuora id): equal for two stores holding the same
    /// data, whichever backend and whatever order the rows were written in.
    public func dump() throws -> [String] {
        try read { db in
            var lines: [String] = []
            let slugs = Dictionary(uniqueKeysWithValues: try db.query("SELECT id, slug FROM customers").map { ($0["id"] as Int64, $0["slug"] as String) })
            var workflows: [Int64: String] = [:]
            for row in try db.query("SELECT id, customer_id, zuora_id FROM workflows") {
                workflows[row["id"]] = "\(slugs[row["customer_id"]] ?? "?")/\(row["zuora_id"] as Int64)"
            }
            for (table, _) in Self.copiedTables {
                for row in try db.query("SELECT * FROM \(table)") {
                    var object: [String: JSONValue] = ["table": .string(table)]
                    for (name, value) in zip(row.columns, row.values) where name != "id" && !Self.derivedColumns.contains(name) {
                        switch (name, value) {
                        case ("customer_id", .integer(let id)): object[name] = .string(slugs[id] ?? "?")
                        case ("workflow_id", .integer(let id)): object[name] = .string(workflows[id] ?? "?")
                        case (let column, .text(let text)) where Self.jsonColumns.contains(column):
                            object[name] = (try? JSONValue.parse(Data(text.utf8))) ?? .string(text)
                        default: object[name] = JSONValue(sqlValue: value)
                        }
                    }
                    lines.append(JSONValue.object(object).compactCanonicalString())
                }
            }
            return lines.sorted()
        }
    }

    /// The newest schema migration applied.
    public func schemaVersion() throws -> String {
        try read { db in
            switch db.dialect {
            case .sqlite: return try db.scalar(String.self, "SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1") ?? "none"
            case .postgresql: return try db.scalar(String.self, "SELECT id FROM schema_migrations ORDER BY applied_at DESC, id DESC LIMIT 1") ?? "none"
            }
        }
    }
}
