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
///
/// A snapshot file is a hard link to its object (`objects/ab/<sha256>.json`, itself a link to the
/// run's export copy): the export's bytes are on disk once, and a changed workflow costs a link
/// instead of a new file. Git and editors that save by rename replace the name, not the shared
/// bytes; a file whose bytes were changed in place is found by its stamp, and then the object is
/// checked against its hash and written again from the store when damaged.
public struct SnapshotWriter: Sendable {
    public let root: URL
    /// `<data>/snapshot-stats/<customer>.json`: size and modification time of each file as
    /// written, so a file edited by hand is noticed (and rewritten) without reading every file.
    let statsRoot: URL
    let objects: ObjectStore

    public init(dataDirectory: URL) {
        root = dataDirectory.appendingPathComponent("snapshots", isDirectory: true)
        statsRoot = dataDirectory.appendingPathComponent("snapshot-stats", isDirectory: true)
        objects = ObjectStore(dataDirectory: dataDirectory)
    }

    public func customerDirectory(_ slug: String) -> URL { root.appendingPathComponent(slug, isDirectory: true) }

    public func indexFile(_ slug: String) -> URL { customerDirectory(slug).appendingPathComponent("index.json") }

    public func workflowFile(_ slug: String, zuoraID: Int64) -> URL {
        URL(fileURLWithPath: "\(root.path)/\(slug)/workflows/\(SafeIdentifier.workflowFileName(zuoraID))", isDirectory: false)
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

    /// Puts a hard link to the object at the workflow's snapshot name, replacing what was there in
    /// one rename (a copy where links are impossible).
    private func placeLink(to sha256: String, customerSlug: String, zuoraID: Int64, stats: inout Stats) throws {
        let file = workflowFile(customerSlug, zuoraID: zuoraID)
        try AtomicFile.link(objects.url(for: sha256), to: file)
        stats.files[SafeIdentifier.workflowFileName(zuoraID)] = Self.stamp(file)
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
        // Changed (or new, or missing) workflows, and files changed by someone else.
        var changed: [Int64] = [], edited: [Int64] = []
        for (id, sha) in hashes {
            let name = SafeIdentifier.workflowFileName(id)
            if previousHashes[id] != sha || stats.files[name] == nil {
                changed.append(id)
            } else if Self.stamp(workflowFile(customerSlug, zuoraID: id)) != stats.files[name] {
                edited.append(id)
            }
        }
        if !changed.isEmpty || !edited.isEmpty {
            // From the store: objects not on disk, and objects whose bytes no longer match their hash.
            var fromStore = Set(edited.filter { !objects.isIntact(hashes[$0]!) })
            for id in changed.sorted() + edited.sorted() where !fromStore.contains(id) {
                if objects.contains(hashes[id]!) {
                    try placeLink(to: hashes[id]!, customerSlug: customerSlug, zuoraID: id, stats: &stats)
                    written += 1
                } else {
                    fromStore.insert(id)
                }
            }
            if !fromStore.isEmpty {
                try store.forEachExport(customerSlug: customerSlug, zuoraIDs: fromStore) { export in
                    try objects.replace(export.text, sha256: export.sha256)
                    try placeLink(to: export.sha256, customerSlug: customerSlug, zuoraID: export.zuoraID, stats: &stats)
                    written += 1
                }
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
