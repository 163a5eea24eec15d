import Foundation
import ZuoraSyncCore

/// Appends every event of a run to `runs/<run-id>/events.jsonl`, one JSON object per line; a
/// resumed run appends to the same file. A write that fails is dropped (events are a record for
/// people, never a reason to fail the run).
public final class RunEventLog: RunEventSink, @unchecked Sendable {
    // @unchecked: `handle` is only touched under `lock`.
    private let lock = NSLock()
    private var handle: FileHandle?
    public let url: URL

    /// Opens (or creates) the file for appending.
    public init(url: URL) {
        self.url = url
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Never through a link planted in the data directory.
        guard (try? PathSafety.check(url)) != nil else { return }
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        if fd >= 0 { handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true) }
    }

    public func emit(_ event: RunEvent) {
        let line = Data((event.jsonLine() + "\n").utf8)
        lock.withLock { try? handle?.write(contentsOf: line) }
    }

    /// Flushes and closes the file; later events are dropped.
    public func close() {
        lock.withLock {
            try? handle?.close()
            handle = nil
        }
    }

    /// Every event in a run's `events.jsonl`; a line that does not parse is an error naming the file and line.
    public static func read(_ url: URL) throws -> [RunEvent] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw FileError(path: url.path, message: "cannot read the run's events (\(error.localizedDescription))", cause: error)
        }
        return try text.split(separator: "\n").enumerated().map { index, line in
            do { return try RunEvent.parse(line: String(line)) } catch {
                throw FileError(path: "\(url.path):\(index + 1)", message: "not a run event: \(error)", cause: error)
            }
        }
    }
}
