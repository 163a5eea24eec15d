import Foundation
import ZuoraSyncCore

/// `--events`: one JSON event per line on stdout, written whole (never interleaved).
final class EventLinePrinter: RunEventSink, @unchecked Sendable {
    // @unchecked: writes happen under `lock`.
    private let lock = NSLock()

    func emit(_ event: RunEvent) {
        let line = Data((event.jsonLine() + "\n").utf8)
        lock.withLock { FileHandle.standardOutput.write(line) }
    }
}
