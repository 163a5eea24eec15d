import Foundation
import Synchronization
import ZuoraSyncCore

/// The PostgreSQL side of `SQLDatabase`: a small pool of libpq connections. Reads run in a
/// read-only repeatable-read transaction (one consistent view), writes in one transaction each.
/// A connection the server dropped (restart) is discarded; a read is retried once on a fresh
/// connection, a write fails with a retryable `StoreError` (nothing of it was committed).
public final class PostgresDatabase: SQLDatabase, Sendable {
    public let postgres: PostgresLocation
    private let environment: [String: String]
    private let idle = Mutex<[SendableConnection]>([])
    private let maxIdle = 4

    public var dialect: SQLDialect { .postgresql }
    public var location: String { postgres.displayURL }

    /// Connects once (so a wrong URL or password fails here, clearly).
    public init(location: PostgresLocation, environment: [String: String]) throws {
        self.postgres = location
        self.environment = environment
        let first = try PostgresConnection(location: location, environment: environment)
        idle.withLock { $0.append(SendableConnection(connection: first)) }
    }

    /// A new connection outside the pool, for a session-long advisory lock.
    func dedicatedConnection() throws -> PostgresConnection {
        try PostgresConnection(location: postgres, environment: environment)
    }

    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try idle.withLock { $0.popLast() }?.connection ?? PostgresConnection(location: postgres, environment: environment)
        do {
            let value = try body(connection)
            giveBack(connection)
            return value
        } catch {
            if let error = error as? StoreError, error.isConnectionLost {
                // The server went away (restart): its other idle connections are dead too.
                idle.withLock { $0.removeAll() }
            } else {
                giveBack(connection)
            }
            throw error
        }
    }

    private func giveBack(_ connection: PostgresConnection) {
        guard connection.isHealthy else { return }
        idle.withLock { pool in
            if pool.count < maxIdle { pool.append(SendableConnection(connection: connection)) }
        }
    }

    public func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        do {
            return try readOnce(body)
        } catch let error as StoreError where error.isConnectionLost {
            return try readOnce(body)
        }
    }

    /// A lost connection is retried only before the body has returned: a read-only transaction
    /// whose body finished has nothing to commit, and running the body again would hand its rows
    /// on twice (a list already half written to a file, say).
    private func readOnce<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try withConnection { connection in
            try transaction(connection, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", commitMayFail: true) {
                try body(PostgresSession(connection: connection))
            }
        }
    }

    public func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        do {
            return try writeOnce(body)
        } catch is BeginFailed {
            // Nothing but BEGIN was sent (a pooled connection the server had dropped): safe to
            // try once more, on a new connection.
            idle.withLock { $0.removeAll() }
            do { return try writeOnce(body) } catch let again as BeginFailed { throw again.error }
        }
    }

    private func writeOnce<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try withConnection { connection in
            do { try connection.script("BEGIN") } catch let error as StoreError where error.isConnectionLost { throw BeginFailed(error: error) }
            return try transaction(connection, begin: nil) { try body(PostgresSession(connection: connection)) }
        }
    }

    private struct BeginFailed: Error {
        let error: StoreError
    }

    private func transaction<T>(_ connection: PostgresConnection, begin: String?, commitMayFail: Bool = false, _ body: () throws -> T) throws -> T {
        if let begin { try connection.script(begin) }
        do {
            let value = try body()
            if commitMayFail {
                do { try connection.script("COMMIT") } catch { try? connection.script("ROLLBACK") }
            } else {
                try connection.script("COMMIT")
            }
            return value
        } catch {
            try? connection.script("ROLLBACK")
            throw error
        }
    }

    /// Runs statements outside a transaction (`CREATE DATABASE`, `VACUUM`): tools and tests.
    public func executeOutsideTransaction(_ sql: String) throws {
        try withConnection { try $0.script(sql) }
    }

    /// Creates or upgrades the schema under a transaction-scoped advisory lock: two processes
    /// starting at once migrate once, the second waits and finds nothing left to do.
    func migrate() throws {
        try write { session in
            try session.execute("SELECT pg_advisory_xact_lock(hashtextextended('zuora-sync:migrate', 0))")
            try session.execute("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            let applied = Set(try session.column(String.self, "SELECT id FROM schema_migrations"))
            let known = Set(PostgresSchema.migrations.map(\.id))
            if let unknown = applied.subtracting(known).sorted().first {
                throw StoreError("the PostgreSQL store \(location) has migration '\(unknown)', written by a newer zuora-sync; upgrade this one", isRetryable: false)
            }
            for migration in PostgresSchema.migrations where !applied.contains(migration.id) {
                guard let postgres = session as? PostgresSession else { continue }
                try postgres.connection.script(migration.sql)
                try session.execute("INSERT INTO schema_migrations (id) VALUES (?)", migration.id)
            }
        }
    }

    /// Takes the session advisory lock `key` on a dedicated connection; nil when another session
    /// holds it. The server releases it when the holder disconnects or dies.
    func tryAdvisoryLock(_ key: String) throws -> (PostgresConnection, Bool) {
        let connection = try dedicatedConnection()
        let rows = try connection.run("SELECT pg_try_advisory_lock(hashtextextended(?, 0)) AS taken", [.text(key)])
        return (connection, rows.first.map { $0["taken"] as Bool } ?? false)
    }

    /// Who holds the advisory lock `key` (its application name: pid and host), if anyone.
    func advisoryLockHolder(_ key: String) -> String? {
        try? withConnection { connection in
            try connection.run("""
                SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(?, 0)
                """, [.text(key)]).first.map { $0["application_name"] as String }
        }
    }
}

/// A pooled connection, handed to one caller at a time under the pool's mutex.
private struct SendableConnection: @unchecked Sendable {
    let connection: PostgresConnection
}

struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    var dialect: SQLDialect { .postgresql }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        _ = try connection.run(sql, arguments)
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try connection.run(sql, arguments)
    }

    func columnNames(table: String) throws -> [String] {
        try connection.run("""
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position
            """, [.text(table)]).map { $0["column_name"] as String }
    }
}
