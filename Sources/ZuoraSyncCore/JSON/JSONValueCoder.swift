import Foundation

/// Encodes any `Encodable` straight into canonical JSON bytes (what `JSONValue.canonicalData()`
/// writes), with the conventions of the tool's files: dates as `Timestamp.format` text, URLs as
/// their absolute string, nil optionals left out. It replaces Foundation's `JSONEncoder` followed
/// by a parse on the hot paths (result, plan and state files). Each nested value is written out as
/// soon as its `encode(to:)` returns, so a listing of 20,000 workflows never exists as a tree of
/// dictionaries, only as the bytes of each workflow and then the file.
public enum JSONValueEncoder {
    /// The value's canonical bytes: `pretty` is the 2-space form of the files (without the trailing
    /// newline), otherwise one compact line. `extraFields` are added to the top-level object
    /// (`formatVersion`); a value that does not encode as an object then throws `notAnObject`.
    public static func canonicalBytes<T: Encodable>(_ value: T, pretty: Bool, extraFields: [String: JSONValue] = [:]) throws -> [UInt8] {
        var output = CanonicalWriter(pretty: pretty)
        try output.write(try rootNode(value, pretty: pretty, extraFields: extraFields), indent: 0)
        return output.bytes
    }

    /// The same bytes as `canonicalBytes`, handed to `emit` in pieces of about `pieceSize` as they
    /// are written: a large file (the plan of a first sync of 20,000 workflows) then never exists
    /// whole in memory, only the bytes of each of its items and one piece.
    public static func writeCanonical<T: Encodable>(_ value: T, pretty: Bool, extraFields: [String: JSONValue] = [:], pieceSize: Int = 65_536,
                                                    emit: @escaping ([UInt8]) throws -> Void) throws {
        let node = try rootNode(value, pretty: pretty, extraFields: extraFields)
        var output = CanonicalWriter(pretty: pretty, capacity: pieceSize + 4096)
        output.drain = (pieceSize, emit)
        try output.write(node, indent: 0)
        try emit(output.bytes)
    }

    private static func rootNode<T: Encodable>(_ value: T, pretty: Bool, extraFields: [String: JSONValue]) throws -> EncodingNode {
        let node = try box(value, codingPath: [], depth: 0, pretty: pretty)
        guard !extraFields.isEmpty else { return node }
        guard case .object(let object) = node else { throw NotAnObject() }
        for (key, field) in extraFields { object.items[key] = .value(field) }
        return .object(object)
    }

    /// What `canonicalBytes` throws when `extraFields` are asked of a value that is not an object.
    public struct NotAnObject: Error {}

    /// `codingPath` is built only for a value that needs an encoder of its own (building it for
    /// every field cost more than the encoding); `depth` is its length.
    static func box<T: Encodable>(_ value: T, codingPath: @autoclosure () -> [any CodingKey], depth: Int, pretty: Bool) throws -> EncodingNode {
        switch value {
        case let json as JSONValue: return .value(json)
        case let date as Date: return .value(.string(Timestamp.format(date)))
        case let url as URL: return .value(.string(url.absoluteString))
        case let data as Data: return .value(.string(data.base64EncodedString()))
        case let text as String: return .value(.string(text))
        case let flag as Bool: return .value(.bool(flag))
        case let number as Int: return .value(.int(Int64(number)))
        case let number as Int64: return .value(.int(number))
        case let number as Double: return .value(wholeOrDouble(number))
        case let number as Float: return .value(wholeOrDouble(Double(number)))
        case let number as any BinaryInteger: return .value(Int64(exactly: number).map(JSONValue.int) ?? .double(Double(number)))
        case let array as any LazilyEncodedArray where depth <= 1:
            // Its depth in the file is its coding path's length: a single-value container boxes
            // its value at depth 0 wherever it is.
            let path = codingPath()
            return .lazyArray(LazyArray(items: array, depth: path.count, codingPath: path))
        case let dictionary as any LazilyEncodedDictionary where depth == 1:
            // A field of the top value (or an item of a top-level list), not the top value itself:
            // that stays an object, to which `extraFields` are added.
            let path = codingPath()
            return .lazyObject(LazyObject(items: dictionary, depth: path.count, codingPath: path))
        default:
            let encoder = ValueEncoder(codingPath: codingPath(), pretty: pretty)
            try value.encode(to: encoder)
            let node = encoder.node ?? .object(ObjectBox())
            // The top value stays a node: its fields are written once, into the file's own pieces,
            // not copied into a buffer of their own first.
            if depth == 0 { return node }
            // Finished: written now, at the indentation it has in the file.
            var output = CanonicalWriter(pretty: pretty, capacity: 128)
            try output.write(node, indent: 2 * depth)
            // Kept until the file is written, so kept at its size, copied when more than an eighth
            // would be spare (`Array(bytes)` shares the buffer, spare room included: the 20,000
            // file stamps of a snapshot tree's stats held 11 MB at a first sync's peak that way).
            let bytes = output.bytes
            guard bytes.capacity > bytes.count + bytes.count / 8 + 32 else { return .rendered(bytes) }
            return .rendered([UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                count = buffer.initialize(fromContentsOf: bytes)
            })
        }
    }

