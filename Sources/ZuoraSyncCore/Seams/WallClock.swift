import Foundation

/// The seam for time: what time it is and how to wait. Tests inject a manual clock.
public protocol WallClock: Sendable {
    func now() -> Date
    func sleep(seconds: Double) async throws
}

/// The real clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }
}

/// A clock that stands still unless advanced, and whose sleeps only advance it; for tests and
/// for golden runs where every timestamp must be reproducible.
public final class ManualClock: WallClock, @unchecked Sendable {
    // @unchecked: `current` and `sleeps` are only touched under `lock`.
    private let lock = NSLock()
    private var current: Date
    private var sleeps: [Double] = []

    public init(_ start: Date = Date(timeIntervalSince1970: 1_767_225_600)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    public func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        lock.withLock {
            sleeps.append(seconds)
            current = current.addingTimeInterval(max(0, seconds))
        }
    }

    /// Moves time forward.
    public func advance(seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }

    /// Every sleep requested so far, in order.
    public var recordedSleeps: [Double] { lock.withLock { sleeps } }
}
