import Foundation

/// Which database engine runs the SQL: the store writes one SQL text for both, in the common
/// subset (`?` placeholders, `ON CONFLICT`, `RETURNING`, `IS DISTINCT FROM`); the schema and the
/// few engine-specific statements are chosen by dialect.
public enum SQLDialect: String, Sendable {
    case sqlite, postgresql
}

/// One connection inside a read or a transaction.
public protocol SQLSession {
    var dialect: SQLDialect { get }
    /// Runs a statement; `?` placeholders take `arguments` in order.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws
    /// Runs a statement whose text the caller runs again and again with other arguments (a
    /// multi-row insert of one of a few row counts, `Store.statementRows`): the connection keeps
    /// it prepared however many parameters it has, where `execute` prepares a large one for
    /// each use.
    func executeReused(_ sql: String, _ arguments: [SQLValue]) throws
    /// Runs a query and returns every row.
    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs a query and hands over its rows one at a time, without holding them all (where the
    /// engine allows: PostgreSQL's client library receives the whole result first).
    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws
    /// The column names of a table, in declaration order.
    func columnNames(table: String) throws -> [String]
}

extension SQLSession {
    public func executeReused(_ sql: String, _ arguments: [SQLValue]) throws {
        try execute(sql, arguments)
    }

    public func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
        for row in try query(sql, arguments) { try body(row) }
    }

    public func execute(_ sql: String, _ arguments: any SQLValueConvertible...) throws {
        try execute(sql, arguments.map(\.sqlValue))
    }

    public func query(_ sql: String, _ arguments: any SQLValueConvertible...) throws -> [SQLRow] {
        try query(sql, arguments.map(\.sqlValue))
    }

    /// The first column of the first row, nil when there is no row or it is NULL.
    public func scalar<T: SQLValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: any SQLValueConvertible...) throws -> T? {
        try query(sql, arguments.map(\.sqlValue)).first.flatMap { $0.values.first }.flatMap { T(sqlValue: $0) }
    }

    /// The first column of every row.
    public func column<T: SQLValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: any SQLValueConvertible...) throws -> [T] {
        try query(sql, arguments.map(\.sqlValue)).compactMap { $0.values.first.flatMap { T(sqlValue: $0) } }
    }
}

/// A database the store reads and writes: reads see a consistent state, writes are one
/// transaction each (all or nothing, also when the process dies or the server restarts).
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Where the data is, without secrets: a path, or `postgresql://user@host:port/db`.
    var location: String { get }
    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T
    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T
}