    /// Whole doubles become integers, as Foundation's encoder writes them (`2`, not `2.0`).
    static func wholeOrDouble(_ value: Double) -> JSONValue {
        if value == value.rounded(), abs(value) < 9e15 { return .int(Int64(value)) }
        return .double(value)
    }
}

/// A node of the value being encoded; containers are references so nested containers can fill
/// them after they were attached. A finished nested value is kept as its bytes (`rendered`).
enum EncodingNode {
    case value(JSONValue)
    case rendered([UInt8])
    case object(ObjectBox)
    case array(ArrayBox)
    /// The top value, or an array that is one of its fields: its items are encoded one at a time
    /// as the file is written, so a list of 20,000 items is never held encoded.
    case lazyArray(LazyArray)
    /// A dictionary with text keys at depth 1 (a field of the top value): its values are encoded one at
    /// a time as the file is written (a snapshot tree's stats name 20,000 files: 9 MB at a first
    /// sync's peak as a tree of encoded values, heaptrack).
    case lazyObject(LazyObject)
}

/// An array whose items are encoded one at a time as the file is written. Cast to this, not to
/// `[any Encodable]`: that cast copies the array, each item in a box of its own (a plan of 20,000
/// workflows: 4.8 MB more at a first sync's peak, heaptrack).
protocol LazilyEncodedArray {
    var count: Int { get }
    func boxItem(at index: Int, codingPath: [any CodingKey], depth: Int, pretty: Bool) throws -> EncodingNode
}

extension Array: LazilyEncodedArray where Element: Encodable {
    func boxItem(at index: Int, codingPath: [any CodingKey], depth: Int, pretty: Bool) throws -> EncodingNode {
        try JSONValueEncoder.box(self[index], codingPath: codingPath, depth: depth, pretty: pretty)
    }
}

struct LazyArray {
    let items: any LazilyEncodedArray
    /// The array's depth in the file.
    let depth: Int
    let codingPath: [any CodingKey]
}

/// A dictionary with text keys whose values are encoded one at a time as the file is written.
protocol LazilyEncodedDictionary {
    /// The keys in the file's order.
    var canonicalKeys: [String] { get }
    func boxValue(forKey key: String, codingPath: [any CodingKey], depth: Int, pretty: Bool) throws -> EncodingNode
}

extension Dictionary: LazilyEncodedDictionary where Key == String, Value: Encodable {
    var canonicalKeys: [String] { keys.sorted(by: CanonicalWriter.precedesInUTF8) }

    func boxValue(forKey key: String, codingPath: [any CodingKey], depth: Int, pretty: Bool) throws -> EncodingNode {
        try JSONValueEncoder.box(self[key]!, codingPath: codingPath, depth: depth, pretty: pretty)
    }
}

struct LazyObject {
    let items: any LazilyEncodedDictionary
    /// The dictionary's depth in the file.
    let depth: Int
    let codingPath: [any CodingKey]
}

final class ObjectBox { var items: [String: EncodingNode] = [:] }
final class ArrayBox { var items: [EncodingNode] = [] }

