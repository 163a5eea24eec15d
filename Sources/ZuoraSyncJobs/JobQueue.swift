import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP
import ZuoraSyncEngine
import ZuoraSyncStages

/// The file-based queue under `jobs/`. A job changes state by `rename(2)` between the state
/// directories, which is atomic: of two workers claiming the same job, exactly one succeeds.
public struct JobQueue: JobQueueing {
    public let root: URL

    public init(dataDirectory: DataDirectory) { root = dataDirectory.jobs }

    /// How long a running job may lack a lease before it counts as abandoned mid-claim.
    static let claimGrace: TimeInterval = 300

    public func directory(_ state: Job.State) -> URL { root.appendingPathComponent(state.rawValue, isDirectory: true) }
    public func file(_ id: String, _ state: Job.State) -> URL { directory(state).appendingPathComponent("\(id).json") }

    public var location: String { root.path }

    public func prepare() throws {
        for state in Job.State.allCases {
            try FileManager.default.createDirectory(at: directory(state), withIntermediateDirectories: true)
        }
    }

    /// Jobs in a state (all states when nil), oldest first, and every job file that could not be
    /// read, by path (listings warn about them; a damaged job never silently disappears).
    public func listing(in state: Job.State?) -> StateListing<Job> {
        var listing = StateListing<Job>()
        for state in state.map({ [$0] }) ?? Job.State.allCases {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory(state).path)) ?? [])
                .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            for name in names {
                let url = directory(state).appendingPathComponent(name)
                do { listing.items.append(try CanonicalJSON.readVersioned(Job.self, from: url)) } catch let error as FileError {
                    listing.problems.append(error)
                } catch {
                    listing.problems.append(FileError(path: url.path, message: "\(error)", cause: error))
                }
            }
        }
        listing.items.sort { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        return listing
    }


    /// The job with this id, in whichever state; a damaged job file is an error naming it.
    public func find(_ id: String) throws -> Job? {
        guard SafeIdentifier.isValidRunID(id) else { return nil }
        for state in Job.State.allCases where FileManager.default.fileExists(atPath: file(id, state).path) {
            return try CanonicalJSON.readVersioned(Job.self, from: file(id, state))
        }
        return nil
    }

    /// Adds a job unless one for the same pipeline and customer is already waiting or running.
    /// Returns the new job, or nil when one was already queued.
    public func enqueue(pipelinePath: String, customer: String, settings: JobSettings, now: Date) throws -> Job? {
        try prepare()
        // Check and write under one lock: concurrent `sync --all` calls queue each customer once.
        let lockFD = open(root.appendingPathComponent(".enqueue.lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { throw FileError(path: root.path, message: "cannot open the queue's enqueue lock: \(String(cString: strerror(errno)))") }
        defer { close(lockFD) }
        flock(lockFD, LOCK_EX)
        defer { flock(lockFD, LOCK_UN) }
        let pending = jobs(in: .waiting) + jobs(in: .running)
        if pending.contains(where: { $0.customer == customer && $0.pipelinePath == pipelinePath }) { return nil }
        let job = Job.queued(pipelinePath: pipelinePath, customer: customer, settings: settings, now: now)
        try CanonicalJSON.write(job, to: file(job.id, .waiting))
        return job
    }

    /// Takes the oldest waiting job that is due, atomically; nil when none is.
    public func claim(owner: Job.Lease, now: Date) throws -> Job? {
        try prepare()
        for job in jobs(in: .waiting) where job.notBefore <= now {
            guard rename(file(job.id, .waiting).path, file(job.id, .running).path) == 0 else { continue } // another worker won
            let claimed = job.claimed(by: owner, now: now)
            try CanonicalJSON.write(claimed, to: file(job.id, .running))
            return claimed
        }
        return nil
    }

    /// Rewrites a running job (heartbeat, run id).
    public func update(_ job: Job) throws {
        try CanonicalJSON.write(job, to: file(job.id, job.state))
    }

    /// Moves a job from `from` to its current state, writing its new content.
    public func move(_ job: Job, from: Job.State, owner: String?) throws {
        try CanonicalJSON.write(job, to: file(job.id, from))
        guard from != job.state else { return }
        guard rename(file(job.id, from).path, file(job.id, job.state).path) == 0 else {
            throw FileError(path: file(job.id, from).path, message: "cannot move job to \(job.state.rawValue): \(String(cString: strerror(errno)))")
        }
    }

    /// Running jobs whose lease expired (their worker died) go back to waiting, keeping their run
    /// so the next attempt resumes it. Returns the recovered jobs.
    public func recoverExpiredLeases(now: Date) throws -> [Job] {
        var recovered: [Job] = []
        // A running job without a lease is being claimed right now (rename done, lease not yet
        // written); only a claimer that died in that instant leaves one for minutes.
        for job in jobs(in: .running) where (job.lease?.expiresAt ?? job.updatedAt.addingTimeInterval(Self.claimGrace)) < now {
            // Claim the recovery itself by rename, so two recovering workers do not both move it.
            let limbo = file(job.id, .running).appendingPathExtension("recovering")
            guard rename(file(job.id, .running).path, limbo.path) == 0 else { continue }
            let waiting = job.recovered(now: now)
            try CanonicalJSON.write(waiting, to: file(job.id, .waiting))
            try? FileManager.default.removeItem(at: limbo)
            recovered.append(waiting)
        }
        return recovered
    }

    /// Puts failed jobs back to waiting with fresh attempts.
    public func retry(_ id: String, now: Date) throws -> Job {
        guard FileManager.default.fileExists(atPath: file(id, .failed).path) else {
            throw FileError(path: file(id, .failed).path, message: "no failed job '\(id)'; see `zuora-sync jobs --state failed`.", isUsageError: true)
        }
        let job = try CanonicalJSON.readVersioned(Job.self, from: file(id, .failed)).retried(now: now)
        try move(job, from: .failed)
        return job
    }

    public func forget(_ id: String) throws {
        guard let job = try find(id) else { throw FileError(path: root.path, message: "no job '\(id)'; see `zuora-sync jobs`.") }
        guard job.state != .running else { throw FileError(path: file(id, .running).path, message: "job '\(id)' is running; wait for it or stop its worker first.") }
        try FileManager.default.removeItem(at: file(id, job.state))
    }

    /// Removes done and failed jobs last updated before `cutoff`.
    public func prune(olderThan cutoff: Date) throws -> Int {
        var removed = 0
        for job in jobs(in: .done) + jobs(in: .failed) where job.updatedAt < cutoff {
            try PathSafety.remove(file(job.id, job.state))
            removed += 1
        }
        return removed
    }

    /// The file queue's slots are the scheduler's state file, written under the scheduler's lock.
    public func enqueueSlot(pipelinePath: String, slot: Date, by owner: String, customers: [String], settings: JobSettings, now: Date) throws -> [Job] {
        try customers.compactMap { try enqueue(pipelinePath: pipelinePath, customer: $0, settings: settings, now: now) }
    }
}
