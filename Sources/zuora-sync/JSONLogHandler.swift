import Foundation
import Logging
import ZuoraSyncCore

/// `--log-format json`: one JSON object per log line on stderr, with typed fields: `time`,
/// `level`, `message`, `label`, `source`, and each metadata key as its own field (`run`,
/// `customer`, `stage`, `workflow.id`, `http.status`, `attempt`, `duration_ms`, ...). Counts,
/// statuses, attempts and durations are numbers, not strings.
struct JSONLogHandler: LogHandler {
    /// Metadata keys whose values are numbers when they read as one.
    static let numericKeys: Set<String> = [
        "http.status", "attempt", "duration_ms", "wait_ms", "pass", "customers", "workflow.id", "count", "attempts",
        "max_attempts", "pid", "port", "bytes",
    ]

    let label: String
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]
    let clock: any WallClock
    let write: @Sendable (String) -> Void

    init(label: String, clock: any WallClock = SystemClock(),
         write: @escaping @Sendable (String) -> Void = { StandardError.shared.write($0) }) {
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
        var fields: [String: JSONValue] = [:]
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = Self.json(value, key: key)
        }
        fields["time"] = .string(Timestamp.format(clock.now()))
        fields["level"] = .string(level.rawValue)
        fields["message"] = .string(message.description)
        fields["label"] = .string(label)
        fields["source"] = .string(source)
        write(JSONValue.object(fields).compactCanonicalString() + "\n")
    }

    /// A metadata value as JSON: numbers and Booleans typed, lists and dictionaries nested.
    static func json(_ value: Logger.Metadata.Value, key: String) -> JSONValue {
        switch value {
        case .string(let text):
            if numericKeys.contains(key) || key.hasSuffix("_ms") || key.hasSuffix(".status") {
                if let number = Int64(text) { return .int(number) }
                if let number = Double(text) { return .double(number) }
            }
            return .string(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: return .int(Int64(number))
            case let number as Int64: return .int(number)
            case let number as Double: return .double(number)
            case let flag as Bool: return .bool(flag)
            default: return json(.string(convertible.description), key: key)
            }
        case .array(let items):
            return .array(items.map { json($0, key: key) })
        case .dictionary(let dictionary):
            return .object(dictionary.mapValues { json($0, key: key) })
        }
    }
}
