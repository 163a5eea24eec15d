import Foundation
import Synchronization

/// Numbered places where a crash test may kill the process, as a power cut or `kill -9` would:
/// between writing a file and renaming it, inside and after database transactions, after an HTTP
/// answer. Off unless the executable arms it (`ZUORA_SYNC_CRASH_AT=N`, for `make chaos` and the
/// crash tests): then the N-th point reached ends the process at once with status 137, running no
/// cleanup at all.
public enum CrashPoints {
    private static let target = Atomic<Int>(0)
    private static let reached = Atomic<Int>(0)

    /// Arms the N-th point (1-based); 0 disarms.
    public static func arm(at point: Int) { target.store(point, ordering: .relaxed) }

    /// How many points this process has passed.
    public static var count: Int { reached.load(ordering: .relaxed) }

    /// Marks a point; ends the process there when it is the armed one.
    @inline(__always)
    public static func hit() {
        let number = reached.add(1, ordering: .relaxed).newValue
        if number == target.load(ordering: .relaxed) { _exit(137) }
    }
}
