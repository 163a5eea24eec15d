import Dispatch

/// Runs work that blocks its thread for long (a `syncfs` of the data directory's file system,
/// 165 ms and more after a first sync) on threads of its own, not on Swift's cooperative pool, and
/// awaits it: the pool has one thread per core, two here, and a thread held there leaves the
/// other stages one. The queue's threads are not the pool's: a queue made with a label targets
/// dispatch's overcommitting root queue, which starts another thread when one blocks.
///
/// Measured and not taken: the database transactions of save-workflows and extract-tasks, which
/// wait for each other's, moved here too made a 5,000 first sync 0.87× as long but a 20,000 one
/// 1.12× as long, with 10 MB more at its peak (paired runs, same minutes): the downloads then
/// take the cores from the store, which is the slower side at that size.
public enum BlockingWork {
    private static let queue: DispatchQueue = {
        let queue = DispatchQueue(label: "zuora-sync.blocking-work", attributes: .concurrent)
        queue.setSpecific(key: marker, value: ())
        return queue
    }()
    private static let marker = DispatchSpecificKey<Void>()

    /// Runs `work` on a thread outside the cooperative pool and returns what it returns or throws.
    /// Cancellation is not passed in: work that must stop checks for it before it is sent here.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Starts `work` on a thread outside the cooperative pool and returns at once.
    public static func start(_ work: @escaping @Sendable () -> Void) {
        queue.async(execute: work)
    }

    /// Whether the calling code runs on one of these threads (tests).
    static var isCurrentThread: Bool { DispatchQueue.getSpecific(key: marker) != nil }
}
