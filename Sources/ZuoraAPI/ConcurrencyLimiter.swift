import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// Bounds the requests in flight for one customer and adapts: a 429 halves the limit, successes
/// grow it back one step at a time; `RateLimit-Remaining: 0` pauses new requests until the reset.
public actor ConcurrencyLimiter {
    public private(set) var limit: Int
    public nonisolated let maximum: Int
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var successesSinceChange = 0
    private var pausedUntil: Date?
    private let clock: any WallClock

    public init(maximum: Int, clock: any WallClock) {
        self.maximum = max(1, maximum)
        self.limit = max(1, maximum)
        self.clock = clock
    }

    /// Waits for a slot (and for any rate-limit pause to end).
    public func acquire() async throws {
        while inFlight >= limit {
            await withCheckedContinuation { waiters.append($0) }
        }
        inFlight += 1
        if let until = pausedUntil {
            let wait = until.timeIntervalSince(clock.now())
            if wait > 0 {
                do { try await clock.sleep(seconds: wait) } catch { release(); throw error }
            } else {
                pausedUntil = nil
            }
        }
    }

    public func release() {
        inFlight -= 1
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }

    /// A 429: halve the limit.
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
            if !waiters.isEmpty && inFlight < limit { waiters.removeFirst().resume() }
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
