import Foundation
import Synchronization
import ZuoraSyncCore

/// A session advisory lock on its own connection: held while the connection lives, released by
/// `release()` or by the server when the holder's process dies or its connection drops (no stale
/// lock to clean up after a killed worker on another host).
final class PostgresAdvisoryLock: HeldLock, Sendable {
    private let connection: Mutex<SendableBox?>

    init(connection: PostgresConnection) {
        self.connection = Mutex(SendableBox(connection: connection))
    }

    func release() {
        // Closing the session releases its advisory locks.
        let taken = connection.withLock { held in
            let taken = held
            held = nil
            return taken
        }
        // Unlock explicitly: closing the connection frees the lock only once the server notices,
        // and the next job of this customer may start right away.
        _ = try? taken?.connection.run("SELECT pg_advisory_unlock_all()", [])
    }

    deinit { release() }

    struct SendableBox: @unchecked Sendable {
        let connection: PostgresConnection
    }
}

extension Store {
    /// Keeps two runs (on any host) from writing one customer's data at once: a PostgreSQL
    /// session advisory lock for a PostgreSQL store, the data directory's `locks/<customer>.lock`
    /// otherwise. Throws `CustomerBusyError` naming the holder.
    public func lockCustomer(_ slug: String, dataDirectory: DataDirectory, now: Date) throws -> any HeldLock {
        guard let postgres = database as? PostgresDatabase else {
            return try CustomerLock.acquire(customer: slug, in: dataDirectory, now: now)
        }
        let key = "zuora-sync:customer:\(slug)"
        let (connection, taken) = try postgres.tryAdvisoryLock(key)
        guard taken else {
            let holder = postgres.advisoryLockHolder(key) ?? "another session"
            throw CustomerBusyError(customer: slug, holder: "\(holder), PostgreSQL advisory lock on \(postgres.location)")
        }
        return PostgresAdvisoryLock(connection: connection)
    }
}
