import Foundation
import Synchronization
import ZuoraSyncStore

/// The store a `PipelineRunner`'s last run opened, kept so that whoever made the runner can use
/// the same connections after the run (see `PipelineRunner.openedStore`).
public final class OpenedStore: Sendable {
    private let opened = Mutex<Store?>(nil)

    public init() {}

    /// The store the last run opened, if any.
    public var store: Store? { opened.withLock { $0 } }

    /// Keeps `store` as the last one opened and returns it.
    func keep(_ store: Store) -> Store {
        opened.withLock { $0 = store }
        return store
    }
}
