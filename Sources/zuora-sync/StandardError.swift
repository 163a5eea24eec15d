import Foundation

/// Everything the executable writes to stderr (log lines, progress lines, the live board) goes
/// through here, whole and in order. While the live board is drawn at the bottom of a terminal, a
/// log line is written above it: the board is cleared, the line printed, the board drawn again.
final class StandardError: @unchecked Sendable {
    // @unchecked: `board` is only touched under `lock`.
    static let shared = StandardError()

    private let lock = NSLock()
    private var board: [String] = []
    private let sink: @Sendable (String) -> Void

    init(sink: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.sink = sink
    }

    /// Writes text (one or more whole lines), above the board if one is drawn.
    func write(_ text: String) {
        lock.withLock {
            guard !board.isEmpty else { return sink(text) }
            sink(Self.erase(board.count) + text + Self.draw(board))
        }
    }

    /// Replaces the board at the bottom with these lines.
    func drawBoard(_ lines: [String]) {
        lock.withLock {
            sink(Self.erase(board.count) + Self.draw(lines))
            board = lines
        }
    }

    /// Leaves the board as it is on screen and stops redrawing it under later lines.
    func releaseBoard() {
        lock.withLock { board = [] }
    }

    /// Moves the cursor up over `count` drawn lines and clears to the end of the screen.
    static func erase(_ count: Int) -> String { count > 0 ? "\r\u{1B}[\(count)A\u{1B}[J" : "" }

    static func draw(_ lines: [String]) -> String { lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n" }
}
