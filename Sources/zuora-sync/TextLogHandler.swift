import Foundation
import Logging
import ZuoraSyncCore

/// `--log-format text` (the default): swift-log's `StreamLogHandler` line format
/// (`2026-11-29T09:43:20+0000 warning zuora-sync: customer=globex stage=... [Module] message`),
/// written through `StandardError` so that a log line never tears the live progress board.
struct TextLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]
    let clock: any WallClock
    let write: @Sendable (String) -> Void

    init(label: String, clock: any WallClock = SystemClock(), write: @escaping @Sendable (String) -> Void = { StandardError.shared.write($0) }) {
        self.label = label
        self.clock = clock
        self.write = write
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        let merged = metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 })
        let pretty = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        write("\(Self.timestamp(clock.now())) \(level)\(label.isEmpty ? "" : " ")\(label):\(pretty) [\(source)] \(message)\n")
    }

    /// Local time with its offset, as swift-log writes it: `2026-11-29T09:43:20+0000`.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else { return "<unknown>" }
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
