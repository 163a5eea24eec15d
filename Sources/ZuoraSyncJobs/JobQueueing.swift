import Foundation
import ZuoraSyncCore
import ZuoraSyncStore

/// What the worker, the scheduler and the `jobs` commands need of a queue. Two kinds: the file
/// queue under `jobs/` (one host, the default with SQLite) and the PostgreSQL queue (several
/// hosts share one store and its queue).
public protocol JobQueueing: Sendable {
    /// Where the queue is, for messages.
    var location: String { get }
    /// Jobs in a state (all states when nil), oldest first, and every job that could not be read.
    func listing(in state: Job.State?) -> StateListing<Job>
    /// The job with this id, in whichever state.
    func find(_ id: String) throws -> Job?
    /// Adds a job unless one for the same pipeline and customer is waiting or running; nil then.
    func enqueue(pipelinePath: String, customer: String, settings: JobSettings, now: Date) throws -> Job?
    /// Takes the oldest waiting job that is due, atomically: of two workers, one gets it.
    func claim(owner: Job.Lease, now: Date) throws -> Job?
    /// Rewrites a running job (heartbeat, run id).
    func update(_ job: Job) throws
    /// Moves a job from `from` to its current state, with its new content; with `owner`, only
    /// while that worker still holds the job's lease.
    func move(_ job: Job, from: Job.State, owner: String?) throws
    /// Running jobs whose lease expired go back to waiting (their run resumes where it is local).
    func recoverExpiredLeases(now: Date) throws -> [Job]
    /// Puts a failed job back to waiting with fresh attempts.
    func retry(_ id: String, now: Date) throws -> Job
    func forget(_ id: String) throws
    /// Removes done and failed jobs last updated before `cutoff`.
    func prune(olderThan cutoff: Date) throws -> Int
    /// Claims a scheduler slot and queues its jobs, atomically: of several schedulers asking for
    /// the same slot, one queues it; the others get no job.
    func enqueueSlot(pipelinePath: String, slot: Date, by owner: String, customers: [String], settings: JobSettings, now: Date) throws -> [Job]
}

extension JobQueueing {
    public func move(_ job: Job, from: Job.State) throws { try move(job, from: from, owner: nil) }

    public func jobs(in state: Job.State? = nil) -> [Job] { listing(in: state).items }
    public func listing() -> StateListing<Job> { listing(in: nil) }
}

/// Picks the queue for a store location without opening an SQLite file (the file queue needs no store).
public enum JobQueues {
    public static func make(_ location: StoreLocation, dataDirectory: DataDirectory, environment: [String: String]) throws -> any JobQueueing {
        guard location.isPostgreSQL else { return JobQueue(dataDirectory: dataDirectory) }
        return PostgresJobQueue(store: try Store.opening(location, dataDirectory: dataDirectory, environment: environment))
    }
}
