import Foundation
import ZuoraSyncCore

/// One line of `snapshots/<customer>/index.json`.
public struct SnapshotIndexEntry: Sendable, Codable, Equatable {
    public var id: Int64
    public var name: String
    public var status: String?
    public var updatedAt: String?
    public var version: String?
    public var exportSHA256: String?
}

/// Keeps `snapshots/<customer>/` equal to the store: one canonical export per workflow that has a
/// good export (the bytes of the `export` column), and an index of every workflow. A file is
/// written only when its hash differs from the previous index, and files of workflows that left
/// the store are removed.
public struct SnapshotWriter: Sendable {
    public let root: URL
    /// `<data>/snapshot-stats/<customer>.json`: size and modification time of each file as
    /// written, so a file edited by hand is noticed (and rewritten) without reading every file.
    let statsRoot: URL

    public init(dataDirectory: URL) {
        root = dataDirectory.appendingPathComponent("snapshots", isDirectory: true)
        statsRoot = dataDirectory.appendingPathComponent("snapshot-stats", isDirectory: true)
    }

    public func customerDirectory(_ slug: String) -> URL { root.appendingPathComponent(slug, isDirectory: true) }

    public func indexFile(_ slug: String) -> URL { customerDirectory(slug).appendingPathComponent("index.json") }

    public func workflowFile(_ slug: String, zuoraID: Int64) -> URL {
        customerDirectory(slug).appendingPathComponent("workflows").appendingPathComponent(SafeIdentifier.workflowFileName(zuoraID))
    }

    func statsFile(_ slug: String) -> URL { statsRoot.appendingPathComponent("\(slug).json") }

    /// What a snapshot file looked like when this tool wrote it.
    struct FileStamp: Codable, Equatable {
        var size: Int64
        var modifiedNanoseconds: Int64
    }

    struct Stats: Codable, VersionedFile {
        static let currentFormatVersion = 1
        var formatVersion = 1
        var files: [String: FileStamp] = [:]
    }

    static func stamp(_ url: URL) -> FileStamp? {
        var info = stat()
        guard lstat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileStamp(size: Int64(info.st_size), modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    /// Brings the customer's snapshot directory in line with the store: a file is rewritten when
    /// its export changed, when it is missing, or when it was changed by anyone but this tool;
    /// files of workflows that left the store are removed. Returns files written and removed.
    @discardableResult
    public func refresh(customerSlug: String, store: Store) throws -> (written: Int, removed: Int) {
        var written = 0, removed = 0
        let previous = (try? CanonicalJSON.read([SnapshotIndexEntry].self, from: indexFile(customerSlug))) ?? []
        let previousHashes = Dictionary(previous.compactMap { entry in entry.exportSHA256.map { (entry.id, $0) } }, uniquingKeysWith: { a, _ in a })
        var stats = (try? CanonicalJSON.readVersioned(Stats.self, from: statsFile(customerSlug))) ?? Stats()
        let hashes = try store.exportHashes(customerSlug: customerSlug)
        let stale = Set(hashes.filter { id, sha in
            let name = SafeIdentifier.workflowFileName(id)
            guard previousHashes[id] == sha, let recorded = stats.files[name] else { return true }
            return Self.stamp(workflowFile(customerSlug, zuoraID: id)) != recorded
        }.keys)
        if !stale.isEmpty {
            try store.forEachExport(customerSlug: customerSlug, zuoraIDs: stale) { export in
                let file = workflowFile(customerSlug, zuoraID: export.zuoraID)
                try AtomicFile.write(Data(export.text.utf8), to: file, durable: false)
                stats.files[SafeIdentifier.workflowFileName(export.zuoraID)] = Self.stamp(file)
                written += 1
            }
            // Before the index names their hashes, the files themselves must be on disk.
            try AtomicFile.flushFileSystem(containing: root)
        }
        let keep = Set(hashes.keys.map(SafeIdentifier.workflowFileName))
        let workflowsDirectory = customerDirectory(customerSlug).appendingPathComponent("workflows")
        try PathSafety.check(workflowsDirectory)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: workflowsDirectory.path)) ?? [] where !keep.contains(name) {
            try PathSafety.remove(workflowsDirectory.appendingPathComponent(name))
            removed += 1
        }
        stats.files = stats.files.filter { keep.contains($0.key) }
        let index = try store.indexEntries(customerSlug: customerSlug)
        // The index is small: compared byte for byte, so a hand edit is undone too.
        if try CanonicalJSON.write(index, to: indexFile(customerSlug)) { written += 1 }
        try CanonicalJSON.write(stats, to: statsFile(customerSlug))
        return (written, removed)
    }
}
