import Foundation

/// A file the tool writes and later reads back. It carries `formatVersion`, which is checked
/// before the full decode: a file from a newer tool is refused with a clear error instead of being
/// misread, and a file without the field is format 1 (the first release wrote some without it).
public protocol VersionedFile: Codable {
    /// The newest format this build writes and reads.
    static var currentFormatVersion: Int { get }
}

extension CanonicalJSON {
    /// Reads the `formatVersion` of a JSON object (1 when absent) without decoding the rest.
    public static func formatVersion(of data: Data, file: URL) throws -> Int {
        try formatVersion(of: parseObject(data, file: file), file: file)
    }

    static func parseObject(_ data: Data, file: URL) throws -> JSONValue {
        let header: JSONValue
        do { header = try JSONValue.parse(data) } catch {
            throw FileError(path: file.path, message: "is not valid JSON (\(error)); it is damaged. Move it aside (the next run rewrites what it needs).", cause: error)
        }
        guard header.objectValue != nil else {
            throw FileError(path: file.path, message: "is not a JSON object; it is damaged. Move it aside.")
        }
        return header
    }

    static func formatVersion(of header: JSONValue, file: URL) throws -> Int {
        guard let field = header["formatVersion"] else { return 1 }
        guard let version = field.intValue, version >= 1 else {
            throw FileError(path: file.path, message: "has an invalid formatVersion (\(field.compactCanonicalString())).")
        }
        return Int(version)
    }

    /// Reads a versioned file: checks its format version first, then decodes it, naming the file
    /// in every error.
    public static func readVersioned<T: VersionedFile>(_ type: T.Type, from url: URL) throws -> T {
        try readVersioned(type, from: url, currentFormatVersion: T.currentFormatVersion)
    }

    /// Reads a file whose newest format is `currentFormatVersion`, checking the version first.
    public static func readVersioned<T: Decodable>(_ type: T.Type, from url: URL, currentFormatVersion: Int) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FileError(path: url.path, message: "cannot read the file (\(error.localizedDescription)).", cause: error)
        }
        let value = try parseObject(data, file: url)
        let version = try formatVersion(of: value, file: url)
        guard version <= currentFormatVersion else {
            throw FileError(path: url.path, message: "was written by a newer zuora-sync (format \(version); this one reads up to \(currentFormatVersion)). Upgrade zuora-sync to read it.")
        }
        // Parsed once: the header check and the decode share the tree.
        do { return try JSONValueDecoder.decode(type, from: value) } catch {
            throw FileError(path: url.path, message: "is not a valid \(T.self) file: \(error)", cause: error)
        }
    }
}

extension CanonicalJSON {
    /// Encodes `value` (which must encode as an object) with a `formatVersion` field, canonically.
    public static func encode<T: Encodable>(_ value: T, formatVersion: Int) throws -> Data {
        do {
            var bytes = try JSONValueEncoder.canonicalBytes(value, pretty: true, extraFields: ["formatVersion": .int(Int64(formatVersion))])
            bytes.append(0x0A)
            return Data(bytes)
        } catch is JSONValueEncoder.NotAnObject {
            throw FileError(path: "\(T.self)", message: "a versioned file must hold a JSON object")
        }
    }
}

/// What a listing of many state files found: the readable ones, and every file that could not be
/// read, by path (listings warn about them instead of hiding them).
public struct StateListing<Item: Sendable>: Sendable {
    public var items: [Item]
    public var problems: [FileError]
    public init(items: [Item] = [], problems: [FileError] = []) {
        self.items = items
        self.problems = problems
    }
}
