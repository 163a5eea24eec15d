import Foundation
import GRDB

/// The SQLite side of `SQLDatabase`: GRDB's pool or queue, statements cached per connection.
public struct GRDBDatabase: SQLDatabase {
    public let writer: any DatabaseWriter
    public let location: String
    public var dialect: SQLDialect { .sqlite }

    public init(writer: any DatabaseWriter, location: String) {
        self.writer = writer
        self.location = location
    }

    public func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try writer.read { db in try body(GRDBSession(db: db)) }
    }

    public func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try writer.write { db in try body(GRDBSession(db: db)) }
    }
}

struct GRDBSession: SQLSession {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    /// Statements with more parameters than this are prepared for each use, not cached, unless
    /// run through `executeReused`: they are the `IN` lists and multi-row inserts, one statement
    /// per number of rows, and SQLite keeps a program and a cell per parameter for each. With
    /// batches of every size, the cached ones held 22 MB at a 20,000 first sync's peak
    /// (heaptrack). The multi-row inserts come in a few row counts (`Store.statementRows`) and
    /// are cached: preparing one for each use was 4 % of a first sync's CPU.
    static let largestCachedStatement = 64

    private static func isCached(parameters: Int) -> Bool { parameters <= largestCachedStatement }

    private func statement(_ sql: String, parameters: Int) throws -> Statement {
        Self.isCached(parameters: parameters) ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        let statement = try statement(sql, parameters: arguments.count)
        try statement.execute(arguments: StatementArguments(arguments.map(\.databaseValue)))
        if Self.isCached(parameters: arguments.count) { Self.release(statement) }
    }

    func executeReused(_ sql: String, _ arguments: [SQLValue]) throws {
        let statement = try db.cachedStatement(sql: sql)
        try statement.execute(arguments: StatementArguments(arguments.map(\.databaseValue)))
        Self.release(statement)
    }

    /// A cached statement keeps its last arguments (GRDB's copy, and SQLite's bound copy for a
    /// cursor or more than 20 parameters) until it runs again: when multi-row statements were all
    /// cached, their last 100 rows of exports held 50 MB at a 5,000 first sync's peak. Released
    /// only once the statement has run through: `setUncheckedArguments` resets it with `try!`,
    /// which would crash after a failed step (the next run replaces them anyway). A statement
    /// prepared for one use is let go with its arguments.
    private static func release(_ statement: Statement) {
        guard !statement.arguments.isEmpty else { return }
        statement.setUncheckedArguments(StatementArguments())
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try forEachRow(sql, arguments) { rows.append($0) }
        return rows
    }

    /// From a cursor: each row is copied once, not into GRDB rows first.
    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
        let statement = try statement(sql, parameters: arguments.count)
        let columns = statement.columnNames
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments.map(\.databaseValue)))
        while let row = try cursor.next() {
            try body(SQLRow(columns: columns, values: (0..<row.count).map { SQLValue(row[$0] as DatabaseValue) }))
        }
        if Self.isCached(parameters: arguments.count) { Self.release(statement) }
    }

    func columnNames(table: String) throws -> [String] {
        try db.columns(in: table).map(\.name)
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let value): return value.databaseValue
        case .real(let value): return value.databaseValue
        case .text(let value): return value.databaseValue
        }
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let value): self = .integer(value)
        case .double(let value): self = .real(value)
        case .string(let value): self = .text(value)
        case .blob(let data): self = .text(data.base64EncodedString())
        }
    }
}
