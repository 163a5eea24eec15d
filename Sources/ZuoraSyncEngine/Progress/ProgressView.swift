import Foundation
import ZuoraSyncCore

/// Decides what the progress display shows for each event, with the time given by the caller (the
/// clock seam), so the pacing is testable: `live` frames of the board at most every
/// `frameInterval` seconds (at once for stage and customer changes), `plain` lines per stage start
/// and finish, waits and failures, and a progress line per customer at most every
/// `plainInterval` seconds.
public struct ProgressView: Sendable {
    /// What to write for one event.
    public enum Output: Equatable, Sendable {
        /// Nothing this time.
        case none
        /// Redraw the board with these lines (`isFinal`: the run ended; leave it on screen).
        case frame([String], isFinal: Bool)
        /// Print these lines.
        case lines([String])
    }

    public enum Mode: Sendable { case live, plain }

    public let mode: Mode
    public var frameInterval: Double
    public var plainInterval: Double
    public private(set) var board = ProgressBoard()
    private var lastFrame: Date?
    private var lastPlainProgress: [String: Date] = [:]

    public init(mode: Mode, frameInterval: Double = 0.1, plainInterval: Double = 5) {
        self.mode = mode
        self.frameInterval = frameInterval
        self.plainInterval = plainInterval
    }

    /// Folds the event into the board and says what to write.
    public mutating func output(for event: RunEvent, now: Date) -> Output {
        board.apply(event)
        switch mode {
        case .live:
            let isImportant = event.event != .progress && event.event != .retry
            if !isImportant, let lastFrame, now.timeIntervalSince(lastFrame) < frameInterval { return .none }
            lastFrame = now
            return .frame(board.render(now: now), isFinal: event.event == .runFinished)
        case .plain:
            var isDue = false
            if let customer = event.customer {
                if event.event == .stageStarted {
                    // A stage's first progress line comes `plainInterval` after it started.
                    lastPlainProgress[customer] = now
                } else if event.event == .progress {
                    let isLast = event.total.map { (event.done ?? 0) >= $0 } ?? false
                    let last = lastPlainProgress[customer] ?? now
                    if lastPlainProgress[customer] == nil { lastPlainProgress[customer] = now }
                    isDue = !isLast && now.timeIntervalSince(last) >= plainInterval
                    if isDue { lastPlainProgress[customer] = now }
                }
            }
            return board.plainLine(for: event, now: now, isProgressDue: isDue).map { .lines([$0]) } ?? .none
        }
    }
}
