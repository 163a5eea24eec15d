import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStages

/// Enqueues the syncs whose cron slot came due, for `zuora-sync schedule run` (called by cron
/// every minute). A slot is enqueued once, however often it is called; after downtime it catches up
/// once (the latest missed slot), not once per missed slot. State: `schedule/state.json`.
public struct Scheduler: Sendable {
    public struct State: Sendable, Codable, Equatable, VersionedFile {
        public static let currentFormatVersion = 1
        public struct Entry: Sendable, Codable, Equatable {
            public var lastCheckedAt: Date
            public var lastEnqueuedSlot: Date?
        }
        public var formatVersion = 1
        public var pipelines: [String: Entry] = [:]
    }

    /// One pipeline's schedule, for `schedule list`.
    public struct Plan: Sendable, Equatable {
        public var pipelinePath: String
        public var schedule: String
        public var nextRun: Date?
        public var lastEnqueuedSlot: Date?
    }

    public let dataDirectory: DataDirectory
    public let clock: any WallClock
    /// Where due syncs are queued; with PostgreSQL, each slot is also claimed there, so N
    /// schedulers on N hosts enqueue it once.
    public var queue: any JobQueueing

    public init(dataDirectory: DataDirectory, clock: any WallClock = SystemClock(), queue: (any JobQueueing)? = nil) {
        self.dataDirectory = dataDirectory
        self.clock = clock
        self.queue = queue ?? JobQueue(dataDirectory: dataDirectory)
    }

    var stateFile: URL { dataDirectory.root.appendingPathComponent("schedule/state.json") }

    /// Enqueues every customer of each pipeline whose slot came due since the last call.
    public func runDue(pipelines: [(path: String, definition: PipelineDefinition)], customers: [CustomerConfig]) throws -> [Job] {
        try FileManager.default.createDirectory(at: stateFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        // One scheduler at a time (overlapping cron calls).
        let lockFD = open(stateFile.deletingLastPathComponent().appendingPathComponent(".lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { throw FileError(path: stateFile.path, message: "cannot open the scheduler lock") }
        defer { close(lockFD) }
        flock(lockFD, LOCK_EX)
        defer { flock(lockFD, LOCK_UN) }

        var state = try loadState()
        let now = clock.now()
        let owner = "pid \(getpid()) on \(ProcessEnvironment.hostName())"
        var enqueued: [Job] = []
        for (path, definition) in pipelines {
            let schedule = try CronSchedule(definition.schedule)
            // The first call ever looks back one minute, so a slot at this very minute counts.
            var entry = state.pipelines[path] ?? State.Entry(lastCheckedAt: now.addingTimeInterval(-60), lastEnqueuedSlot: nil)
            let from = max(entry.lastCheckedAt, entry.lastEnqueuedSlot ?? .distantPast)
            if let slot = schedule.latestRun(after: from, upTo: now), slot > (entry.lastEnqueuedSlot ?? .distantPast) {
                // With PostgreSQL, another host's scheduler may have claimed this slot: then it enqueues it.
                enqueued += try queue.enqueueSlot(pipelinePath: path, slot: slot, by: owner, customers: customers.map(\.id),
                                                  settings: definition.jobs, now: now)
                entry.lastEnqueuedSlot = slot
            }
            entry.lastCheckedAt = now
            state.pipelines[path] = entry
        }
        try CanonicalJSON.write(state, to: stateFile)
        return enqueued
    }

    /// The schedule state; none yet is a fresh state, a damaged one an error naming the file (a
    /// guess could enqueue every slot again).
    func loadState() throws -> State {
        guard FileManager.default.fileExists(atPath: stateFile.path) else { return State() }
        return try CanonicalJSON.readVersioned(State.self, from: stateFile)
    }

    public func plans(pipelines: [(path: String, definition: PipelineDefinition)]) throws -> [Plan] {
        let state = try loadState()
        return pipelines.map { path, definition in
            Plan(pipelinePath: path, schedule: definition.schedule,
                 nextRun: (try? CronSchedule(definition.schedule))?.nextRun(after: clock.now()),
                 lastEnqueuedSlot: state.pipelines[path]?.lastEnqueuedSlot)
        }
    }
}
