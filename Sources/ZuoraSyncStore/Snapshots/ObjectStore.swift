import Foundation
import Synchronization
import ZuoraSyncCore

/// Every distinct export ever saved, by SHA-256 (`objects/ab/<sha256>.json`), as git keeps blobs:
/// a run's state (`state.json`) names hashes, and any two runs can be compared later even though
/// each run downloads only what changed. Content never changes under a name, so writes are
/// idempotent.
public struct ObjectStore: Sendable {
    public let root: URL
    private let rootPath: String

    public init(dataDirectory: URL) {
        root = dataDirectory.appendingPathComponent("objects", isDirectory: true)
        rootPath = root.path
    }

    public func url(for sha256: String) -> URL {
        URL(fileURLWithPath: path(for: sha256), isDirectory: false)
    }

    func path(for sha256: String) -> String { "\(rootPath)/\(sha256.prefix(2))/\(sha256).json" }

    /// Whether the object is there (a non-empty file: a crash before the flush leaves empty ones).
    public func contains(_ sha256: String) -> Bool {
        var info = stat()
        return lstat(path(for: sha256), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_size > 0
    }

    /// Adds an object as a hard link to `file`, a whole file the tool wrote and never rewrites in
    /// place (a run's canonical export), so the export's bytes are stored once on disk; copies the
    /// file when a link is impossible. No fsync: call `flush()` before recording anything that names it.
    /// Returns whether the object is new (false: it was there already).
    @discardableResult
    public func link(_ file: URL, sha256: String) throws -> Bool {
        guard !contains(sha256) else { return false }
        let target = path(for: sha256)
        let shard = root.appendingPathComponent(String(sha256.prefix(2)), isDirectory: true)
        // The shard is checked for links and created once per run, not per object.
        if try AtomicFile.inCheckedDirectory(shard, { Foundation.link(file.path, target) }) == 0 { return true }
        if errno == EEXIST { return false }
        try put(try Data(contentsOf: file), sha256: sha256)
        return true
    }

    /// Puts a run's copy of an export at `url` as a hard link to its object when the object is there
    /// (an export downloaded again unchanged, as on a daily full pass): the copy then takes no space
    /// and no inode of its own. `bytes` hash to `sha256` (the caller hashed them), so an object that
    /// holds other bytes is damaged: it is replaced by them first (atomically; run copies linked to
    /// the damaged file keep it). False when the object is missing, or no link can be made (too many
    /// links, say): the caller writes the file. `replacing`: a file is at `url` already (an unusable
    /// one an interrupted attempt left) and is replaced atomically.
    public func linkCopy(of bytes: Data, sha256: String, at url: URL, replacing: Bool) throws -> Bool {
        guard contains(sha256) else { return false }
        if (try? Data(contentsOf: self.url(for: sha256))) != bytes {
            try AtomicFile.write(bytes, to: self.url(for: sha256), durable: false)
        }
        if replacing { return (try? AtomicFile.placeLink(to: path(for: sha256), at: url, durable: false)) ?? false }
        guard try AtomicFile.inCheckedDirectory(url.deletingLastPathComponent(), { Foundation.link(path(for: sha256), url.path) }) == 0 else {
            return false
        }
        CrashPoints.hit()
        return true
    }

    /// Writes an object without fsync (`durable`: with one, for a single object, instead of a later
    /// `flush()`); call `flush()` before recording anything that names it.
    /// The first write into a shard in this process sweeps temporary files a killed run left there.
    public func put(_ text: String, sha256: String, durable: Bool = false) throws {
        try put(Data(text.utf8), sha256: sha256, durable: durable)
    }

    /// The same, from bytes (a list of 20,000 workflows is not copied into a string and back).
    public func put(_ bytes: Data, sha256: String, durable: Bool = false) throws {
        guard !contains(sha256) else { return }
        let file = url(for: sha256)
        let shard = file.deletingLastPathComponent()
        if Self.sweptShards.withLock({ $0.insert(shard.path).inserted }) {
            AtomicFile.sweepTemporaryFiles(in: shard, recursive: false)
        }
        try AtomicFile.write(bytes, to: file, durable: durable)
    }

    /// The object's bytes when they still hash to its name; nil when it is missing or damaged.
    public func intactBytes(_ sha256: String) -> Data? {
        guard let data = try? Data(contentsOf: url(for: sha256)), Digest.sha256Hex(data) == sha256 else { return nil }
        return data
    }

    private static let sweptShards = Mutex<Set<String>>([])

    public func flush() throws { try AtomicFile.flushFileSystem(containing: root) }

    /// Reads an object, checking its content against its name.
    public func get(_ sha256: String) throws -> JSONValue {
        let data = try Data(contentsOf: url(for: sha256))
        guard Digest.sha256Hex(data) == sha256 else {
            throw FileError(path: url(for: sha256).path, message: "is damaged (its content does not match its hash); delete it and run a --full sync to store it again.")
        }
        return try JSONValue.parse(data)
    }
}

/// `runs/<run>/<customer>/state.json`: the customer's workflows when that run finished.
///
/// Format 2 keeps the list of workflows as an object of its own (`workflowsObject`, canonical JSON
/// in the object store, like exports): runs that end with the same workflows share one list, and
/// an unchanged run writes a state of a few lines instead of a line per workflow. Format 1 held
/// the list inline and still reads.
public struct CustomerState: Sendable, Equatable {
    public static let currentFormatVersion = 2
    public struct Entry: Sendable, Codable, Equatable {
        public var id: Int64
        public var name: String
        /// From the listing (Active, Inactive): not part of the export.
        public var status: String?
        public var version: String?
        public var exportSHA256: String?
    }
    public var runID: String
    public var customer: String
    public var finishedAt: Date
    public var workflows: [Entry]
    /// The object holding `workflows` (format 2; nil for a format 1 state).
    public var workflowsObject: String?

