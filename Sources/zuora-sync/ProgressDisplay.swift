import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine

/// The progress of a run on stderr, as `ProgressView` paces it: on a terminal (`live`) one line
/// per customer redrawn in place; otherwise (`plain`, or `--quiet`) plain lines. Log lines go
/// above the live board (`StandardError`). Times come from the clock seam.
final class ProgressDisplay: RunEventSink, @unchecked Sendable {
    // @unchecked: `view` is only touched under `lock`.
    let clock: any WallClock
    private let terminal: StandardError
    private let lock = NSLock()
    private var view: ProgressView

    init(mode: ProgressView.Mode, clock: any WallClock, terminal: StandardError = .shared) {
        self.clock = clock
        self.terminal = terminal
        view = ProgressView(mode: mode)
    }

    func emit(_ event: RunEvent) {
        let now = clock.now()
        lock.withLock {
            switch view.output(for: event, now: now) {
            case .none:
                break
            case .frame(let lines, let isFinal):
                terminal.drawBoard(lines)
                // The finished run's board stays on screen; what follows is printed below it.
                if isFinal { terminal.releaseBoard() }
            case .lines(let lines):
                terminal.write(lines.map { $0 + "\n" }.joined())
            }
        }
    }
}