extension CanonicalWriter {
    /// Writes a node being encoded, in the same form as `write(_: JSONValue, indent:)`. With a
    /// `drain`, the bytes written so far go to it whenever they pass its piece size.
    mutating func write(_ node: EncodingNode, indent: Int) throws {
        switch node {
        case .value(let value): write(value, indent: indent)
        case .rendered(let rendered): bytes.append(contentsOf: rendered)
        case .array(let box):
            try writeArray(count: box.items.count, indent: indent) { box.items[$0] }
        case .lazyArray(let array):
            let pretty = pretty
            try writeArray(count: array.items.count, indent: indent) { index in
                try array.items.boxItem(at: index, codingPath: array.codingPath + [IndexKey(index)], depth: array.depth + 1, pretty: pretty)
            }
        case .object(let box):
            try writeObject(keys: box.items.keys.sorted(by: CanonicalWriter.precedesInUTF8), indent: indent) { box.items[$0]! }
        case .lazyObject(let object):
            let pretty = pretty
            try writeObject(keys: object.items.canonicalKeys, indent: indent) { key in
                try object.items.boxValue(forKey: key, codingPath: object.codingPath + [TextKey(key)], depth: object.depth + 1, pretty: pretty)
            }
        }
    }

    /// An object of these fields (in this order), each value made by `value` just before it is written.
    private mutating func writeObject(keys: [String], indent: Int, value: (String) throws -> EncodingNode) throws {
        if keys.isEmpty { bytes.append(contentsOf: "{}".utf8); return }
        bytes.append(UInt8(ascii: "{"))
        for (index, key) in keys.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            newline(indent + 2)
            writeQuoted(key)
            bytes.append(UInt8(ascii: ":"))
            if pretty { bytes.append(UInt8(ascii: " ")) }
            try write(value(key), indent: indent + 2)
            try drainIfFull()
        }
        newline(indent)
        bytes.append(UInt8(ascii: "}"))
    }

    /// An array of `count` items, each made by `item` just before it is written.
    private mutating func writeArray(count: Int, indent: Int, item: (Int) throws -> EncodingNode) throws {
        if count == 0 { bytes.append(contentsOf: "[]".utf8); return }
        bytes.append(UInt8(ascii: "["))
        for index in 0..<count {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            newline(indent + 2)
            try write(item(index), indent: indent + 2)
            try drainIfFull()
        }
        newline(indent)
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func drainIfFull() throws {
        guard let (pieceSize, emit) = drain, bytes.count >= pieceSize else { return }
        try emit(bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}

/// A dictionary's key as Swift's own dictionary encoding makes it (a number for a numeric text).
struct TextKey: CodingKey {
    var stringValue: String
    var intValue: Int? { Int(stringValue) }
    init(_ key: String) { stringValue = key }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

struct IndexKey: CodingKey {
    var stringValue: String { "Index \(intValue!)" }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private final class ValueEncoder: Encoder {
    let codingPath: [any CodingKey]
    let pretty: Bool
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: EncodingNode?

    init(codingPath: [any CodingKey], pretty: Bool) {
        self.codingPath = codingPath
        self.pretty = pretty
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: ObjectBox
        if case .object(let existing)? = node { box = existing } else {
            box = ObjectBox()
            node = .object(box)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(box: box, codingPath: codingPath, pretty: pretty))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: ArrayBox
        if case .array(let existing)? = node { box = existing } else {
            box = ArrayBox()
            node = .array(box)
        }
        return UnkeyedContainer(box: box, codingPath: codingPath, pretty: pretty)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(encoder: self) }

    private struct SingleContainer: SingleValueEncodingContainer {
        let encoder: ValueEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }
        mutating func encodeNil() throws { encoder.node = .value(.null) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            // The same place in the file as the encoder's own value: rendered at its depth, or
            // kept as a node at the top.
            encoder.node = try JSONValueEncoder.box(value, codingPath: codingPath, depth: 0, pretty: encoder.pretty)
        }
    }

    private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let box: ObjectBox
        let codingPath: [any CodingKey]
        let pretty: Bool

        mutating func encodeNil(forKey key: Key) throws { box.items[key.stringValue] = .value(.null) }
        // The scalars directly, without the generic path's dynamic casts.
        mutating func encode(_ value: String, forKey key: Key) throws { box.items[key.stringValue] = .value(.string(value)) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { box.items[key.stringValue] = .value(.bool(value)) }
        mutating func encode(_ value: Int, forKey key: Key) throws { box.items[key.stringValue] = .value(.int(Int64(value))) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { box.items[key.stringValue] = .value(.int(value)) }
        mutating func encode(_ value: Double, forKey key: Key) throws { box.items[key.stringValue] = .value(JSONValueEncoder.wholeOrDouble(value)) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            box.items[key.stringValue] = try JSONValueEncoder.box(value, codingPath: codingPath + [key], depth: codingPath.count + 1, pretty: pretty)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let nested = ObjectBox()
            box.items[key.stringValue] = .object(nested)
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: codingPath + [key], pretty: pretty))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let nested = ArrayBox()
            box.items[key.stringValue] = .array(nested)
            return UnkeyedContainer(box: nested, codingPath: codingPath + [key], pretty: pretty)
        }
        mutating func superEncoder() -> any Encoder { SuperEncoder(parent: box, key: "super", codingPath: codingPath, pretty: pretty) }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            SuperEncoder(parent: box, key: key.stringValue, codingPath: codingPath + [key], pretty: pretty)
        }
    }

    private struct UnkeyedContainer: UnkeyedEncodingContainer {
        let box: ArrayBox
        let codingPath: [any CodingKey]
        let pretty: Bool
        var count: Int { box.items.count }

        mutating func encodeNil() throws { box.items.append(.value(.null)) }
        mutating func encode(_ value: String) throws { box.items.append(.value(.string(value))) }
        mutating func encode(_ value: Bool) throws { box.items.append(.value(.bool(value))) }
        mutating func encode(_ value: Int) throws { box.items.append(.value(.int(Int64(value)))) }
        mutating func encode(_ value: Int64) throws { box.items.append(.value(.int(value))) }
        mutating func encode(_ value: Double) throws { box.items.append(.value(JSONValueEncoder.wholeOrDouble(value))) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            box.items.append(try JSONValueEncoder.box(value, codingPath: codingPath + [IndexKey(count)], depth: codingPath.count + 1, pretty: pretty))
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let nested = ObjectBox()
            let path = codingPath + [IndexKey(count)]
            box.items.append(.object(nested))
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: path, pretty: pretty))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let nested = ArrayBox()
            let path = codingPath + [IndexKey(count)]
            box.items.append(.array(nested))
            return UnkeyedContainer(box: nested, codingPath: path, pretty: pretty)
        }
        mutating func superEncoder() -> any Encoder {
            let holder = ObjectBox()
            box.items.append(.object(holder))
            return SuperEncoder(parent: holder, key: "super", codingPath: codingPath, pretty: pretty)
        }
    }

    /// An encoder whose result lands under `key` of `parent` (class hierarchies; rarely used).
    private final class SuperEncoder: Encoder {
        let inner: ValueEncoder
        let parent: ObjectBox
        let key: String
        var codingPath: [any CodingKey] { inner.codingPath }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        init(parent: ObjectBox, key: String, codingPath: [any CodingKey], pretty: Bool) {
            inner = ValueEncoder(codingPath: codingPath, pretty: pretty)
            self.parent = parent
            self.key = key
        }

        deinit { parent.items[key] = inner.node ?? .object(ObjectBox()) }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { inner.container(keyedBy: type) }
        func unkeyedContainer() -> any UnkeyedEncodingContainer { inner.unkeyedContainer() }
        func singleValueContainer() -> any SingleValueEncodingContainer { inner.singleValueContainer() }
    }
}

