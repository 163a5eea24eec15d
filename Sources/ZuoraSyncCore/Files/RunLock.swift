import Foundation

/// An exclusive `flock` on `runs/<id>/.lock`, held by the process working on a run for as long as
/// it does. The kernel releases it when that process dies, on whatever host it ran, so "is the run
/// still being worked on?" needs no pid or host guess.
public final class RunLock: @unchecked Sendable {
    // @unchecked: `descriptor` is set once in init and closed once in release, by the owner.
    private var descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    static func lockFile(_ runDirectory: URL) -> URL { runDirectory.appendingPathComponent(".lock") }

    /// Takes the lock, or returns nil when another process holds it.
    public static func acquire(runDirectory: URL) throws -> RunLock? {
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        let url = lockFile(runDirectory)
        try PathSafety.check(url)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw FileError(path: url.path, message: "cannot open the run's lock file: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return RunLock(descriptor: fd)
    }

    /// Whether some process holds the run's lock right now.
    public static func isHeld(runDirectory: URL) -> Bool {
        let fd = open(lockFile(runDirectory).path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(fd, LOCK_UN)
        return false
    }

    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
