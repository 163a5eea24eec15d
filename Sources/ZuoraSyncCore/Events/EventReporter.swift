import Foundation

/// Emits events for one customer's part of a run and tallies its Zuora requests. Handed to the
/// Zuora client (retries, waits) and to stages (progress, through `StageContext`), so neither
/// knows who watches. The current stage is set by the engine as it moves through the pipeline.
public final class EventReporter: @unchecked Sendable {
    // @unchecked: `stage`, `tally` and `lastProgress` are only touched under `lock`.
    public let sink: any RunEventSink
    public let clock: any WallClock
    public let run: String
    public let customer: String?
    /// Progress events closer together than this (per stage) are dropped, except the last of a stage.
    public let progressInterval: Double
    private let lock = NSLock()
    private var currentStage: String?
    private var counts = RequestTally()
    private var lastProgress: Date?
    /// A stage's reporter counts requests in its customer's reporter.
    private let parent: EventReporter?
    private let fixedStage: String?

    public init(sink: any RunEventSink, clock: any WallClock, run: String, customer: String?, progressInterval: Double = 0.5) {
        self.sink = sink
        self.clock = clock
        self.run = run
        self.customer = customer
        self.progressInterval = progressInterval
        self.parent = nil
        self.fixedStage = nil
    }

    private init(parent: EventReporter, stage: String) {
        sink = parent.sink
        clock = parent.clock
        run = parent.run
        customer = parent.customer
        progressInterval = parent.progressInterval
        self.parent = parent
        fixedStage = stage
    }

    /// A reporter whose events always name `stage` (stages running at the same time each have
    /// one); its requests, retries and waits count in this reporter's tally.
    public func forStage(_ stage: String) -> EventReporter {
        EventReporter(parent: parent ?? self, stage: stage)
    }

    /// A reporter that drops everything (tests, offline tools).
    public static func silent(clock: any WallClock = SystemClock()) -> EventReporter {
        EventReporter(sink: NoRunEvents(), clock: clock, run: "", customer: nil)
    }

    /// The stage events are attributed to from now on.
    public var stage: String? {
        get { fixedStage ?? lock.withLock { currentStage } }
        set { lock.withLock { currentStage = newValue; lastProgress = nil } }
    }

    /// Requests, retries and 429s so far.
    public var tally: RequestTally { parent?.tally ?? lock.withLock { counts } }

    /// Emits an event of this customer and current stage, filled in by `fill`.
    public func emit(_ kind: RunEvent.Kind, _ fill: (inout RunEvent) -> Void = { _ in }) {
        var event = RunEvent(kind, time: clock.now(), run: run, customer: customer, stage: stage)
        fill(&event)
        sink.emit(event)
    }

    /// Work moved on: `done` of `total` in `unit`. Emitted at most every `progressInterval`
    /// seconds, and always when `done == total`.
    public func progress(_ done: Int, of total: Int?, unit: String) {
        let now = clock.now()
        let isDue: Bool = lock.withLock {
            let isLast = total.map { done >= $0 } ?? false
            if !isLast, let last = lastProgress, now.timeIntervalSince(last) < progressInterval { return false }
            lastProgress = now
            return true
        }
        guard isDue else { return }
        emit(.progress) { event in
            event.done = done
            event.total = total
            event.unit = unit
        }
    }

    /// One request was sent.
    public func countRequest() {
        if let parent { return parent.countRequest() }
        lock.withLock { counts.requests += 1 }
    }

    private func count(_ change: (inout RequestTally) -> Void) {
        if let parent { return parent.count(change) }
        lock.withLock { change(&counts) }
    }

    /// A call is tried again after `wait` seconds.
    public func retry(call: String, attempt: Int, status: Int?, message: String?, wait: Double) {
        count { counts in
            counts.retries += 1
            if status == 429 { counts.rateLimited += 1 }
        }
        emit(.retry) { event in
            event.call = call
            event.attempt = attempt
            event.httpStatus = status
            event.message = message
            event.waitSeconds = wait
        }
    }

    /// Zuora asked to wait (`Retry-After`, `RateLimit-Remaining: 0`).
    public func wait(seconds: Double, reason: String) {
        count { $0.waits += 1 }
        emit(.wait) { event in
            event.waitSeconds = seconds
            event.message = reason
        }
    }
}