/// Decodes any `Decodable` from a `JSONValue` (parsed with the project's parser), with the
/// conventions of `JSONValueEncoder`: dates from `Timestamp.parse`, URLs from strings. Replaces
/// Foundation's `JSONDecoder` on the hot paths.
public enum JSONValueDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try unbox(type, from: value, codingPath: [])
    }

    static func unbox<T: Decodable>(_ type: T.Type, from value: JSONValue, codingPath: @autoclosure () -> [any CodingKey]) throws -> T {
        if type == JSONValue.self { return value as! T }
        if type == Date.self {
            guard case .string(let text) = value, let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "not a timestamp: \(value.compactCanonicalString())"))
            }
            return date as! T
        }
        if type == URL.self {
            guard case .string(let text) = value, let url = URL(string: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "not a URL: \(value.compactCanonicalString())"))
            }
            return url as! T
        }
        return try T(from: ValueDecoder(value: value, codingPath: codingPath()))
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch([String: JSONValue].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([JSONValue].self, value, codingPath) }
        return UnkeyedContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(value: value, codingPath: codingPath) }
}

private func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    let found: String
    switch value {
    case .null: found = "null"
    case .bool: found = "a boolean"
    case .int, .double: found = "a number"
    case .string: found = "a string"
    case .array: found = "an array"
    case .object: found = "an object"
    }
    return DecodingError.typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found \(found)"))
}

