import Foundation
import Synchronization
import ZuoraSyncCore
import ZuoraSyncHTTP

/// One mock tenant on disk: `tenant.json` (client id, secret, token lifetime), `workflows.json`
/// (the list items, camelCase, as the list endpoint returns them) and `exports/<id>.json` (the
/// export bodies, served byte for byte, so a fixture can hold invalid JSON on purpose; a missing
/// file answers 404).
public struct FixtureTenant: Sendable {
    public struct Settings: Codable, Sendable {
        public var clientID: String
        public var clientSecret: String
        public var tokenTTL: Int?
    }

    public let directory: URL
    public let clientID: String
    public let clientSecret: String
    public let tokenTTL: Int

    public static func load(_ directory: URL) throws -> FixtureTenant {
        let settings = try CanonicalJSON.read(Settings.self, from: directory.appendingPathComponent("tenant.json"))
        return FixtureTenant(directory: directory, clientID: settings.clientID, clientSecret: settings.clientSecret,
                             tokenTTL: settings.tokenTTL ?? 3599)
    }

    /// `workflows.json` as an open file with the byte range of each list item, and the items' ids:
    /// what the mock serves pages from, reading and parsing only the page asked for (a tenant of
    /// 20,000 workflows held as parsed values cost the in-process benchmarks 45 MB, and its 11 MB
    /// of bytes still counted in their peak memory). The file stays open: a listing replaced on
    /// disk (a new version, written with a rename) is still read as it was.
    public final class Listing: Sendable {
        private let descriptor: Int32
        private let path: String
        public let ranges: [Range<Int>]
        private let idCache = Mutex<Set<Int64>?>(nil)

        init(descriptor: Int32, path: String, ranges: [Range<Int>]) {
            self.descriptor = descriptor
            self.path = path
            self.ranges = ranges
        }

        deinit { close(descriptor) }

        /// Items `bounds` of the listing, parsed.
        public func items(_ bounds: Range<Int>) throws -> [JSONValue] {
            guard let first = bounds.first, let last = bounds.last else { return [] }
            let span = ranges[first].lowerBound..<ranges[last].upperBound
            let data = try read(span)
            return try ranges[bounds].map { range in
                try JSONValue.parse(data.subdata(in: (range.lowerBound - span.lowerBound)..<(range.upperBound - span.lowerBound)))
            }
        }

        /// The listed ids (for the export endpoint), parsed a thousand items at a time on first
        /// use: a run that exports nothing does not pay for them.
        public func ids() throws -> Set<Int64> {
            if let cached = idCache.withLock({ $0 }) { return cached }
            var ids = Set<Int64>()
            for start in stride(from: 0, to: ranges.count, by: 1000) {
                for item in try items(start..<min(start + 1000, ranges.count)) {
                    if let id = item["id"]?.intValue { ids.insert(id) }
                }
            }
            idCache.withLock { $0 = ids }
            return ids
        }

        private func read(_ span: Range<Int>) throws -> Data {
            var data = Data(count: span.count)
            var done = 0
            try data.withUnsafeMutableBytes { buffer in
                while done < span.count {
                    let count = pread(descriptor, buffer.baseAddress! + done, span.count - done, off_t(span.lowerBound + done))
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else {
                        let why = count < 0 ? String(cString: strerror(errno)) : "the file is shorter than when it was listed"
                        throw FileError(path: path, message: "cannot be read at byte \(span.lowerBound + done) (\(why))")
                    }
                    done += count
                }
            }
            return data
        }
    }

    public func listing() throws -> Listing {
        let path = directory.appendingPathComponent("workflows.json").path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileError(path: path, message: "cannot be opened (\(String(cString: strerror(errno))))") }
        do {
            // Read through the descriptor, so the ranges are those of the file it keeps open.
            let data = try FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).readToEnd() ?? Data()
            return Listing(descriptor: descriptor, path: path, ranges: try Self.itemRanges(of: data))
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// The byte ranges of the items of a JSON array (a document that is not an array has none).
    static func itemRanges(of data: Data) throws -> [Range<Int>] {
        try data.withUnsafeBytes { raw -> [Range<Int>] in
            let bytes = raw.bindMemory(to: UInt8.self)
            var index = 0
            func skipWhitespace() {
                while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
            }
            func malformed(_ what: String) -> FileError {
                FileError(path: "workflows.json", message: "is not a valid JSON list (\(what) at byte \(index))")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else {
                // Not a list: served as an empty listing, as before.
                _ = try JSONValue.parse(data)
                return []
            }
            index += 1
            var ranges: [Range<Int>] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
            } else {
                while true {
                    skipWhitespace()
                    let start = index
                    var depth = 0, inString = false, escaped = false
                    scan: while index < bytes.count {
                        let byte = bytes[index]
                        if inString {
                            if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                        } else {
                            switch byte {
                            case UInt8(ascii: "\""): inString = true
                            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                                if depth == 0 { break scan }
                                depth -= 1
                            case UInt8(ascii: ","): if depth == 0 { break scan }
                            default: break
                            }
                        }
                        index += 1
                    }
                    var end = index
                    while end > start, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[end - 1]) { end -= 1 }
                    guard end > start, depth == 0, !inString else { throw malformed("an unfinished item") }
                    ranges.append(start..<end)
                    guard index < bytes.count else { throw malformed("no closing bracket") }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; break }
                    guard bytes[index] == UInt8(ascii: ",") else { throw malformed("an unexpected character") }
                    index += 1
                }
            }
            skipWhitespace()
            guard index == bytes.count else { throw malformed("text after the list") }
            return ranges
        }
    }

    public func exportData(id: Int64) -> Data? {
        try? Data(contentsOf: URL(fileURLWithPath: "\(directory.path)/exports/\(id).json", isDirectory: false))
    }
}
