import Foundation

/// Where run events go: the progress display, `--events` on stdout, `events.jsonl`. `emit` is
/// called from any task and must return quickly; a sink never throws (a display or log that
/// fails must not fail the run).
public protocol RunEventSink: Sendable {
    func emit(_ event: RunEvent)
}

/// Drops every event: the default when nobody watches.
public struct NoRunEvents: RunEventSink {
    public init() {}
    public func emit(_ event: RunEvent) {}
}

/// Hands each event to several sinks, one event at a time, so every sink sees the same order.
public final class RunEventFanOut: RunEventSink, @unchecked Sendable {
    // @unchecked: `emit` runs under `lock`; `sinks` never changes.
    public let sinks: [any RunEventSink]
    private let lock = NSLock()
    public init(_ sinks: [any RunEventSink]) { self.sinks = sinks }
    public func emit(_ event: RunEvent) { lock.withLock { for sink in sinks { sink.emit(event) } } }
}

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
