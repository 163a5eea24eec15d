import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// Bounds the requests in flight for one customer and adapts: a 429 halves the limit, successes
/// grow it back one step at a time; `RateLimit-Remaining: 0` pauses new requests until the reset.
///
/// A freed slot is handed straight to the longest waiting request of the most urgent kind (see
/// `Urgency`), so a request that arrives meanwhile cannot take it and send the waiter to the back.
public actor ConcurrencyLimiter {
    /// Which waiting request gets the next free slot.
    public enum Urgency: Sendable {
        /// In arrival order (exports).
        case normal
        /// Ahead of every `normal` request (listing pages: the exports wait for the pages).
        case first
    }

    public private(set) var limit: Int
    public nonisolated let maximum: Int
    /// Requests holding a slot.
    private(set) var inFlight = 0
    private var urgentWaiters = WaiterQueue()
    private var waiters = WaiterQueue()
    private var nextWaiter = 0
    private var successesSinceChange = 0
    private var pausedUntil: Date?
    private let clock: any WallClock

    public init(maximum: Int, clock: any WallClock) {
        self.maximum = max(1, maximum)
        self.limit = max(1, maximum)
        self.clock = clock
    }

    /// Waits for a slot (and for any rate-limit pause to end). A request cancelled while it waits
    /// leaves the queue and throws `CancellationError`.
    public func acquire(_ urgency: Urgency = .normal) async throws {
        if inFlight < limit && urgentWaiters.isEmpty && waiters.isEmpty {
            inFlight += 1
        } else {
            nextWaiter += 1
            let id = nextWaiter
            // Resumed by `handOver`, which has counted the slot as this request's, or by
            // `withdraw` when the request was cancelled first.
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    guard !Task.isCancelled else { return continuation.resume(throwing: CancellationError()) }
                    switch urgency {
                    case .first: urgentWaiters.append(id, continuation)
                    case .normal: waiters.append(id, continuation)
                    }
                }
            } onCancel: {
                Task { await self.withdraw(id) }
            }
        }
        if let until = pausedUntil {
            let wait = until.timeIntervalSince(clock.now())
            if wait > 0 {
                do { try await clock.sleep(seconds: wait) } catch { release(); throw error }
            } else {
                pausedUntil = nil
            }
        }
    }

    /// A cancelled request that still waits leaves the queue (one already given a slot keeps it
    /// and releases it as usual).
    private func withdraw(_ id: Int) {
        (urgentWaiters.remove(id) ?? waiters.remove(id))?.resume(throwing: CancellationError())
    }

    /// Requests waiting for a slot (tests).
    var waiting: Int { urgentWaiters.count + waiters.count }

    public func release() {
        inFlight -= 1
        handOver()
    }

    /// A 429: halve the limit (requests in flight above it finish; none starts until under it).
    public func didHitRateLimit() {
        limit = max(1, limit / 2)
        successesSinceChange = 0
    }

    /// A success: after `limit` of them in a row, allow one more in flight.
    public func didSucceed() {
        successesSinceChange += 1
        if limit < maximum && successesSinceChange >= limit {
            limit += 1
            successesSinceChange = 0
            handOver()
        }
    }

    /// Gives free slots to waiting requests, the urgent ones first.
    private func handOver() {
        while inFlight < limit, let next = urgentWaiters.popFirst() ?? waiters.popFirst() {
            inFlight += 1
            next.resume()
        }
    }

    /// Reads `RateLimit-Remaining` / `RateLimit-Reset`: when nothing remains, pause until the reset.
    /// - Returns: the pause in seconds when this response started one.
    @discardableResult
    public func observe(remaining: String?, reset: String?) -> Double? {
        guard let remaining = remaining.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), remaining <= 0,
              let reset = reset.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }), reset > 0 else { return nil }
        let pause = min(reset, 3600)
        pausedUntil = clock.now().addingTimeInterval(pause)
        return pause
    }
}

/// Requests waiting for a slot, in arrival order.
private struct WaiterQueue {
    private var queue = FIFOQueue<(id: Int, continuation: CheckedContinuation<Void, any Error>)>()

    var isEmpty: Bool { queue.isEmpty }
    var count: Int { queue.count }

    mutating func append(_ id: Int, _ continuation: CheckedContinuation<Void, any Error>) { queue.append((id, continuation)) }

    mutating func popFirst() -> CheckedContinuation<Void, any Error>? { queue.popFirst()?.continuation }

    /// Takes out the request `id` if it still waits.
    mutating func remove(_ id: Int) -> CheckedContinuation<Void, any Error>? { queue.remove { $0.id == id }?.continuation }
}