/// Scalars shared by the three containers.
private func decodeScalar<T>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T? {
    switch value {
    case .bool(let flag) where type == Bool.self: return (flag as! T)
    case .string(let text) where type == String.self: return (text as! T)
    case .int(let number):
        if type == Int.self { return Int(exactly: number).map { $0 as! T } }
        if type == Int64.self { return (number as! T) }
        if type == Double.self { return (Double(number) as! T) }
        if type == Int32.self { return Int32(exactly: number).map { $0 as! T } }
        if type == UInt64.self { return UInt64(exactly: number).map { $0 as! T } }
        if type == UInt.self { return UInt(exactly: number).map { $0 as! T } }
        if type == Float.self { return (Float(number) as! T) }
        return nil
    case .double(let number):
        if type == Double.self { return (number as! T) }
        if type == Float.self { return (Float(number) as! T) }
        if type == Int.self { return Int(exactly: number).map { $0 as! T } }
        if type == Int64.self { return Int64(exactly: number).map { $0 as! T } }
        return nil
    default: return nil
    }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try scalar(type) }
    func decode(_ type: String.Type) throws -> String { try scalar(type) }
    func decode(_ type: Double.Type) throws -> Double { try scalar(type) }
    func decode(_ type: Float.Type) throws -> Float { try scalar(type) }
    func decode(_ type: Int.Type) throws -> Int { try scalar(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try scalar(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try scalar(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try scalar(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try scalar(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONValueDecoder.unbox(type, from: value, codingPath: codingPath) }

    private func scalar<T>(_ type: T.Type) throws -> T {
        guard let result = try decodeScalar(type, value, codingPath) else { throw mismatch(type, value, codingPath) }
        return result
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let value = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for key \"\(key.stringValue)\""))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { (object[key.stringValue] ?? .null) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(type, key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try JSONValueDecoder.unbox(type, from: try value(key), codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { ValueDecoder(value: object["super"] ?? .null, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { ValueDecoder(value: object[key.stringValue] ?? .null, codingPath: codingPath + [key]) }

    private func scalar<T>(_ type: T.Type, _ key: Key) throws -> T {
        let found = try value(key)
        guard let result = try decodeScalar(type, found, []) else { throw mismatch(type, found, codingPath + [key]) }
        return result
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSONValue], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    private mutating func next(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "the array has no more items"))
        }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try scalar(type) }
    mutating func decode(_ type: String.Type) throws -> String { try scalar(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try scalar(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try scalar(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try scalar(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let path = codingPath + [IndexKey(currentIndex)]
        return try JSONValueDecoder.unbox(type, from: try next(type), codingPath: path)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let path = codingPath + [IndexKey(currentIndex)]
        return try ValueDecoder(value: try next([String: JSONValue].self), codingPath: path).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let path = codingPath + [IndexKey(currentIndex)]
        return try ValueDecoder(value: try next([JSONValue].self), codingPath: path).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        let path = codingPath + [IndexKey(currentIndex)]
        return ValueDecoder(value: try next(Any.self), codingPath: path)
    }

    private mutating func scalar<T>(_ type: T.Type) throws -> T {
        let index = currentIndex
        let found = try next(type)
        guard let result = try decodeScalar(type, found, []) else { throw mismatch(type, found, codingPath + [IndexKey(index)]) }
        return result
    }
}
