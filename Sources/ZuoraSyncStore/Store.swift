import Foundation
import GRDB
import ZuoraAPI
import ZuoraSyncCore

/// One workflow row to insert or update from a listing, with the hash of a good export
/// downloaded in this run (the stored export is replaced only then).
public struct WorkflowUpsert: Sendable {
    public var listed: ListedWorkflow
    public var exportSHA256: String?
    public init(listed: ListedWorkflow, exportSHA256: String?) {
        self.listed = listed
        self.exportSHA256 = exportSHA256
    }
}

/// A store operation that cannot go on, and whether a later attempt can help.
public struct StoreError: Error, RetryClassifiable, CustomStringConvertible, Sendable {
    public var message: String
    public var isRetryable: Bool
    /// PostgreSQL's error code, when the server gave one.
    public var sqlState: String?
    /// The connection to the database server broke (restart, network): nothing was committed.
    public var isConnectionLost: Bool
    public init(_ message: String, isRetryable: Bool, sqlState: String? = nil, isConnectionLost: Bool = false) {
        self.message = message
        self.isRetryable = isRetryable
        self.sqlState = sqlState
        self.isConnectionLost = isConnectionLost
    }
    public var description: String { message }
}

/// The database: SQLite under the data directory (`store.sqlite`, WAL mode, foreign keys on) by
/// default, or PostgreSQL (`store:` / `--store`). One SQL text serves both (`SQLDatabase`); every
/// write is one transaction.
public final class Store: Sendable {
    public let database: any SQLDatabase

    /// The GRDB connection of an SQLite store (tests and SQLite-only tools); nil for PostgreSQL.
    public var sqliteWriter: (any DatabaseWriter)? { (database as? GRDBDatabase)?.writer }
    public var dialect: SQLDialect { database.dialect }

    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// The page size of a database this creates: 16 KB, not SQLite's 4 KB. A stored export (about
    /// 24 KB) takes two pages instead of six, and each page is a frame in the write-ahead log and
    /// a write again at the checkpoint: a first sync of 5,000 workflows made 62 `pwrite`s per
    /// workflow with 4 KB pages, 17 with 16 KB. A database created earlier keeps its page size
    /// (SQLite cannot change it in WAL mode without rewriting the file); this setting is ignored
    /// for it.
    static let newDatabasePageSize = 16384

