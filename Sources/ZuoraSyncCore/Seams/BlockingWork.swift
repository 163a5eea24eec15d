import Dispatch

/// Runs work that blocks its thread (a database transaction, which may first wait for the
/// writer's lock) on threads of its own, not on Swift's cooperative pool, and awaits it.
///
/// The pool has one thread per core: two here. When save-workflows and extract-tasks both wrote
/// to SQLite from pool threads, one of them waited for the other's transaction while holding the
/// second thread, and the downloads had no thread left to run on. The queue's threads are not the
/// pool's: a queue made with a label targets dispatch's overcommitting root queue, which starts
/// another thread when one blocks.
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

    /// Whether the calling code runs on one of these threads (tests).
    static var isCurrentThread: Bool { DispatchQueue.getSpecific(key: marker) != nil }
}
