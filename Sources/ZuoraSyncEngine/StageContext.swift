import Foundation
import Logging
import ZuoraSyncCore

/// What a stage may see and use: the run, the customer, its directory, the results of earlier
/// stages (typed), and the customer's services.
public struct StageContext: Sendable {
    public let runID: String
    public let runStartedAt: Date
    public let customer: CustomerConfig
    /// This stage's `id` in the pipeline.
    public let stageID: String
    public let options: RunOptions
    /// This stage's output directory (created before `run`).
    public let directory: URL
    public let services: CustomerServices
    /// Output directories of the earlier stages, by kind name.
    let earlierStages: [String: URL]
    let cache: StageResultCache
    /// Reports events of this stage (progress, warnings) without knowing who watches.
    public let events: EventReporter

    public init(runID: String, runStartedAt: Date, customer: CustomerConfig, stageID: String, options: RunOptions, directory: URL,
                services: CustomerServices, earlierStages: [String: URL], cache: StageResultCache = StageResultCache(),
                events: EventReporter? = nil) {
        self.events = events ?? services.events
        self.runID = runID
        self.runStartedAt = runStartedAt
        self.customer = customer
        self.stageID = stageID
        self.options = options
        self.directory = directory
        self.services = services
        self.earlierStages = earlierStages
        self.cache = cache
    }

    /// The output directory of an earlier stage of this pipeline.
    public func directory<K: StageKind>(of kind: K.Type) throws -> URL {
        guard let url = earlierStages[K.name] else {
            throw StageFailure("stage '\(stageID)' needs a '\(K.name)' stage before it", isRetryable: false)
        }
        return url
    }

    /// The typed result of an earlier stage (read from its `result.json` once per customer run).
    public func result<K: StageKind>(of kind: K.Type) throws -> K.Result {
        if let cached: K.Result = cache.value(for: K.name) { return cached }
        let value = try StageResultFile.read(K.Result.self, formatVersion: K.resultFormatVersion, in: directory(of: kind))
        cache.store(value, for: K.name)
        return value
    }

    /// Where a stage writes a file of its own (a plan, pages).
    public func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Tells watchers how far the stage is: `done` of `total` (nil when unknown) in `unit`
    /// (`pages`, `exports`). Cheap to call often: events are thinned out by time.
    public func progress(_ done: Int, of total: Int?, unit: String) {
        events.progress(done, of: total, unit: unit)
    }

    /// Hands a part of this stage's output (a listed page, downloaded exports) to a later stage
    /// streaming from it while this one still runs; nothing happens when no stage streams from
    /// it. When that stage holds at most so many items it has not acknowledged
    /// (`partials(of:holdingAtMost:)`), this waits while that many are out: a stage that cannot
    /// keep up slows the one before it down instead of letting it queue everything.
    public func publish<K: StageKind>(_ partial: K.Partial, from kind: K.Type) async where K.Partial: Collection {
        guard !partial.isEmpty else { return }
        await cache.publish(partial, count: partial.count, for: K.name)
    }

    /// What an earlier stage running at the same time publishes, in order, ending when that stage
    /// committed and throwing when it failed. Nil when that stage is not running alongside this one
    /// (it committed earlier, or it is not the stage just before): read its result instead.
    /// Readable once. `holdingAtMost`: the earlier stage waits while this many of its items are
    /// out and not acknowledged (`acknowledge(_:of:)`); nil lets it publish without waiting, and
    /// so does a dry run, whose stages only drain what comes.
    public func partials<K: StageKind>(of kind: K.Type, holdingAtMost limit: Int? = nil)
        -> AsyncThrowingMapSequence<AsyncThrowingStream<any Sendable, any Error>, K.Partial>? {
        guard earlierStages[K.name] != nil,
              let stream = cache.takeStream(for: K.name, limit: options.dryRun ? nil : limit) else { return nil }
        return stream.map { $0 as! K.Partial }
    }

    /// Tells the earlier stage `kind` that `count` of its published items were dealt with (stored),
    /// so it may publish as many more (`partials(of:holdingAtMost:)`).
    public func acknowledge<K: StageKind>(_ count: Int, of kind: K.Type) {
        cache.acknowledge(count, for: K.name)
    }

    /// An object the stages of this customer's run share while they run, one per type: the first
    /// stage to ask makes it (a hand-off between stages that stream into each other). A resumed run
    /// starts without it, so what it holds must also be obtainable another way.
    public func shared<T: AnyObject & Sendable>(_ type: T.Type, makingIt make: () -> T) -> T {
        cache.shared(type, make: make)
    }

    /// The object of that type a stage of this run made with `shared(_:makingIt:)`, if any did.
    public func shared<T: AnyObject & Sendable>(_ type: T.Type) -> T? {
        cache.shared(type)
    }

    public var logger: Logger {
        var logger = services.logger
        logger[metadataKey: "stage"] = "\(stageID)"
        return logger
    }
}

