import Foundation

/// Flushes a file system now and then while a stage writes many files to it without an fsync
/// each, so that the one flush the stage must make before it commits (`AtomicFile.flushFileSystem`)
/// finds little left to write. The kernel would otherwise keep those pages dirty for 30 seconds,
/// and the stage's last step would wait for all of them: 163 ms after a 5,000 first sync's
/// downloads, 18 ms after 200 exports (`perf trace -e syncfs`).
///
/// At most one flush runs at a time, on a thread of `BlockingWork`, never on the cooperative
/// pool. A background flush only helps: its failure is not reported (the stage's own flush, which
/// the commit waits for, is).
public final class BackgroundFlush: @unchecked Sendable {
    // @unchecked: `unflushedBytes`, `isFlushing` and `flushes` are only touched under `lock`.
    private let lock = NSLock()
    private let directory: URL
    private let threshold: Int
    private var unflushedBytes = 0
    private var isFlushing = false
    private var flushes = 0
    private let running = DispatchGroup()

    /// `threshold`: bytes written since the last flush began that start the next one.
    public init(containing directory: URL, threshold: Int = 1 << 20) {
        self.directory = directory
        self.threshold = max(1, threshold)
    }

    /// Counts `bytes` written; starts a flush when enough were and none is running.
    public func wrote(_ bytes: Int) {
        if takeTurn(adding: bytes) { flushInBackground() }
    }

    /// Background flushes started so far (tests).
    public var started: Int { lock.withLock { flushes } }

    /// Returns once no background flush runs (the stage calls it before its own flush, so that
    /// none outlives a stage that finishes).
    public func waitUntilIdle() async {
        _ = try? await BlockingWork.run { [running] in running.wait() }
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
            try? AtomicFile.flushFileSystem(containing: directory)
            lock.withLock { isFlushing = false }
            // What was written meanwhile starts the next one.
            if takeTurn(adding: 0) { flushInBackground() }
            running.leave()
        }
    }
}
