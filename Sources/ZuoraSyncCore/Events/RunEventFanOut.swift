import Foundation

/// Hands each event to several sinks, one event at a time, so every sink sees the same order.
public final class RunEventFanOut: RunEventSink, @unchecked Sendable {
    // @unchecked: `emit` runs under `lock`; `sinks` never changes.
    public let sinks: [any RunEventSink]
    private let lock = NSLock()
    public init(_ sinks: [any RunEventSink]) { self.sinks = sinks }
    public func emit(_ event: RunEvent) { lock.withLock { for sink in sinks { sink.emit(event) } } }
}
