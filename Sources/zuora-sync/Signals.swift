import Foundation
import Synchronization
import ZuoraSyncCore

/// The signal (SIGINT or SIGTERM) that asked this process to stop, 0 while none has.
let receivedSignal = Atomic<Int32>(0)

/// SIGINT/SIGTERM during `run`, `resume` or `work`: the first cancels the work in progress (writes
/// under way finish atomically, the run is marked `interrupted`), a second exits at once.
enum Signals {
    static func installStopHandlers() {
        for number in [SIGINT, SIGTERM] {
            signal(number) { number in
                if receivedSignal.exchange(number, ordering: .relaxed) != 0 { _exit(128 + number) }
            }
        }
    }

    /// Whether a stop was asked for.
    static var shouldStop: @Sendable () -> Bool { { receivedSignal.load(ordering: .relaxed) != 0 } }

    /// The exit status for the signal received (130 for SIGINT, 143 for SIGTERM), or nil.
    static var exitStatus: Int32? {
        let number = receivedSignal.load(ordering: .relaxed)
        return number == 0 ? nil : 128 + number
    }

    /// Runs `work` and cancels it when a stop signal arrives; returns what the work returns (the
    /// work decides what being cancelled means, e.g. a run marked `interrupted`).
    static func cancellingOnSignal<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        installStopHandlers()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                let clock = SystemClock()
                while !shouldStop() { try await clock.sleep(seconds: 0.05) }
                return nil
            }
            while let next = try await group.next() {
                group.cancelAll()
                if let value = next { return value }
            }
            throw CancellationError()
        }
    }
}
