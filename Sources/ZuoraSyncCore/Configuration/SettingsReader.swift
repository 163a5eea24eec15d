import Foundation

/// Where a stage kind reads its settings from: a pipeline file's stage entry (with file, line and
/// "did you mean" in every error) or the normalised copy kept in `run.json` (missing keys take
/// their defaults, so an older run directory still resumes). A kind's `Settings` type names each
/// key, default and range exactly once, in `init(reading:)`.
public protocol SettingsReader {
    /// A whole number; the default when the key is missing or null.
    func int(_ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int
    /// A number; the default when the key is missing or null.
    func double(_ key: String, default value: Double, range: ClosedRange<Double>) throws -> Double
    /// true or false; the default when the key is missing or null.
    func bool(_ key: String, default value: Bool) throws -> Bool
    /// Text; the default when the key is missing or null.
    func string(_ key: String, default value: String?) throws -> String?
    /// Rejects a key that moved elsewhere, saying where it went.
    func moved(_ key: String, to place: String) throws
    /// An error about a key's value that the kind checks itself, pointing at the key (file, line
    /// and key path in a pipeline file).
    func invalid(_ key: String, _ message: String) -> ConfigurationError
}

/// Reads the settings a stage definition carries in `run.json`. Unknown keys are ignored (format 1
/// wrote every kind's settings on every stage); values out of range are errors naming the file.
public struct StoredSettingsReader: SettingsReader, Sendable {
    public let values: [String: JSONValue]
    /// Names the source in errors, e.g. `runs/<id>/run.json: stages[3]`.
    public let source: String

    public init(values: [String: JSONValue], source: String) {
        self.values = values
        self.source = source
    }

    private func error(_ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: source, keyPath: key, message: message)
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    public func int(_ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let stored = present(key) else { return value }
        guard let number = stored.intValue.map(Int.init), range.contains(number) else {
            throw error(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    public func double(_ key: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
        guard let stored = present(key) else { return value }
        let number: Double?
        switch stored {
        case .double(let double): number = double
        case .int(let int): number = Double(int)
        default: number = nil
        }
        guard let number, range.contains(number) else {
            throw error(key, "expected a number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    public func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let stored = present(key) else { return value }
        guard let flag = stored.boolValue else { throw error(key, "expected true or false.") }
        return flag
    }

    public func string(_ key: String, default value: String?) throws -> String? {
        guard let stored = present(key) else { return value }
        guard let text = stored.stringValue else { throw error(key, "expected text.") }
        return text
    }

    public func moved(_ key: String, to place: String) throws {}

    public func invalid(_ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: source, keyPath: key, message: message)
    }
}

extension YAMLMapping: SettingsReader {
    package func string(_ key: String, default value: String?) throws -> String? {
        try string(key) ?? value
    }
    package func moved(_ key: String, to place: String) throws {
        if mapping[key] != nil {
            throw ConfigurationError(file: document.file, line: lineOf(key), keyPath: keyPath(key),
                                     message: "this setting moved to \(place); set it there.")
        }
    }
    package func invalid(_ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: document.file, line: lineOf(key), keyPath: keyPath(key), message: message)
    }
}

/// Turns a settings value into the JSON object kept in a stage definition: snake_case keys (the
/// YAML's), so `StoredSettingsReader` reads back what `init(reading:)` read from the pipeline file.
public enum SettingsEncoding {
    public static func object<T: Encodable>(_ settings: T) throws -> [String: JSONValue] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let value = try JSONValue.parse(encoder.encode(settings))
        return value.objectValue ?? [:]
    }
}