/// Results already decoded in this customer's run, by kind name, so a listing is decoded once.
public final class StageResultCache: @unchecked Sendable {
    // @unchecked: `values`, `sharedObjects` and `streams` are only touched under `lock`.
    private let lock = NSLock()
    private var values: [String: any Sendable] = [:]
    /// Objects the stages share while they run, one per type (`StageContext.shared`).
    private var sharedObjects: [ObjectIdentifier: any Sendable] = [:]
    private var streams: [String: Channel] = [:]
    private var nextWaiter = 0
    /// At most this many items held by any consumer that sets a limit (tests: 1, so that every
    /// producer waits); nil keeps each consumer's own.
    private let holdLimitCap: Int?

    /// A running stage's parts on their way to the stage streaming from it.
    private struct Channel {
        var stream: AsyncThrowingStream<any Sendable, any Error>?
        let continuation: AsyncThrowingStream<any Sendable, any Error>.Continuation
        /// Items out and not acknowledged that make the producer wait; nil: no limit.
        var limit: Int?
        var unacknowledged = 0
        /// The consumer finished: nothing waits any more.
        var isReleased = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]

        func mustWait(adding count: Int) -> Bool {
            guard let limit, !isReleased else { return false }
            // One part larger than the limit still goes when nothing else is out.
            return unacknowledged > 0 && unacknowledged + count > limit
        }
    }

    public init(holdLimitCap: Int? = nil) {
        self.holdLimitCap = holdLimitCap
    }

    func value<T>(for name: String) -> T? { lock.withLock { values[name] as? T } }

    func shared<T: AnyObject & Sendable>(_ type: T.Type) -> T? {
        lock.withLock { sharedObjects[ObjectIdentifier(type)] as? T }
    }

    func shared<T: AnyObject & Sendable>(_ type: T.Type, make: () -> T) -> T {
        lock.withLock {
            if let existing = sharedObjects[ObjectIdentifier(type)] as? T { return existing }
            let made = make()
            sharedObjects[ObjectIdentifier(type)] = made
            return made
        }
    }
    func store(_ value: any Sendable, for name: String) { lock.withLock { values[name] = value } }

    /// Opens the channel a running stage of kind `name` publishes into.
    func openStream(for name: String) {
        let (stream, continuation) = AsyncThrowingStream<any Sendable, any Error>.makeStream()
        lock.withLock {
            assert(streams[name] == nil, "a second channel for '\(name)' would drop the first one's waiters")
            streams[name] = Channel(stream: stream, continuation: continuation)
        }
    }

    func publish(_ value: any Sendable, count: Int, for name: String) async {
        enum Step { case drop, send(AsyncThrowingStream<any Sendable, any Error>.Continuation), wait }
        while true {
            let step = lock.withLock { () -> Step in
                guard var channel = streams[name] else { return .drop }
                if channel.mustWait(adding: count) && !Task.isCancelled { return .wait }
                channel.unacknowledged += count
                streams[name] = channel
                return .send(channel.continuation)
            }
            switch step {
            case .drop: return
            case .send(let continuation):
                continuation.yield(value)
                return
            case .wait: await waitForRoom(name, count: count)
            }
        }
    }

    /// Returns once the consumer acknowledged items, finished, or the task is cancelled (the
    /// caller then looks again).
    private func waitForRoom(_ name: String, count: Int) async {
        let id = lock.withLock { () -> Int in
            nextWaiter += 1
            return nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waits = lock.withLock { () -> Bool in
                    guard var channel = streams[name], channel.mustWait(adding: count), !Task.isCancelled else { return false }
                    channel.waiters[id] = continuation
                    streams[name] = channel
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            lock.withLock { streams[name]?.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    func takeStream(for name: String, limit: Int? = nil) -> AsyncThrowingStream<any Sendable, any Error>? {
        lock.withLock {
            let stream = streams[name]?.stream
            streams[name]?.stream = nil
            if stream != nil { streams[name]?.limit = limit.map { min($0, holdLimitCap ?? $0) } }
            return stream
        }
    }

    func acknowledge(_ count: Int, for name: String) {
        changeChannel(name) { channel in
            assert(channel.unacknowledged >= count, "'\(name)': \(count) acknowledged, \(channel.unacknowledged) out")
            channel.unacknowledged = max(0, channel.unacknowledged - count)
        }
    }

    /// The stage streaming from `name` finished (or failed): its producer no longer waits.
    func releaseStream(for name: String) {
        changeChannel(name) { $0.isReleased = true }
    }

    /// Changes a channel, then wakes its waiting producers (each looks again).
    private func changeChannel(_ name: String, _ change: (inout Channel) -> Void) {
        let waiters = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            guard var channel = streams[name] else { return [] }
            change(&channel)
            let waiters = Array(channel.waiters.values)
            channel.waiters = [:]
            streams[name] = channel
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Ends the channel: the producer committed (`error` nil) or failed.
    func finishStream(for name: String, error: (any Error)?) {
        guard let channel = lock.withLock({ streams.removeValue(forKey: name) }) else { return }
        for waiter in channel.waiters.values { waiter.resume() }
        if let error { channel.continuation.finish(throwing: error) } else { channel.continuation.finish() }
    }
}
