import Foundation
import Synchronization

/// Set by SIGINT/SIGTERM; long-running commands stop taking new work and exit cleanly.
let stopRequested = Atomic<Bool>(false)

enum Signals {
    static func installStopHandlers() {
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
    }

    static var shouldStop: @Sendable () -> Bool { { stopRequested.load(ordering: .relaxed) } }
}
