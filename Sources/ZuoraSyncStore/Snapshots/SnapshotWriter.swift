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

    public init(dataDirectory: URL) {
        root = dataDirectory.appendingPathComponent("snapshots", isDirectory: true)
    }

    public func customerDirectory(_ slug: String) -> URL { root.appendingPathComponent(slug, isDirectory: true) }

    public func indexFile(_ slug: String) -> URL { customerDirectory(slug).appendingPathComponent("index.json") }

    public func workflowFile(_ slug: String, zuoraID: Int64) -> URL {
        customerDirectory(slug).appendingPathComponent("workflows").appendingPathComponent(SafeIdentifier.workflowFileName(zuoraID))
    }

    /// Brings the customer's snapshot directory in line with the store; returns files written and removed.
    @discardableResult
    public func refresh(customerSlug: String, store: Store) throws -> (written: Int, removed: Int) {
        var written = 0, removed = 0
        let previous = (try? CanonicalJSON.read([SnapshotIndexEntry].self, from: indexFile(customerSlug))) ?? []
        let previousHashes = Dictionary(previous.compactMap { entry in entry.exportSHA256.map { (entry.id, $0) } }, uniquingKeysWith: { a, _ in a })
        let hashes = try store.exportHashes(customerSlug: customerSlug)
        let stale = Set(hashes.filter { id, sha in
            previousHashes[id] != sha || !FileManager.default.fileExists(atPath: workflowFile(customerSlug, zuoraID: id).path)
        }.keys)
        if !stale.isEmpty {
            for export in try store.exports(customerSlug: customerSlug, zuoraIDs: stale) {
                try AtomicFile.write(Data(export.text.utf8), to: workflowFile(customerSlug, zuoraID: export.zuoraID), durable: false)
                written += 1
            }
            // Before the index names their hashes, the files themselves must be on disk.
            try AtomicFile.flushFileSystem(containing: root)
        }
        let keep = Set(hashes.keys.map(SafeIdentifier.workflowFileName))
        let workflowsDirectory = customerDirectory(customerSlug).appendingPathComponent("workflows")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: workflowsDirectory.path)) ?? [] where !keep.contains(name) {
            try PathSafety.remove(workflowsDirectory.appendingPathComponent(name))
            removed += 1
        }
        if try CanonicalJSON.write(try store.indexEntries(customerSlug: customerSlug), to: indexFile(customerSlug)) { written += 1 }
        return (written, removed)
    }
}
