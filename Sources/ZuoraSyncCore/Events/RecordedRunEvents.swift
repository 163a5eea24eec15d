import Foundation

/// Keeps every event in memory; for tests.
public final class RecordedRunEvents: RunEventSink, @unchecked Sendable {
    // @unchecked: `events` is only touched under `lock`.
    private let lock = NSLock()
    private var recorded: [RunEvent] = []

    public init() {}
    public func emit(_ event: RunEvent) { lock.withLock { recorded.append(event) } }
    /// Every event so far, in the order emitted.
    public var events: [RunEvent] { lock.withLock { recorded } }
}
