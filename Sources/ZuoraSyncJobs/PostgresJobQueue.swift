import Foundation
import ZuoraSyncCore
import ZuoraSyncStore

/// The job queue as a PostgreSQL table, for several workers on several hosts: a job is claimed
/// with `SELECT … FOR UPDATE SKIP LOCKED` (two workers never take the same one and never wait
/// on each other), with the same leases, attempts and retry policy as the file queue. The job
/// itself is kept as its JSON document (`body`), beside the columns the queue filters on.
public struct PostgresJobQueue: JobQueueing {
    public let store: Store

    public init(store: Store) { self.store = store }

    public var location: String { "the jobs table of \(store.database.location)" }

    static let columns = "id, state, pipeline_path, customer, not_before, created_at, updated_at, lease_owner, lease_expires_at, body"
    /// A lease's end on the server's clock (hosts' clocks may disagree): now() plus its length.
    static let leaseEnd = "now() + make_interval(secs => ?)"

    private func values(_ job: Job) throws -> [SQLValue] {
        let body = String(decoding: try CanonicalJSON.encode(job), as: UTF8.self)
        return [job.id.sqlValue, job.state.rawValue.sqlValue, job.pipelinePath.sqlValue, job.customer.sqlValue,
                Timestamp.format(job.notBefore).sqlValue, Timestamp.format(job.createdAt).sqlValue, Timestamp.format(job.updatedAt).sqlValue,
                job.lease?.owner.sqlValue ?? .null, job.lease.map { $0.expiresAt.timeIntervalSince($0.heartbeatAt) }.sqlValue, body.sqlValue]
    }

    private func decode(_ row: SQLRow) throws -> Job {
        let body: String = row["body"]
        do {
            return try CanonicalJSON.decode(Job.self, from: Data(body.utf8))
        } catch {
            throw FileError(path: "\(location), job \(row["id"] as String)", message: "cannot read the job (\(error))", cause: error)
        }
    }

    public func listing(in state: Job.State?) -> StateListing<Job> {
        var listing = StateListing<Job>()
        do {
            let rows = try store.database.read { db in
                if let state {
                    return try db.query("SELECT id, body FROM jobs WHERE state = ? ORDER BY created_at, id", state.rawValue)
                }
                return try db.query("SELECT id, body FROM jobs ORDER BY created_at, id")
            }
            for row in rows {
                do { listing.items.append(try decode(row)) } catch let error as FileError { listing.problems.append(error) } catch {}
            }
        } catch {
            listing.problems.append(FileError(path: location, message: "cannot list jobs: \(error)", cause: error))
        }
        return listing
    }

    public func find(_ id: String) throws -> Job? {
        try store.database.read { db in try db.query("SELECT id, body FROM jobs WHERE id = ?", id).first }.map(decode)
    }

    public func enqueue(pipelinePath: String, customer: String, settings: JobSettings, now: Date) throws -> Job? {
        let job = Job.queued(pipelinePath: pipelinePath, customer: customer, settings: settings, now: now)
        return try store.database.write { db in try insertUnlessPending(job, db) } ? job : nil
    }

    public func enqueueSlot(pipelinePath: String, slot: Date, by owner: String, customers: [String], settings: JobSettings, now: Date) throws -> [Job] {
        // The slot's claim and its jobs commit together: a scheduler dying halfway leaves the slot
        // unclaimed for the next call (of any host), never claimed with jobs missing.
        try store.database.write { db in
            guard try !db.query("""
                INSERT INTO schedule_slots (pipeline_path, slot, claimed_by) VALUES (?, ?, ?)
                ON CONFLICT (pipeline_path, slot) DO NOTHING RETURNING slot
                """, pipelinePath, Timestamp.format(slot), owner).isEmpty else { return [] }
            return try customers.map { Job.queued(pipelinePath: pipelinePath, customer: $0, settings: settings, now: now) }
                .filter { try insertUnlessPending($0, db) }
        }
    }