    /// The file as written.
    struct File: Codable, VersionedFile {
        static let currentFormatVersion = CustomerState.currentFormatVersion
        var formatVersion = CustomerState.currentFormatVersion
        var runID: String
        var customer: String
        var finishedAt: Date
        /// Format 1 only.
        var workflows: [Entry]?
        /// Format 2.
        var workflowsObject: String?
    }

    /// `<data>/state-cache/<customer>.json`: the list object last recorded and the store's listing
    /// match then (`Store.listingMatch`); while the store still holds that listing, the next state
    /// names the same list without reading the store.
    struct Cache: Codable, VersionedFile {
        static let currentFormatVersion = 1
        var formatVersion = 1
        /// `ListingMatch.id` of the store's match when the list was recorded.
        var matchID: String
        var workflowsObject: String
    }

    static func cacheFile(customer: String, objects: ObjectStore) -> URL {
        objects.root.deletingLastPathComponent().appendingPathComponent("state-cache/\(customer).json")
    }

    /// Reads a state file of either format; a format 2 list comes from the object store.
    public static func read(from url: URL, objects: ObjectStore) throws -> CustomerState {
        let file = try CanonicalJSON.readVersioned(File.self, from: url)
        return CustomerState(runID: file.runID, customer: file.customer, finishedAt: file.finishedAt,
                             workflows: try file.workflowsObject.map { try list($0, namedBy: url, objects: objects) } ?? file.workflows ?? [],
                             workflowsObject: file.workflowsObject)
    }

    /// The objects a state file names: its list (format 2) and, through `exports(inList:)`, the exports.
    public static func listObject(at url: URL) throws -> (workflowsObject: String?, inlineExports: [String]) {
        let file = try CanonicalJSON.readVersioned(File.self, from: url)
        return (file.workflowsObject, (file.workflows ?? []).compactMap(\.exportSHA256))
    }

    /// The export hashes a list object names (`state` is the state file naming it, for errors).
    public static func exports(inList sha256: String, namedBy state: URL, objects: ObjectStore) throws -> [String] {
        try list(sha256, namedBy: state, objects: objects).compactMap(\.exportSHA256)
    }

    /// A list object, read and checked against its hash; errors name the state file that needs it.
    private static func list(_ sha256: String, namedBy state: URL, objects: ObjectStore) throws -> [Entry] {
        guard objects.contains(sha256) else {
            throw FileError(path: state.path, message: "names the list of workflows \(sha256), which is not in \(objects.root.path); it was removed by hand or by another tool. That run cannot be compared: move it aside (or delete it).")
        }
        do { return try JSONValueDecoder.decode([Entry].self, from: objects.get(sha256)) } catch let error as FileError {
            throw error
        } catch {
            throw FileError(path: objects.url(for: sha256).path, message: "is not a list of workflows (\(error)).", cause: error)
        }
    }

    /// Records the store's current state for a customer, making sure every export it names is in
    /// the object store. When the store still holds the listing it held when the last list was
    /// recorded, that list is named again without reading the store.
    public static func record(runID: String, customer: String, at date: Date, store: Store, objects: ObjectStore, to url: URL) throws {
        let match = try store.listingMatch(customerSlug: customer)
        let cacheFile = cacheFile(customer: customer, objects: objects)
        let list: String
        if let match, let cache = try? CanonicalJSON.readVersioned(Cache.self, from: cacheFile), cache.matchID == match.id,
           objects.contains(cache.workflowsObject) {
            list = cache.workflowsObject
        } else {
            // The list's bytes as the store's rows come (the entries themselves are not kept), and
            // the workflows whose export is missing from the object store.
            var missing = Set<Int64>()
            let bytes = try CanonicalList<Entry>.encode { list in
                try store.forEachIndexEntry(customerSlug: customer) { entry in
                    if let sha = entry.exportSHA256, !objects.contains(sha) { missing.insert(entry.id) }
                    try list.append(Entry(id: entry.id, name: entry.name, status: entry.status, version: entry.version, exportSHA256: entry.exportSHA256))
                }
            }
            if !missing.isEmpty {
                try store.forEachExport(customerSlug: customer, zuoraIDs: missing) { export in
                    try objects.put(export.text, sha256: export.sha256)
                }
            }
            list = Digest.sha256Hex(bytes)
            // On disk before the state names it: one fsync for the list alone, a flush of the file
            // system when exports were added too.
            try objects.put(bytes, sha256: list, durable: missing.isEmpty)
            if !missing.isEmpty { try objects.flush() }
            if let match {
                // Not fsynced: a cache lost in a crash is only recomputed.
                try AtomicFile.write(CanonicalJSON.encode(Cache(matchID: match.id, workflowsObject: list), formatVersion: Cache.currentFormatVersion),
                                     to: cacheFile, durable: false)
            } else if FileManager.default.fileExists(atPath: cacheFile.path) {
                try PathSafety.remove(cacheFile)
            }
        }
        try CanonicalJSON.write(File(runID: runID, customer: customer, finishedAt: date, workflows: nil, workflowsObject: list), to: url)
    }
}
