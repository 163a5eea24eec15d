import Foundation

/// Items a streaming stage receives from the stage before it, taken in batches of at least `min`
/// while more are coming (each batch costs a transaction: batches of whatever had arrived, often
/// one item, cost a full sync 45 % more CPU) and at most `max`: a stage that falls behind takes
/// many at once. `next` waits while fewer are there; the rest comes once the producer finished;
/// nil once finished and drained.
actor BatchQueue<Item: Sendable> {
    private var items: [Item] = []
    private var waiting: CheckedContinuation<Void, Never>?
    private var isFinished = false
    private var failure: (any Error)?

    func push(_ new: [Item]) {
        guard !isFinished, !new.isEmpty else { return }
        items += new
        waiting?.resume()
        waiting = nil
    }

    /// No more items; `error` is thrown by `next` once what came before it was taken.
    func finish(_ error: (any Error)?) {
        guard !isFinished else { return }
        isFinished = true
        failure = error
        waiting?.resume()
        waiting = nil
    }

    func next(min: Int, max: Int) async throws -> [Item]? {
        while items.count < min && !isFinished {
            await withCheckedContinuation { waiting = $0 }
        }
        if items.isEmpty {
            if let failure { throw failure }
            return nil
        }
        let batch = Array(items.prefix(max))
        items.removeFirst(batch.count)
        return batch
    }
}

extension AsyncSequence where Self: Sendable {
    /// The parts of this sequence joined into batches of `min` to `max` items (fewer only for the
    /// last): the reader takes what came while it was busy with the previous batch.
    func batched<Item: Sendable>(min: Int, max: Int) -> AsyncThrowingStream<[Item], any Error> where Element == [Item] {
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
                return try await withTaskCancellationHandler { try await queue.next(min: min, max: max) } onCancel: { reader.cancel() }
            } catch {
                reader.cancel()
                throw error
            }
        }
    }
}
