import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine

/// The progress of a run on stderr. On a terminal (`live`): one line per customer, redrawn in
/// place at most ten times a second. Otherwise (`plain`, or `--quiet`): a line per stage start and
/// finish, waits and failures, and a progress line per customer at most every `plainInterval`
/// seconds. Times come from the clock seam.
final class ProgressDisplay: RunEventSink, @unchecked Sendable {
    // @unchecked: `board` and the throttling dates are only touched under `lock`.
    enum Mode { case live, plain }

    let mode: Mode
    let clock: any WallClock
    /// Seconds between progress lines of one customer in plain mode.
    let plainInterval: Double
    private let terminal: StandardError
    private let lock = NSLock()
    private var board = ProgressBoard()
    private var lastDraw: Date?
    private var lastPlainProgress: [String: Date] = [:]

    init(mode: Mode, clock: any WallClock, plainInterval: Double = 5, terminal: StandardError = .shared) {
        self.mode = mode
        self.clock = clock
        self.plainInterval = plainInterval
        self.terminal = terminal
    }

    func emit(_ event: RunEvent) {
        let now = clock.now()
        lock.withLock {
            board.apply(event)
            switch mode {
            case .live: drawLive(event, now: now)
            case .plain: printPlain(event, now: now)
            }
        }
    }

    private func drawLive(_ event: RunEvent, now: Date) {
        let isImportant = event.event != .progress && event.event != .retry
        if !isImportant, let lastDraw, now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        terminal.drawBoard(board.render(now: now))
        // The finished run's board stays on screen; what follows is printed below it.
        if event.event == .runFinished { terminal.releaseBoard() }
    }

    private func printPlain(_ event: RunEvent, now: Date) {
        var isDue = false
        if event.event == .progress, let customer = event.customer {
            let isLast = event.total.map { (event.done ?? 0) >= $0 } ?? false
            let last = lastPlainProgress[customer]
            isDue = !isLast && (last.map { now.timeIntervalSince($0) >= plainInterval } ?? true)
            // The first progress event of a stage only starts the interval.
            if last == nil { isDue = false; lastPlainProgress[customer] = now }
            if isDue { lastPlainProgress[customer] = now }
        }
        if event.event == .stageStarted, let customer = event.customer { lastPlainProgress[customer] = now }
        if let line = board.plainLine(for: event, now: now, isProgressDue: isDue) { terminal.write(line + "\n") }
    }
}
