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