    /// Inserts a job unless one for the same pipeline and customer is waiting or running: the
    /// partial unique index on (pipeline_path, customer) makes that one atomic statement,
    /// whichever host asks. Returns whether it was inserted.
    private func insertUnlessPending(_ job: Job, _ db: any SQLSession) throws -> Bool {
        try !db.query("""
            INSERT INTO jobs (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, \(Self.leaseEnd), ?)
            ON CONFLICT (pipeline_path, customer) WHERE state IN ('waiting', 'running') DO NOTHING RETURNING id
            """, try values(job)).isEmpty
    }

    public func claim(owner: Job.Lease, now: Date) throws -> Job? {
        try store.database.write { db in
            guard let row = try db.query("""
                SELECT id, body FROM jobs WHERE state = 'waiting' AND not_before <= ?
                ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
                """, Timestamp.format(now)).first else { return nil }
            let claimed = try decode(row).claimed(by: owner, now: now)
            try write(claimed, db)
            return claimed
        }
    }

    private func write(_ job: Job, _ db: any SQLSession) throws {
        try db.execute("""
            UPDATE jobs SET state = ?, pipeline_path = ?, customer = ?, not_before = ?, created_at = ?, updated_at = ?,
                lease_owner = ?, lease_expires_at = \(Self.leaseEnd), body = ? WHERE id = ?
            """, Array(try values(job).dropFirst()) + [job.id.sqlValue])
    }

    /// A heartbeat or run id: written only while the job is running under this lease's owner, so
    /// a worker whose lease lapsed cannot take back a job another worker claimed since.
    public func update(_ job: Job) throws {
        try store.database.write { db in
            guard try db.scalar(String.self, "SELECT lease_owner FROM jobs WHERE id = ? AND state = 'running' FOR UPDATE", job.id) == job.lease?.owner,
                  job.lease != nil else {
                throw FileError(path: location, message: "job \(job.id) is no longer running under this worker's lease; it was taken back")
            }
            try write(job, db)
        }
    }

    public func move(_ job: Job, from: Job.State, owner: String?) throws {
        try store.database.write { db in
            let current = try db.query("SELECT state, lease_owner FROM jobs WHERE id = ? FOR UPDATE", job.id).first
            guard let current, current["state"] as String == from.rawValue,
                  owner == nil || current["lease_owner"] as String? == owner else {
                throw FileError(path: location, message: "job \(job.id) is no longer \(from.rawValue)\(owner == nil ? "" : " under this worker's lease"); it was not moved to \(job.state.rawValue)")
            }
            try write(job, db)
        }
    }

    public func recoverExpiredLeases(now: Date) throws -> [Job] {
        try store.database.write { db in
            // Leases end on the server's clock; a claim without a lease gets the file queue's grace.
            let grace = Timestamp.format(now.addingTimeInterval(-JobQueue.claimGrace))
            let rows = try db.query("""
                SELECT id, body FROM jobs WHERE state = 'running'
                  AND ((lease_expires_at IS NOT NULL AND lease_expires_at < now()) OR (lease_expires_at IS NULL AND updated_at < ?))
                ORDER BY created_at, id FOR UPDATE SKIP LOCKED
                """, grace)
            return try rows.map { row in
                let job = try decode(row)
                let waiting = job.recovered(now: now)
                try write(waiting, db)
                return waiting
            }
        }
    }

    public func retry(_ id: String, now: Date) throws -> Job {
        guard let failed = try find(id), failed.state == .failed else {
            throw FileError(path: location, message: "no failed job '\(id)'; see `zuora-sync jobs --state failed`.", isUsageError: true)
        }
        let job = failed.retried(now: now)
        try move(job, from: .failed)
        return job
    }

    public func forget(_ id: String) throws {
        guard let job = try find(id) else { throw FileError(path: location, message: "no job '\(id)'; see `zuora-sync jobs`.") }
        guard job.state != .running else { throw FileError(path: location, message: "job '\(id)' is running; wait for it or stop its worker first.") }
        try store.database.write { db in try db.execute("DELETE FROM jobs WHERE id = ? AND state <> 'running'", id) }
    }

    public func prune(olderThan cutoff: Date) throws -> Int {
        try store.database.write { db in
            try db.query("DELETE FROM jobs WHERE state IN ('done', 'failed') AND updated_at < ? RETURNING id", Timestamp.format(cutoff)).count
        }
    }

    static func placeholders(_ count: Int) -> String {
        "(" + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
    }
}
