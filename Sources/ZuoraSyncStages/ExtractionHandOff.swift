import Synchronization
import ZuoraSyncCore
import ZuoraSyncStore

/// Tasks that download-exports extracted from an export it had just parsed, kept for extract-tasks,
/// which would otherwise read the export back from the store and parse it a second time (a tenth
/// of a full sync's CPU samples).
///
/// Keyed by workflow and export hash, so extract-tasks only takes the extraction of the very export
/// that was stored. Bounded by the exports' bytes: past `byteLimit`, the oldest are dropped, and
/// extract-tasks reads those from the store as before. extract-tasks makes it when it starts;
/// download-exports fills it only when it is there (a pipeline without extract-tasks, or a resumed
/// run whose downloads committed earlier, keeps nothing).
public final class ExtractionHandOff: Sendable {
    struct Key: Hashable {
        var id: Int64
        var sha256: String
    }

    private struct Entry {
        var extraction: TaskExtraction
        var bytes: Int
        /// When it was kept: a key kept again is a new entry, and its old place in `order` no
        /// longer drops it.
        var sequence: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Keys in the order they came, with their entry's sequence; a place whose entry was taken
        /// or kept again since is skipped when the oldest are dropped.
        var order = FIFOQueue<(key: Key, sequence: Int)>()
        var sequence = 0
        var bytes = 0
        var taken = 0
        var dropped = 0
    }

    /// 8 MB of exports: two batches of extract-tasks at the median export size of the bench fixtures.
    public static let defaultByteLimit = 8 << 20

    let byteLimit: Int
    private let state = Mutex(State())

    public init(byteLimit: Int = ExtractionHandOff.defaultByteLimit) {
        self.byteLimit = byteLimit
    }

    /// Keeps the extraction of export `sha256` of workflow `id` (`bytes`: the export's size).
    func put(_ extraction: TaskExtraction, id: Int64, sha256: String, bytes: Int) {
        state.withLock { state in
            let key = Key(id: id, sha256: sha256)
            state.sequence += 1
            if let previous = state.entries.updateValue(Entry(extraction: extraction, bytes: bytes, sequence: state.sequence), forKey: key) {
                state.bytes -= previous.bytes
            }
            state.order.append((key, state.sequence))
            state.bytes += bytes
            while state.bytes > byteLimit, let oldest = state.order.popFirst() {
                if state.entries[oldest.key]?.sequence == oldest.sequence, let entry = state.entries.removeValue(forKey: oldest.key) {
                    state.bytes -= entry.bytes
                    state.dropped += 1
                }
            }
            // Places of entries taken since are forgotten too: `order` stays about as long as `entries`.
            if state.order.count > 2 * state.entries.count + 1024 {
                let entries = state.entries
                state.order.keep { place in entries[place.key]?.sequence == place.sequence }
            }
        }
    }

    /// The extraction of that export, removed from the hand-off; nil when it was never kept or was dropped.
    func take(id: Int64, sha256: String) -> TaskExtraction? {
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: Key(id: id, sha256: sha256)) else { return nil }
            state.bytes -= entry.bytes
            state.taken += 1
            return entry.extraction
        }
    }

    /// Lets go of everything still kept (extract-tasks takes nothing more once its stream ended).
    func removeAll() {
        state.withLock { state in
            state.entries = [:]
            state.order.removeAll()
            state.bytes = 0
        }
    }

    /// Extractions held now, their exports' bytes, how many were taken, how many were dropped to
    /// stay in bounds, and the places kept in order (for tests).
    var usage: (count: Int, bytes: Int, taken: Int, dropped: Int, places: Int) {
        state.withLock { ($0.entries.count, $0.bytes, $0.taken, $0.dropped, $0.order.count) }
    }
}
