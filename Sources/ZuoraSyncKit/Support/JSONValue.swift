import Foundation

/// A JSON document kept whole: unknown keys survive a decode/encode round trip, and
/// `canonicalData()` gives the byte-stable form used for snapshots, hashes and stage outputs.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text; throws `JSONValue.ParseError` with the reason, line and column on invalid input.
    public static func parse(_ data: Data) throws -> JSONValue {
        try JSONParser.parse(data)
    }

    /// Why a document could not be parsed, in words for a person.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { "invalid JSON: \(reason)" }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer, also from a string of digits (some gateways quote ids).
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value == value.rounded() && abs(value) < 9e15: return Int64(value)
        case .string(let text) where !text.isEmpty && text.count <= 18 && text.allSatisfy(\.isASCIIDigitOrMinus):
            return Int64(text)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }
}

extension Character {
    fileprivate var isASCIIDigitOrMinus: Bool { ("0"..."9").contains(self) || self == "-" }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue {
    /// Canonical text: keys sorted by their UTF-8 bytes, 2-space indent, `\n` line ends, non-ASCII
    /// kept as is, a trailing newline. Equal documents give equal bytes.
    public func canonicalData() -> Data {
        var output = ""
        output.reserveCapacity(4096)
        write(into: &output, indent: 0)
        output.append("\n")
        return Data(output.utf8)
    }

    /// The canonical text without indentation, for hashing and compact storage.
    public func compactCanonicalString() -> String {
        var output = ""
        writeCompact(into: &output)
        return output
    }

    private func write(into output: inout String, indent: Int) {
        switch self {
        case .array(let items):
            if items.isEmpty { output.append("[]"); return }
            output.append("[\n")
            for (index, item) in items.enumerated() {
                output.append(String(repeating: " ", count: indent + 2))
                item.write(into: &output, indent: indent + 2)
                output.append(index == items.count - 1 ? "\n" : ",\n")
            }
            output.append(String(repeating: " ", count: indent))
            output.append("]")
        case .object(let object):
            if object.isEmpty { output.append("{}"); return }
            output.append("{\n")
            let keys = object.keys.sorted(by: JSONValue.keyOrder)
            for (index, key) in keys.enumerated() {
                output.append(String(repeating: " ", count: indent + 2))
                JSONValue.appendQuoted(key, into: &output)
                output.append(": ")
                object[key]!.write(into: &output, indent: indent + 2)
                output.append(index == keys.count - 1 ? "\n" : ",\n")
            }
            output.append(String(repeating: " ", count: indent))
            output.append("}")
        default:
            writeScalar(into: &output)
        }
    }

    private func writeCompact(into output: inout String) {
        switch self {
        case .array(let items):
            output.append("[")
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(",") }
                item.writeCompact(into: &output)
            }
            output.append("]")
        case .object(let object):
            output.append("{")
            for (index, key) in object.keys.sorted(by: JSONValue.keyOrder).enumerated() {
                if index > 0 { output.append(",") }
                JSONValue.appendQuoted(key, into: &output)
                output.append(":")
                object[key]!.writeCompact(into: &output)
            }
            output.append("}")
        default:
            writeScalar(into: &output)
        }
    }

    private func writeScalar(into output: inout String) {
        switch self {
        case .null: output.append("null")
        case .bool(let value): output.append(value ? "true" : "false")
        case .int(let value): output.append(String(value))
        case .double(let value):
            if value == value.rounded(), abs(value) < 1e15 {
                output.append(String(Int64(value)))
            } else {
                output.append("\(value)")
            }
        case .string(let value): JSONValue.appendQuoted(value, into: &output)
        case .array, .object: break
        }
    }

    private static func keyOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    private static func appendQuoted(_ string: String, into output: inout String) {
        output.append("\"")
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output.append("\\\"")
            case "\\": output.append("\\\\")
            case "\n": output.append("\\n")
            case "\r": output.append("\\r")
            case "\t": output.append("\\t")
            case "\u{08}": output.append("\\b")
            case "\u{0C}": output.append("\\f")
            default:
                if scalar.value < 0x20 {
                    output.append("\\u")
                    let hex = String(scalar.value, radix: 16)
                    output.append(String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output.append("\"")
    }
}
