import Foundation

/// Keeps two runs from writing one customer's data at once: an exclusive `flock` on
/// `locks/<customer>.lock`. The kernel drops the lock when its process dies (even `kill -9`), so a
/// stale lock is taken over without guessing; the file records pid, host and time for the message
/// a second run gets.
public final class CustomerLock: HeldLock, @unchecked Sendable {
    // @unchecked: `descriptor` is set once in init and closed once in release, from the owning task.
    private var descriptor: Int32
    public let url: URL

    private init(descriptor: Int32, url: URL) {
        self.descriptor = descriptor
        self.url = url
    }

    /// Takes the lock or throws a `CustomerBusyError` naming the holder.
    public static func acquire(customer: String, in directory: DataDirectory, now: Date) throws -> CustomerLock {
        try FileManager.default.createDirectory(at: directory.locks, withIntermediateDirectories: true)
        let url = directory.locks.appendingPathComponent("\(customer).lock")
        try PathSafety.check(url)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw FileError(path: url.path, message: "cannot open the lock file: \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
            close(fd)
            throw CustomerBusyError(customer: customer, holder: holder)
        }
        let text = "pid \(getpid()) on \(ProcessEnvironment.hostName()) since \(Timestamp.format(now))\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        return CustomerLock(descriptor: fd, url: url)
    }

    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

/// A lock held until `release()` (or until its holder dies): a file lock, or a PostgreSQL
/// session advisory lock when the store is PostgreSQL.
public protocol HeldLock: AnyObject, Sendable {
    func release()
}
