import Foundation

/// Items a streaming stage receives from the stage before it, taken in batches of at least `min`
/// while more are coming (each batch costs a transaction: batches of whatever had arrived, often
/// one item, cost a full sync 45 % more CPU) and at most `max`: a stage that falls behind takes
/// many at once. `next` waits while fewer are there, but not past `maxWait` after both the oldest
/// waiting item arrived and the reader came back for more: over a slow network, items trickle in,
/// and without that deadline the last `min` of them would all be stored after the last download,
/// on the run's critical path (counting from the reader's return too keeps a reader that was busy
/// from taking a few at once). The rest comes once the producer finished; nil once finished and
/// drained.
actor BatchQueue<Item: Sendable> {
    private var items: [Item] = []
    /// When the items now waiting started to arrive (an earlier item's arrival, for those left over
    /// when more than `max` came); nil when none waits.
    private var oldestArrival: ContinuousClock.Instant?
    private var waiting: CheckedContinuation<Void, Never>?
    private var isFinished = false
    private var failure: (any Error)?

    func push(_ new: [Item]) {
        guard !isFinished, !new.isEmpty else { return }
        if items.isEmpty { oldestArrival = .now }
        items += new
        wake()
    }

    /// No more items; `error` is thrown by `next` once what came before it was taken.
    func finish(_ error: (any Error)?) {
        guard !isFinished else { return }
        isFinished = true
        failure = error
        wake()
    }

    /// Whether a reader waits in `next` (for tests).
    var hasWaitingReader: Bool { waiting != nil }

    private func wake() {
        waiting?.resume()
        waiting = nil
    }

    /// One reader at a time (a stage's loop).
    func next(min: Int, max: Int, maxWait: Duration? = nil) async throws -> [Item]? {
        precondition(waiting == nil, "BatchQueue has one reader")
        let returned = ContinuousClock.now
        while items.count < min && !isFinished {
            guard let maxWait, let oldestArrival else {
                await withCheckedContinuation { waiting = $0 }
                continue
            }
            let deadline = Swift.max(oldestArrival, returned) + maxWait
            if ContinuousClock.now >= deadline { break }
            // Woken by an item, the end, or the deadline (a late timer only makes the loop look again).
            let timer = Task {
                guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
                self.wake()
            }
            await withCheckedContinuation { waiting = $0 }
            timer.cancel()
        }
        if items.isEmpty {
            if let failure { throw failure }
            return nil
        }
        let batch = Array(items.prefix(max))
        items.removeFirst(batch.count)
        if items.isEmpty { oldestArrival = nil }
        return batch
    }
}

extension AsyncSequence where Self: Sendable {
    /// The parts of this sequence joined into batches of `min` to `max` items (fewer for the last,
    /// and once `maxWait` passed since the oldest arrived and the reader came back): the reader
    /// takes what came while it was busy with the previous batch.
    func batched<Item: Sendable>(min: Int, max: Int, maxWait: Duration? = nil) -> AsyncThrowingStream<[Item], any Error> where Element == [Item] {
        let queue = BatchQueue<Item>()
        let reader = Task {
            do {
                for try await part in self { await queue.push(part) }
                await queue.finish(nil)
            } catch {
                await queue.finish(error)
            }
        }
        return AsyncThrowingStream {
            do {
                return try await withTaskCancellationHandler { try await queue.next(min: min, max: max, maxWait: maxWait) } onCancel: { reader.cancel() }
            } catch {
                reader.cancel()
                throw error
            }
        }
    }
}
