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

    /// Parses JSON text and says how many strings held invalid UTF-8 (repaired with U+FFFD), so a
    /// caller can warn instead of changing names silently.
    public static func parseCountingInvalidUTF8(_ data: Data) throws -> (value: JSONValue, invalidUTF8Strings: Int) {
        try JSONParser.parseCountingInvalidUTF8(data)
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
        var output = CanonicalWriter(pretty: true)
        output.write(self, indent: 0)
        output.bytes.append(0x0A)
        return Data(output.bytes)
    }

    /// The canonical text without indentation, for hashing and compact storage.
    public func compactCanonicalString() -> String {
        var output = CanonicalWriter(pretty: false)
        output.write(self, indent: 0)
        return String(decoding: output.bytes, as: UTF8.self)
    }
}

/// Writes JSON as UTF-8 bytes into one growing buffer; runs of a string that need no escaping
/// are copied at once.
struct CanonicalWriter {
    var bytes: [UInt8] = []
    let pretty: Bool
    /// Where the bytes go once they pass a piece size (`JSONValueEncoder.writeCanonical`); nil
    /// keeps them all in `bytes`.
    var drain: (pieceSize: Int, emit: ([UInt8]) throws -> Void)?

    init(pretty: Bool, capacity: Int = 16_384) {
        self.pretty = pretty
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .int(let number): append(String(number))
        case .double(let number):
            append(number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)")
        case .string(let text): writeQuoted(text)
        case .array(let items):
            if items.isEmpty { append("[]"); return }
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(indent + 2)
                write(item, indent: indent + 2)
            }
            newline(indent)
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty { append("{}"); return }
            bytes.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted(by: Self.precedesInUTF8).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(indent + 2)
                writeQuoted(key)
                bytes.append(UInt8(ascii: ":"))
                if pretty { bytes.append(UInt8(ascii: " ")) }
                write(object[key]!, indent: indent + 2)
            }
            newline(indent)
            bytes.append(UInt8(ascii: "}"))
        }
    }

    mutating func newline(_ indent: Int) {
        guard pretty else { return }
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
    }

    private mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Canonical key order: byte order of the keys' UTF-8 (`memcmp`, not the generic sequence comparison).
    static func precedesInUTF8(_ first: String, _ second: String) -> Bool {
        var first = first, second = second
        return first.withUTF8 { a in
            second.withUTF8 { b in
                let common = min(a.count, b.count)
                let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
                return order != 0 ? order < 0 : a.count < b.count
            }
        }
    }

    mutating func writeQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            // Eight bytes at a time past those that need no escape (the parser's scan: a quote, a
            // backslash or a control character), then byte by byte from the word that holds one.
            var index = JSONParser.firstSpecialByte(in: utf8, from: 0)
            while index < utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)]])
                }
                index = JSONParser.firstSpecialByte(in: utf8, from: runStart)
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
