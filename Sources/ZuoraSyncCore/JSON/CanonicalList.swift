import Foundation

/// Writes a JSON list whose items come one at a time (rows from a database cursor), in exactly the
/// bytes `CanonicalJSON.encode` gives the whole array, without the array: the list of a tenant's
/// 20,000 workflows is then never held as values, only as its bytes (`encode`) or as the pieces
/// `AtomicFile.writeIfChanged` keeps (`write`: up to 1 MB in memory, then a temporary file).
public struct CanonicalList<Item: Encodable> {
    private var output: CanonicalWriter
    private var count = 0

    private init(pieceSize: Int?, emit: (([UInt8]) throws -> Void)?) {
        output = CanonicalWriter(pretty: true, capacity: (pieceSize ?? 65_536) + 4096)
        if let pieceSize, let emit { output.drain = (pieceSize, emit) }
    }

    /// Adds the next item.
    public mutating func append(_ item: Item) throws {
        output.bytes.append(count == 0 ? UInt8(ascii: "[") : UInt8(ascii: ","))
        output.newline(2)
        try output.write(JSONValueEncoder.box(item, codingPath: [IndexKey(count)], depth: 1, pretty: true), indent: 2)
        count += 1
        try output.drainIfFull()
    }

    /// The rest of the bytes, with the trailing newline of the tool's files.
    private mutating func finish() -> [UInt8] {
        if count == 0 {
            output.bytes.append(contentsOf: "[]".utf8)
        } else {
            output.newline(0)
            output.bytes.append(UInt8(ascii: "]"))
        }
        output.bytes.append(0x0A)
        return output.bytes
    }

    /// The list's bytes (`CanonicalJSON.encode` of the array).
    public static func encode(_ produce: (inout CanonicalList<Item>) throws -> Void) throws -> Data {
        var list = CanonicalList(pieceSize: nil, emit: nil)
        try produce(&list)
        return Data(list.finish())
    }

    /// Writes the list atomically, only when its bytes differ from the file there, in pieces as
    /// they are produced (`CanonicalJSON.write` of the array). Returns whether it wrote.
    @discardableResult
    public static func write(to url: URL, _ produce: (inout CanonicalList<Item>) throws -> Void) throws -> Bool {
        try AtomicFile.writeIfChanged(to: url) { emit in
            var list = CanonicalList(pieceSize: 65_536, emit: emit)
            try produce(&list)
            try emit(list.finish())
        }
    }
}