    /// Opens (creating and migrating) the SQLite database at `url`.
    public convenience init(url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = \(Self.newDatabasePageSize)") }
        // Two processes opening a new data directory at once must not both create the schema.
        let lockFD = open(url.path + ".migrate.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        if lockFD >= 0 { flock(lockFD, LOCK_EX) }
        defer {
            if lockFD >= 0 {
                flock(lockFD, LOCK_UN)
                close(lockFD)
            }
        }
        do {
            let writer = try DatabasePool(path: url.path, configuration: configuration)
            try StoreSchema.migrator.migrate(writer)
            self.init(database: GRDBDatabase(writer: writer, location: url.path))
        } catch {
            throw FileError(path: url.path, message: "cannot open the database (\(error)). If it is damaged, move it aside; the next full sync rebuilds it.")
        }
    }

    /// Opens an existing SQLite database for reading only: no lock file, no migration, nothing
    /// written (read commands work on a read-only data directory).
    public convenience init(readingOnly url: URL) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(30)
        var queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: url.path, configuration: configuration)
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM customers") }
        } catch {
            // A read-only directory cannot hold SQLite's shared-memory file: read the file as immutable.
            do {
                queue = try DatabaseQueue(path: "file:\(url.path)?immutable=1", configuration: configuration)
            } catch {
                throw FileError(path: url.path, message: "cannot open the database for reading (\(error)).", cause: error)
            }
        }
        self.init(database: GRDBDatabase(writer: queue, location: url.path))
    }

    /// An empty in-memory SQLite store (dry runs with no database yet, tests).
    public convenience init() throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        let writer = try DatabaseQueue(configuration: configuration)
        try StoreSchema.migrator.migrate(writer)
        self.init(database: GRDBDatabase(writer: writer, location: ":memory:"))
    }

    /// Connects to a PostgreSQL store and creates or upgrades its schema (under an advisory lock).
    public convenience init(postgres: PostgresLocation, environment: [String: String], migrate: Bool = true) throws {
        let database = try PostgresDatabase(location: postgres, environment: environment)
        if migrate { try database.migrate() }
        self.init(database: database)
    }

    /// Opens the store at `location`; SQLite's file defaults to the data directory's `store.sqlite`.
    /// `readOnly` opens an SQLite file without writing (and a missing one as an empty in-memory
    /// store, for dry runs, which must not create files outside their run directory).
    public static func opening(_ location: StoreLocation, dataDirectory: DataDirectory, environment: [String: String],
                            readOnly: Bool = false) throws -> Store {
        switch location {
        case .sqlite(let path):
            let url = path.map { URL(fileURLWithPath: $0) } ?? dataDirectory.storeFile
            if readOnly { return FileManager.default.fileExists(atPath: url.path) ? try Store(url: url) : try Store() }
            return try Store(url: url)
        case .postgresql(let postgres):
            return try Store(postgres: postgres, environment: environment)
        }
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T { try database.read(body) }
    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T { try database.write(body) }

    // MARK: customers

    /// Inserts or updates the customer row; returns its id.
    @discardableResult
    public func upsertCustomer(_ customer: CustomerConfig) throws -> Int64 {
        try write { db in try Self.upsertCustomer(customer, db) }
    }

    static func upsertCustomer(_ customer: CustomerConfig, _ db: any SQLSession) throws -> Int64 {
        try db.scalar(Int64.self, """
            INSERT INTO customers (slug, name, base_url) VALUES (?, ?, ?)
            ON CONFLICT(slug) DO UPDATE SET name = excluded.name, base_url = excluded.base_url
            RETURNING id
            """, customer.id, customer.name, customer.baseURL.absoluteString)!
    }

    /// Every customer slug in the store, sorted.
    public func customerSlugs() throws -> [String] {
        // Sorted here: PostgreSQL's collation may order '-' and '_' differently from SQLite's bytes.
        try read { db in try db.column(String.self, "SELECT slug FROM customers") }.sorted()
    }

    /// Last sync time and result by customer slug.
    public func customerStatuses() throws -> [String: (lastSyncedAt: String?, lastResult: String?)] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try db.query("SELECT slug, last_synced_at, last_result FROM customers").map {
                ($0["slug"] as String, (lastSyncedAt: $0["last_synced_at"] as String?, lastResult: $0["last_result"] as String?))
            })
        }
    }

    public func customerRowID(slug: String) throws -> Int64? {
        try read { db in try db.scalar(Int64.self, "SELECT id FROM customers WHERE slug = ?", slug) }
    }

    /// When the customer last had every export downloaded (for `full_every_hours`).
    public func lastFullExport(slug: String) throws -> Date? {
        try read { db in
            try db.scalar(String.self, "SELECT last_full_export_at FROM customers WHERE slug = ?", slug)
        }.flatMap(Timestamp.parse)
    }

    /// How a customer's last sync ended (`customers.last_result`).
    public enum SyncResult: String, Sendable { case succeeded, failed }

    public func recordCustomerResult(slug: String, syncedAt: Date, result: SyncResult, fullExport: Bool) throws {
        try write { db in
            let time = Timestamp.format(syncedAt)
            try db.execute("""
                UPDATE customers SET last_synced_at = ?, last_result = ?,
                    last_full_export_at = CASE WHEN ? = 1 THEN ? ELSE last_full_export_at END
                WHERE slug = ?
                """, time, result.rawValue, fullExport ? 1 : 0, time, slug)
        }
    }

    // MARK: workflows

    /// The customer's stored workflows by Zuora id.
    public func storedWorkflows(customerSlug: String) throws -> [Int64: StoredWorkflow] {
        try read { db in
            // Row by row into the map: on SQLite, not all rows first, then the map (both at once,
            // for a tenant of 20,000 workflows, at an unchanged resync's peak). PostgreSQL hands
            // over its whole result first either way.
            var stored: [Int64: StoredWorkflow] = [:]
            try db.forEachRow("""
                SELECT w.id, w.zuora_id, w.name, w.status, w.version, w.updated_on, w.export_sha256
                FROM workflows w JOIN customers c ON c.id = w.customer_id WHERE c.slug = ?
                """, [customerSlug.sqlValue]) { row in
                let workflow = StoredWorkflow(row: row)
                stored[workflow.zuoraID] = workflow
            }
            return stored
        }
    }

    /// The stored export (canonical JSON text) of every workflow of a customer that has one, by Zuora id.
    public func exports(customerSlug: String, zuoraIDs: Set<Int64>? = nil) throws -> [StoredExport] {
        try read { db in
            guard let zuoraIDs else {
                return try db.query("""
                    SELECT w.zuora_id, w.export, w.export_sha256 FROM workflows w JOIN customers c ON c.id = w.customer_id
                    WHERE c.slug = ? AND w.export IS NOT NULL ORDER BY w.zuora_id
                    """, customerSlug)
                    .map { StoredExport(zuoraID: $0["zuora_id"], text: $0["export"], sha256: $0["export_sha256"]) }
            }
            // Only the rows asked for, 200 ids a query: a few exports of a large tenant are not read
            // all at once, and a round trip serves 200 of them.
            let ids = zuoraIDs.sorted()
            var found: [StoredExport] = []
            for start in stride(from: 0, to: ids.count, by: 200) {
                let chunk = ids[start..<min(start + 200, ids.count)]
                let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                found += try db.query("""
                    SELECT w.zuora_id, w.export, w.export_sha256 FROM workflows w JOIN customers c ON c.id = w.customer_id
                    WHERE c.slug = ? AND w.zuora_id IN (\(placeholders)) AND w.export IS NOT NULL ORDER BY w.zuora_id
                    """, [customerSlug.sqlValue] + chunk.map(\.sqlValue)).map {
                    StoredExport(zuoraID: $0["zuora_id"], text: $0["export"], sha256: $0["export_sha256"])
                }
            }
            return found
        }
    }

    /// Calls `body` with the stored exports of `zuoraIDs`, read 200 at a time, so memory stays
    /// bounded however many a tenant has.
    public func forEachExport(customerSlug: String, zuoraIDs: Set<Int64>, _ body: (StoredExport) throws -> Void) throws {
        let ids = zuoraIDs.sorted()
        var start = 0
        while start < ids.count {
            let chunk = Set(ids[start..<min(start + 200, ids.count)])
            start += 200
            for export in try exports(customerSlug: customerSlug, zuoraIDs: chunk) { try body(export) }
        }
    }

    /// Workflows whose tasks were not extracted from their stored export (a new export, or one an
    /// interrupted run stored without extracting), by Zuora id.
    public func workflowsWithStaleTasks(customerSlug: String) throws -> [Int64] {
        try read { db in
            try db.column(Int64.self, """
                SELECT w.zuora_id FROM workflows w JOIN customers c ON c.id = w.customer_id
                LEFT JOIN task_sources s ON s.workflow_id = w.id
                WHERE c.slug = ? AND w.export_sha256 IS NOT NULL AND s.export_sha256 IS DISTINCT FROM w.export_sha256
                ORDER BY w.zuora_id
                """, customerSlug)
        }
    }

    /// The tasks and linkages stored for each of these workflows, by Zuora id (200 ids a query);
    /// a workflow without a row is left out.
    public func taskCounts(customerSlug: String, zuoraIDs: Set<Int64>) throws -> [Int64: (tasks: Int, linkages: Int)] {
        let ids = zuoraIDs.sorted()
        var counts: [Int64: (tasks: Int, linkages: Int)] = [:]
        try read { db in
            for start in stride(from: 0, to: ids.count, by: 200) {
                let chunk = ids[start..<min(start + 200, ids.count)]
                try db.forEachRow("""
                    SELECT w.zuora_id, (SELECT COUNT(*) FROM tasks t WHERE t.workflow_id = w.id) AS tasks,
                           (SELECT COUNT(*) FROM linkages l WHERE l.workflow_id = w.id) AS linkages
                    FROM workflows w JOIN customers c ON c.id = w.customer_id
                    WHERE c.slug = ? AND w.zuora_id IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ", ")))
                    """, [customerSlug.sqlValue] + chunk.map(\.sqlValue)) { row in
                    let tasks: Int64 = row["tasks"], linkages: Int64 = row["linkages"]
                    counts[row["zuora_id"]] = (Int(tasks), Int(linkages))
                }
            }
        }
        return counts
    }

    /// Every stored export's hash, all customers (for the object collector).
    public func allExportHashes() throws -> [String] {
        try read { db in try db.column(String.self, "SELECT export_sha256 FROM workflows WHERE export_sha256 IS NOT NULL") }
    }

    /// Hashes of the stored exports, by Zuora id (no export text is read).
    public func exportHashes(customerSlug: String) throws -> [Int64: String] {
        try read { db in
            let rows = try db.query("""
                SELECT w.zuora_id, w.export_sha256 FROM workflows w JOIN customers c ON c.id = w.customer_id
                WHERE c.slug = ? AND w.export_sha256 IS NOT NULL
                """, customerSlug)
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["zuora_id"] as Int64, $0["export_sha256"] as String) })
        }
    }

    /// Applies a save plan in one transaction: inserts new workflow rows, updates a row only where
    /// something differs (a listed field, or an export downloaded in this run whose hash differs from
    /// the stored one), and leaves every other row untouched, so an unchanged resync writes nothing.
    /// `last_synced_at` is when the row last changed; `export_synced_at` when its export last changed.
    /// An export whose hash equals the stored one is not read at all.
    public func apply(_ rows: [WorkflowUpsert], customer: CustomerConfig, syncedAt: Date,
                      exportText: (Int64) throws -> String) throws {
        _ = try write { db in try Self.apply(rows, customer: customer, syncedAt: syncedAt, onlyTheseRows: false, exportText: exportText, db) }
    }

    /// `apply` for some of a customer's workflows (a batch of a streamed save), recording in the
    /// same transaction, in `workflow_changes` for `runID`, each workflow created or updated (its
    /// name, status, version, updatedAt or export differ): a change and its record commit together,
    /// so a resumed run counts what an interrupted attempt already wrote. Returns the records.
    @discardableResult
    public func applyRecordingChanges(_ rows: [WorkflowUpsert], customer: CustomerConfig, syncedAt: Date, runID: String,
                                      exportText: (Int64) throws -> String) throws -> [WorkflowChangeRow] {
        guard !rows.isEmpty else { return [] }
        return try write { db in
            let changes = try Self.apply(rows, customer: customer, syncedAt: syncedAt, onlyTheseRows: true, exportText: exportText, db).map { change in
                WorkflowChangeRow(runID: runID, customerSlug: customer.id, zuoraID: change.listed.id, name: change.listed.name,
                                  action: change.isNew ? "created" : "updated", fields: change.fields,
                                  exportSHA256Before: change.exportBefore, exportSHA256After: change.exportAfter ?? change.exportBefore,
                                  changedAt: syncedAt)
            }
            try Self.recordChanges(changes, db)
            return changes
        }
    }

    /// What `apply` changed in a row, in the terms of the change history.
    struct AppliedChange {
        var listed: ListedWorkflow
        var isNew: Bool
        /// `name`, `status`, `version`, `updatedAt`, `export` that differ (empty for a new row).
        var fields: [String]
        var exportBefore: String?
        var exportAfter: String?
    }

    /// The body of `apply`, inside a write transaction. `onlyTheseRows`: read back only the rows'
    /// own stored values (a batch), instead of every row of the customer. Returns the rows created,
    /// and those updated in a field the history names.
    static func apply(_ rows: [WorkflowUpsert], customer: CustomerConfig, syncedAt: Date, onlyTheseRows: Bool,
                      exportText: (Int64) throws -> String, _ db: any SQLSession) throws -> [AppliedChange] {
        // One listing holds each id once; a repeated id would be two updates of one row in one statement.
        var seen = Set<Int64>()
        let unique = rows.reversed().filter { seen.insert($0.listed.id).inserted }.reversed()
        do {
            let customerID = try Self.upsertCustomer(customer, db)
            let now = Timestamp.format(syncedAt)
            // The stored listed fields and export hash of every row: a row whose fields and export
            // are what is stored is not sent at all (an unchanged resync sends no row; the server
            // no longer checks and locks each one). A value read back in another form (a boolean,
            // a date) only means the row is sent, and the statement's WHERE decides as before.
            var storedRows: [Int64: [SQLValue]] = [:]
            var stored: [Int64: String] = [:]
            let columns = """
                SELECT zuora_id, name, description, status, type, version, active_version_id, callout_trigger, ondemand_trigger,
                       scheduled_trigger, interval, timezone, created_on, updated_on, export_sha256
                FROM workflows WHERE customer_id = ?
                """
            var found: [SQLRow] = []
            if onlyTheseRows {
                let ids = unique.map(\.listed.id)
                for start in stride(from: 0, to: ids.count, by: 500) {
                    let chunk = ids[start..<min(start + 500, ids.count)]
                    found += try db.query(columns + " AND zuora_id IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ", ")))",
                                          [customerID.sqlValue] + chunk.map(\.sqlValue))
                }
            } else {
                found = try db.query(columns, customerID)
            }
            for row in found {
                let id: Int64 = row["zuora_id"]
                storedRows[id] = Array(row.values[1..<14])
                if case .text(let sha) = row.values[14] { stored[id] = sha }
            }
            func listedValues(_ listed: ListedWorkflow) -> [SQLValue] {
                [listed.name.sqlValue, listed.description.sqlValue, listed.status.sqlValue,
                 listed.activeVersionType.sqlValue, listed.activeVersion.sqlValue, listed.activeVersionID.sqlValue,
                 listed.calloutTrigger.sqlValue, listed.ondemandTrigger.sqlValue, listed.scheduledTrigger.sqlValue,
                 listed.interval.sqlValue, listed.timezone.sqlValue, listed.createdAt.sqlValue, listed.updatedAt.sqlValue]
            }
            let changed: [(item: WorkflowUpsert, listedValues: [SQLValue])] = unique.compactMap { item in
                let values = listedValues(item.listed)
                let exportDiffers = item.exportSHA256 != nil && stored[item.listed.id] != item.exportSHA256
                return storedRows[item.listed.id] != values || exportDiffers ? (item, values) : nil
            }
            // 100 rows a statement: one round trip per 100 workflows on PostgreSQL.
            for rows in Self.statementRows(changed.count, maxRows: 100, dialect: db.dialect) {
                let chunk = changed[rows]
                var values: [SQLValue] = []
                values.reserveCapacity(chunk.count * 19)
                for (item, listedValues) in chunk {
                    let listed = item.listed
                    var export: String?
                    if let expected = item.exportSHA256, stored[listed.id] != expected {
                        let text = try exportText(listed.id)
                        guard Digest.sha256Hex(text) == expected else {
                            throw StoreError("the downloaded export of workflow \(listed.id) changed on disk since it was downloaded; start a new run", isRetryable: false)
                        }
                        export = text
                    }
                    CrashPoints.hit()
                    values += [customerID.sqlValue, listed.id.sqlValue] + listedValues + [
                        export.sqlValue, (export == nil ? nil : item.exportSHA256).sqlValue, (export == nil ? nil : now).sqlValue, now.sqlValue,
                    ]
                }
                try db.executeReused("""
                    INSERT INTO workflows (customer_id, zuora_id, name, description, status, type, version, active_version_id,
                        callout_trigger, ondemand_trigger, scheduled_trigger, interval, timezone, created_on, updated_on,
                        export, export_sha256, export_synced_at, last_synced_at)
                    VALUES \(Self.placeholders(rows: chunk.count, columns: 19))
                    ON CONFLICT(customer_id, zuora_id) DO UPDATE SET
                        name = excluded.name, description = excluded.description, status = excluded.status,
                        type = excluded.type, version = excluded.version, active_version_id = excluded.active_version_id,
                        callout_trigger = excluded.callout_trigger, ondemand_trigger = excluded.ondemand_trigger,
                        scheduled_trigger = excluded.scheduled_trigger, interval = excluded.interval, timezone = excluded.timezone,
                        created_on = excluded.created_on, updated_on = excluded.updated_on,
                        export = COALESCE(excluded.export, workflows.export),
                        export_sha256 = COALESCE(excluded.export_sha256, workflows.export_sha256),
                        export_synced_at = COALESCE(excluded.export_synced_at, workflows.export_synced_at),
                        last_synced_at = excluded.last_synced_at
                    WHERE workflows.name IS DISTINCT FROM excluded.name OR workflows.description IS DISTINCT FROM excluded.description
                        OR workflows.status IS DISTINCT FROM excluded.status OR workflows.type IS DISTINCT FROM excluded.type
                        OR workflows.version IS DISTINCT FROM excluded.version OR workflows.active_version_id IS DISTINCT FROM excluded.active_version_id
                        OR workflows.callout_trigger IS DISTINCT FROM excluded.callout_trigger
                        OR workflows.ondemand_trigger IS DISTINCT FROM excluded.ondemand_trigger
                        OR workflows.scheduled_trigger IS DISTINCT FROM excluded.scheduled_trigger
                        OR workflows.interval IS DISTINCT FROM excluded.interval OR workflows.timezone IS DISTINCT FROM excluded.timezone
                        OR workflows.created_on IS DISTINCT FROM excluded.created_on OR workflows.updated_on IS DISTINCT FROM excluded.updated_on
                        OR (excluded.export_sha256 IS NOT NULL AND excluded.export_sha256 IS DISTINCT FROM workflows.export_sha256)
                    """, values)
            }
            // In the history's terms (the fields a plan compares), what changed.
            return changed.compactMap { item, values in
                let id = item.listed.id
                let newExport = item.exportSHA256.flatMap { $0 == stored[id] ? nil : $0 }
                guard let before = storedRows[id] else {
                    return AppliedChange(listed: item.listed, isNew: true, fields: [], exportBefore: nil, exportAfter: newExport)
                }
                var fields: [String] = []
                for (name, index) in [("name", 0), ("status", 2), ("version", 4), ("updatedAt", 12)] where before[index] != values[index] {
                    fields.append(name)
                }
                if newExport != nil { fields.append("export") }
                return fields.isEmpty ? nil : AppliedChange(listed: item.listed, isNew: false, fields: fields, exportBefore: stored[id],
                                                             exportAfter: newExport)
            }
        }
    }

    // MARK: listing match

    /// The listing the customer's rows were last proven to hold by `recordListingMatch`; nil when
    /// unknown or when anything changed since. While it is set, the customer has exactly the rows
    /// of that listing, each with a good export and the tasks of that export: an unchanged resync
    /// of the same listing has nothing to write.
    public func listingMatch(customerSlug: String) throws -> ListingMatch? {
        try read { db in
            guard let row = try db.query("SELECT listing_sha256, listing_match_id FROM customers WHERE slug = ?", customerSlug).first,
                  let sha: String = row["listing_sha256"], let id: String = row["listing_match_id"] else { return nil }
            return ListingMatch(listingSHA256: sha, id: id)
        }
    }

    /// Records that the customer's rows match the listing with this fingerprint, after checking
    /// what can be checked in the database: as many rows as `listedCount`, every one with a
    /// stored export and tasks from that export. Returns false (and records nothing) when they do
    /// not. The caller vouches that every listed workflow was written from this listing. Any
    /// later change to the customer's workflows or task sources forgets it (schema triggers).
    @discardableResult
    public func recordListingMatch(customerSlug: String, listingSHA256: String, listedCount: Int) throws -> Bool {
        try write { db in
            let row = try db.query("""
                SELECT COUNT(*) AS total,
                       COUNT(*) FILTER (WHERE w.export_sha256 IS NULL OR s.export_sha256 IS DISTINCT FROM w.export_sha256) AS incomplete
                FROM workflows w JOIN customers c ON c.id = w.customer_id LEFT JOIN task_sources s ON s.workflow_id = w.id
                WHERE c.slug = ?
                """, customerSlug).first
            guard let row, row["total"] as Int == listedCount, row["incomplete"] as Int == 0 else { return false }
            try db.execute("UPDATE customers SET listing_sha256 = ?, listing_match_id = ? WHERE slug = ?",
                           [listingSHA256.sqlValue, UUID().uuidString.lowercased().sqlValue, customerSlug.sqlValue])
            return true
        }
    }

    // MARK: tasks

    /// Replaces a workflow's tasks and linkages in one transaction.
    public func replaceTasks(customerSlug: String, zuoraID: Int64, extraction: TaskExtraction) throws {
        try replaceTasks(customerSlug: customerSlug, batch: [(zuoraID, extraction)])
    }

    /// Replaces the tasks and linkages of several workflows in one transaction.
    public func replaceTasks(customerSlug: String, batch: [(zuoraID: Int64, extraction: TaskExtraction)]) throws {
        guard !batch.isEmpty else { return }
        try write { db in
            // A few statements for the whole batch (round trips count on PostgreSQL): the rows'
            // ids, then one update and two deletes, then multi-row inserts.
            var rowIDs: [Int64: Int64] = [:]
            let ids = batch.map(\.zuoraID)
            for start in stride(from: 0, to: ids.count, by: 200) {
                let chunk = ids[start..<min(start + 200, ids.count)]
                for row in try db.query("""
                    SELECT w.zuora_id, w.id FROM workflows w JOIN customers c ON c.id = w.customer_id
                    WHERE c.slug = ? AND w.zuora_id IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ", ")))
                    """, [customerSlug.sqlValue] + chunk.map(\.sqlValue)) {
                    rowIDs[row["zuora_id"]] = row["id"]
                }
            }
            var seen = Set<Int64>()
            let latest = batch.reversed().filter { seen.insert($0.zuoraID).inserted }.reversed()
            let found = latest.compactMap { item in rowIDs[item.zuoraID].map { (rowID: $0, extraction: item.extraction) } }
            for _ in found { CrashPoints.hit() }
            let rows = found.map(\.rowID)
            for start in stride(from: 0, to: rows.count, by: 200) {
                let chunk = Array(rows[start..<min(start + 200, rows.count)])
                let list = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let values = chunk.map(\.sqlValue)
                // A row of its own (not a column of workflows): updating a workflow row rewrites its export.
                try db.execute("""
                    INSERT INTO task_sources (workflow_id, export_sha256)
                    SELECT id, export_sha256 FROM workflows WHERE id IN (\(list)) AND export_sha256 IS NOT NULL
                    ON CONFLICT (workflow_id) DO UPDATE SET export_sha256 = excluded.export_sha256
                    """, values)
                try db.execute("DELETE FROM tasks WHERE workflow_id IN (\(list))", values)
                try db.execute("DELETE FROM linkages WHERE workflow_id IN (\(list))", values)
            }
            try Self.insertTasks(found, db)
        }
        // No kill point per call here: streamed extraction takes batches of whatever has arrived,
        // so their number varies from run to run, and the crash matrix needs the same points in
        // every run. The points per workflow above, and the next stage's, cover after the commit.
    }

    /// Inserts the tasks and linkages of several workflows, 50 task rows (100 linkage rows) a statement.
    static func insertTasks(_ workflows: [(rowID: Int64, extraction: TaskExtraction)], _ db: any SQLSession) throws {
        let taskColumns = 16
        let tasks = workflows.flatMap { workflow in workflow.extraction.tasks.map { (workflow.rowID, $0) } }
        for rows in statementRows(tasks.count, maxRows: 50, dialect: db.dialect) {
            let slice = tasks[rows]
            var values: [SQLValue] = []
            values.reserveCapacity(slice.count * taskColumns)
            for (rowID, task) in slice {
                values += [
                    rowID.sqlValue, task.zuoraTaskID.sqlValue, task.parentTaskID.sqlValue, task.name.sqlValue, task.actionType.sqlValue,
                    task.callType.sqlValue, task.object.sqlValue, task.objectID.sqlValue, task.priority.sqlValue,
                    task.concurrentLimit.sqlValue, task.tags.sqlValue, task.parameters.sqlValue, task.assignment.sqlValue,
                    task.css.sqlValue, task.zuoraOrgID.sqlValue, task.subprocessID.sqlValue,
                ]
            }
            try db.executeReused("""
                INSERT INTO tasks (workflow_id, zuora_task_id, parent_task_id, name, action_type, call_type, object, object_id,
                    priority, concurrent_limit, tags, parameters, assignment, css, zuora_org_id, subprocess_id)
                VALUES \(Self.placeholders(rows: slice.count, columns: taskColumns))
                """, values)
        }
        let linkages = workflows.flatMap { workflow in workflow.extraction.linkages.map { (workflow.rowID, $0) } }
        for rows in statementRows(linkages.count, maxRows: 100, dialect: db.dialect) {
            let slice = linkages[rows]
            var values: [SQLValue] = []
            for (rowID, linkage) in slice {
                values += [rowID.sqlValue, linkage.linkageType.sqlValue, linkage.sourceWorkflowID.sqlValue,
                           linkage.sourceTaskID.sqlValue, linkage.targetTaskID.sqlValue]
            }
            try db.executeReused("""
                INSERT INTO linkages (workflow_id, linkage_type, source_workflow_id, source_task_id, target_task_id)
                VALUES \(Self.placeholders(rows: slice.count, columns: 5))
                """, values)
        }
    }

    /// The rows of each statement of a multi-row insert of `count` rows: as many statements of
    /// `maxRows` as fit, then, on SQLite, the rest in descending powers of two (73 of 100: 64, 8,
    /// 1). A call site then runs a few statement texts, which the connection keeps prepared
    /// (`executeReused`), instead of one for every count. PostgreSQL, where each statement is a
    /// round trip, takes the rest in one.
    static func statementRows(_ count: Int, maxRows: Int, dialect: SQLDialect) -> [Range<Int>] {
        precondition(maxRows > 0)
        var ranges: [Range<Int>] = []
        var start = 0
        while start < count {
            let rest = count - start
            let rows = rest >= maxRows || dialect == .postgresql ? min(rest, maxRows) : 1 << (Int.bitWidth - 1 - rest.leadingZeroBitCount)
            ranges.append(start..<start + rows)
            start += rows
        }
        return ranges
    }

    /// `(?, ?), (?, ?)` for a multi-row insert.
    static func placeholders(rows: Int, columns: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        return Array(repeating: row, count: rows).joined(separator: ", ")
    }

    /// Task and linkage counts of one workflow.
    public func taskCounts(customerSlug: String, zuoraID: Int64) throws -> (tasks: Int, linkages: Int) {
        try read { db in
            let rowID = try db.scalar(Int64.self, """
                SELECT w.id FROM workflows w JOIN customers c ON c.id = w.customer_id WHERE c.slug = ? AND w.zuora_id = ?
                """, customerSlug, zuoraID) ?? -1
            return (try db.scalar(Int.self, "SELECT COUNT(*) FROM tasks WHERE workflow_id = ?", rowID) ?? 0,
                    try db.scalar(Int.self, "SELECT COUNT(*) FROM linkages WHERE workflow_id = ?", rowID) ?? 0)
        }
    }

    // MARK: cleanup and restore

    /// Reads the given workflows with their tasks and linkages, for the trash.
    public func archiveWorkflows(customerSlug: String, zuoraIDs: [Int64]) throws -> [WorkflowArchive] {
        try read { db in
            var archives: [WorkflowArchive] = []
            for zuoraID in zuoraIDs.sorted() {
                guard let row = try db.query("""
                    SELECT w.* FROM workflows w JOIN customers c ON c.id = w.customer_id WHERE c.slug = ? AND w.zuora_id = ?
                    """, customerSlug, zuoraID).first else { continue }
                let rowID: Int64 = row["id"]
                func columns(_ row: SQLRow) -> [String: JSONValue] {
                    var result: [String: JSONValue] = [:]
                    for (name, value) in zip(row.columns, row.values) where name != "id" && name != "workflow_id" && name != "customer_id" {
                        result[name] = JSONValue(sqlValue: value)
                    }
                    return result
                }
                let tasks = try db.query("SELECT * FROM tasks WHERE workflow_id = ? ORDER BY zuora_task_id", rowID).map(columns)
                let linkages = try db.query("SELECT * FROM linkages WHERE workflow_id = ? ORDER BY id", rowID).map(columns)
                var workflow = columns(row)
                // Kept under the column's former name, so trash files read the same before and after v4.
                workflow["tasks_export_sha256"] = try db.scalar(String.self, "SELECT export_sha256 FROM task_sources WHERE workflow_id = ?", rowID)
                    .map(JSONValue.string) ?? .null
                archives.append(WorkflowArchive(customerSlug: customerSlug, workflow: workflow, tasks: tasks, linkages: linkages))
            }
            return archives
        }
    }

    /// Deletes workflows (their tasks and linkages cascade) in one transaction.
    public func deleteWorkflows(customerSlug: String, zuoraIDs: [Int64]) throws {
        try write { db in
            guard let customerID = try db.scalar(Int64.self, "SELECT id FROM customers WHERE slug = ?", customerSlug) else { return }
            for zuoraID in zuoraIDs {
                CrashPoints.hit()
                try db.execute("DELETE FROM workflows WHERE customer_id = ? AND zuora_id = ?", customerID, zuoraID)
            }
        }
        CrashPoints.hit()
    }

    /// Puts archived workflows back (replacing any row with the same Zuora id), in one transaction.
    public func restore(_ archives: [WorkflowArchive], customer: CustomerConfig) throws {
        try write { db in
            try Self.restore(archives, customerID: try Self.upsertCustomer(customer, db), db)
        }
    }

    /// The same, for a customer that is only in the store.
    public func restore(_ archives: [WorkflowArchive], customerSlug: String) throws {
        try write { db in
            guard let customerID = try db.scalar(Int64.self, "SELECT id FROM customers WHERE slug = ?", customerSlug) else { return }
            try Self.restore(archives, customerID: customerID, db)
        }
    }

    private static func restore(_ archives: [WorkflowArchive], customerID: Int64, _ db: any SQLSession) throws {
        // Column names come from a trash file: only the table's own columns are accepted.
        var known: [String: Set<String>] = [:]
        @discardableResult
        func insert(into table: String, parent: (column: String, id: Int64), values: [String: JSONValue]) throws -> Int64 {
            if known[table] == nil { known[table] = Set(try db.columnNames(table: table)) }
            let allowed = known[table]!.subtracting(["id", parent.column])
            let names = values.keys.sorted()
            if let unknown = names.first(where: { !allowed.contains($0) }) {
                throw FileError(path: "trash", message: "an archived \(table) row has an unknown column '\(unknown)'; it was not restored.")
            }
            let placeholders = String(repeating: ", ?", count: names.count)
            let sql = "INSERT INTO \(table) (\(parent.column)\(names.map { ", " + $0 }.joined())) VALUES (?\(placeholders)) RETURNING id"
            let inserted = try db.query(sql, [parent.id.sqlValue] + names.map { values[$0]!.sqlValue })
            return inserted.first.map { $0["id"] as Int64 } ?? 0
        }
        for archive in archives {
            guard let zuoraID = archive.workflow["zuora_id"]?.intValue else { continue }
            try db.execute("DELETE FROM workflows WHERE customer_id = ? AND zuora_id = ?", customerID, zuoraID)
            var workflow = archive.workflow
            let taskSource = workflow.removeValue(forKey: "tasks_export_sha256")
            let rowID = try insert(into: "workflows", parent: ("customer_id", customerID), values: workflow)
            if case .string(let sha256)? = taskSource {
                try db.execute("INSERT INTO task_sources (workflow_id, export_sha256) VALUES (?, ?)", rowID, sha256)
            }
            for task in archive.tasks { try insert(into: "tasks", parent: ("workflow_id", rowID), values: task) }
            for linkage in archive.linkages { try insert(into: "linkages", parent: ("workflow_id", rowID), values: linkage) }
        }
    }

    /// Workflow, task and linkage counts of a customer.
    public func counts(customerSlug: String) throws -> (workflows: Int, tasks: Int, linkages: Int) {
        try read { db in
            let (w, t) = try Self.workflowAndTaskCounts(customerSlug, db)
            let l = try db.scalar(Int.self, "SELECT COUNT(*) FROM linkages l JOIN workflows w ON w.id = l.workflow_id JOIN customers c ON c.id = w.customer_id WHERE c.slug = ?", customerSlug) ?? 0
            return (w, t, l)
        }
    }

    /// The counts a run's summary shows, without the linkages' (a third of the time of `counts`
    /// on PostgreSQL, where an unchanged resync spends several milliseconds counting).
    public func workflowAndTaskCounts(customerSlug: String) throws -> (workflows: Int, tasks: Int) {
        try read { db in try Self.workflowAndTaskCounts(customerSlug, db) }
    }

    private static func workflowAndTaskCounts(_ customerSlug: String, _ db: any SQLSession) throws -> (workflows: Int, tasks: Int) {
        let w = try db.scalar(Int.self, "SELECT COUNT(*) FROM workflows w JOIN customers c ON c.id = w.customer_id WHERE c.slug = ?", customerSlug) ?? 0
        let t = try db.scalar(Int.self, "SELECT COUNT(*) FROM tasks t JOIN workflows w ON w.id = t.workflow_id JOIN customers c ON c.id = w.customer_id WHERE c.slug = ?", customerSlug) ?? 0
        return (w, t)
    }

    /// Rows of the workflows table for a customer, for the snapshot index.
    public func indexEntries(customerSlug: String) throws -> [SnapshotIndexEntry] {
        var entries: [SnapshotIndexEntry] = []
        try forEachIndexEntry(customerSlug: customerSlug) { entries.append($0) }
        return entries
    }

    /// The same entries one at a time: from SQLite's cursor, a tenant's 20,000 are never held
    /// together (PostgreSQL's client library receives the whole result first).
    public func forEachIndexEntry(customerSlug: String, _ body: (SnapshotIndexEntry) throws -> Void) throws {
        try read { db in
            try db.forEachRow("""
                SELECT w.zuora_id, w.name, w.status, w.updated_on, w.version, w.export_sha256 FROM workflows w
                JOIN customers c ON c.id = w.customer_id WHERE c.slug = ? ORDER BY w.zuora_id
                """, [customerSlug.sqlValue]) {
                try body(SnapshotIndexEntry(id: $0["zuora_id"], name: $0["name"], status: $0["status"], updatedAt: $0["updated_on"],
                                            version: $0["version"], exportSHA256: $0["export_sha256"]))
            }
        }
    }
}
