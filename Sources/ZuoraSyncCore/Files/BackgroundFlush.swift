import Foundation

/// Flushes a file system now and then while a stage writes many files to it without an fsync
/// each, so that the one flush the stage must make before it commits (`AtomicFile.flushFileSystem`)
/// finds little left to write. The kernel would otherwise keep those pages dirty for 30 seconds,
/// and the stage's last step would wait for all of them: 163 ms after a 5,000 first sync's
/// downloads, 18 ms after 200 exports (`perf trace -e syncfs`).
///
/// At most one flush runs at a time, on a thread of `BlockingWork`, never on the cooperative
/// pool. The first error a flush meets is kept and thrown by `finish`: Linux reports a write-back
/// error to one `syncfs` only (the first after it, on a descriptor opened before it was seen), so
/// the stage's own flush afterwards would not.
public final class BackgroundFlush: @unchecked Sendable {
    // @unchecked: `unflushedBytes`, `isFlushing`, `flushes` and `firstError` are only touched under `lock`.
    private let lock = NSLock()
    private let threshold: Int
    private let flush: @Sendable () throws -> Void
    private var unflushedBytes = 0
    private var isFlushing = false
    private var flushes = 0
    private var firstError: (any Error)?
    private let running = DispatchGroup()

    /// `threshold`: bytes written since the last flush began that start the next one.
    public convenience init(containing directory: URL, threshold: Int = 1 << 20) {
        self.init(threshold: threshold) { try AtomicFile.flushFileSystem(containing: directory) }
    }

    /// `flush`: what a flush does (tests).
    init(threshold: Int, flush: @escaping @Sendable () throws -> Void) {
        self.threshold = max(1, threshold)
        self.flush = flush
    }

    /// Counts `bytes` written; starts a flush when enough were and none is running.
    public func wrote(_ bytes: Int) {
        if takeTurn(adding: bytes) { flushInBackground() }
    }

    /// Background flushes started so far (tests).
    public var started: Int { lock.withLock { flushes } }

    /// Returns once no background flush runs (none outlives the stage), then throws the first
    /// error one met.
    public func finish() async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            running.notify(queue: .global()) { continuation.resume() }
        }
        if let error = lock.withLock({ firstError }) { throw error }
    }

    private func takeTurn(adding bytes: Int) -> Bool {
        lock.withLock {
            unflushedBytes += bytes
            guard !isFlushing, unflushedBytes >= threshold else { return false }
            isFlushing = true
            unflushedBytes = 0
            flushes += 1
            running.enter()
            return true
        }
    }

    private func flushInBackground() {
        BlockingWork.start { [self] in
            do { try flush() } catch { lock.withLock { if firstError == nil { firstError = error } } }
            lock.withLock { isFlushing = false }
            // What was written meanwhile starts the next one.
            if takeTurn(adding: 0) { flushInBackground() }
            running.leave()
        }
    }
}
