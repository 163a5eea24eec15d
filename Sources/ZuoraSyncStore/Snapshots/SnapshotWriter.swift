import Foundation
import Synchronization
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
/// A snapshot file is a file of its own, never a link to its object: people edit snapshots, and
/// many editors write in place, which through a link would change the object and the run's copy,
/// the history `diff` reads. Its bytes come from the object (`objects/ab/<sha256>.json`, already
/// on disk and in the page cache), checked against the hash, or from the store when the object is
/// missing or damaged.
public struct SnapshotWriter: Sendable {
    public let root: URL
    /// `<data>/snapshot-stats/<customer>.json`: size and modification time of each file as
    /// written, so a file edited by hand is noticed (and rewritten) without reading every file.
    let statsRoot: URL
    let objects: ObjectStore
    /// The last whole check of each customer's files by this writer (`refresh(acceptingAnEarlierCheck:)`).
    private let lastChecks = LastChecks()
    /// Tests: runs between the refresh's two reads of the store's index.
    let betweenIndexReads: (@Sendable () -> Void)?

    public init(dataDirectory: URL) {
        self.init(dataDirectory: dataDirectory, betweenIndexReads: nil)
    }

    init(dataDirectory: URL, betweenIndexReads: (@Sendable () -> Void)?) {
        root = dataDirectory.appendingPathComponent("snapshots", isDirectory: true)
        statsRoot = dataDirectory.appendingPathComponent("snapshot-stats", isDirectory: true)
        objects = ObjectStore(dataDirectory: dataDirectory)
        self.betweenIndexReads = betweenIndexReads
    }

    /// The writer's last whole check of each customer, shared by its copies (a struct's `Mutex`
    /// cannot be copied).
    private final class LastChecks: Sendable {
        let checks = Mutex<[String: WholeCheck]>([:])
        func withLock<T>(_ body: (inout [String: WholeCheck]) -> T) -> T { checks.withLock { body(&$0) } }
    }

    /// What a whole check saw once it was done: the store's index (its fingerprint), and the index
    /// and stats files as they were then.
    struct WholeCheck: Sendable, Equatable {
        var indexFingerprint: String
        var indexStamp: FileStamp?
        var statsStamp: FileStamp?
    }

    public func customerDirectory(_ slug: String) -> URL { root.appendingPathComponent(slug, isDirectory: true) }

    public func indexFile(_ slug: String) -> URL { customerDirectory(slug).appendingPathComponent("index.json") }

    public func workflowFile(_ slug: String, zuoraID: Int64) -> URL {
        URL(fileURLWithPath: "\(root.path)/\(slug)/workflows/\(SafeIdentifier.workflowFileName(zuoraID))", isDirectory: false)
    }

    func statsFile(_ slug: String) -> URL { statsRoot.appendingPathComponent("\(slug).json") }

    /// `<data>/snapshot-stats/verified/<customer>.json`: the store's listing match
    /// (`Store.listingMatch`) when every snapshot file was last checked, and the index's stamp then.
    func verifiedFile(_ slug: String) -> URL { statsRoot.appendingPathComponent("verified/\(slug).json") }

    /// What the last whole check of a customer's snapshots saw (`verifiedFile`).
    struct Verified: Codable, VersionedFile {
        static let currentFormatVersion = 1
        var formatVersion = 1
        /// `ListingMatch.id` of the store's match then.
        var matchID: String
        var indexStamp: FileStamp
    }

    /// What a snapshot file looked like when this tool wrote it.
    struct FileStamp: Sendable, Codable, Equatable {
        var size: Int64
        var modifiedNanoseconds: Int64
    }

    /// 2: adds the fingerprint of the index last written and the index file's stamp, so an
    /// unchanged run neither reads nor rewrites the index.
    struct Stats: Codable, VersionedFile {
        static let currentFormatVersion = 2
        var formatVersion = 2
        var files: [String: FileStamp] = [:]
        var indexFingerprint: String?
        var indexStamp: FileStamp?
    }

    /// A hash of the index entries' fields, computed without encoding them as JSON, as the entries
    /// come. Hashed in pieces of 64 KB, not as one text of the whole tenant. A class: copies of a
    /// struct would share the hasher but not the text.
    final class IndexFingerprint {
        private var text = ""
        private let hasher = IncrementalSHA256()

        init() { text.reserveCapacity(64 << 10 + 4096) }

        func add(_ entry: SnapshotIndexEntry) {
            for field in [String(entry.id), entry.name, entry.status ?? "\u{1}", entry.updatedAt ?? "\u{1}", entry.version ?? "\u{1}",
                          entry.exportSHA256 ?? "\u{1}"] {
                text += field
                text += "\u{1F}"
            }
            text += "\u{1E}"
            if text.utf8.count >= 64 << 10 { hashText() }
        }

        private func hashText() {
            text.withUTF8 { hasher.update(UnsafeRawBufferPointer($0)) }
            text.removeAll(keepingCapacity: true)
        }

        /// The hex digest; the fingerprint takes no more entries after it.
        func finish() -> String {
            hashText()
            // Without a digest, a fingerprint that matches nothing: the index is then written.
            return hasher.finishHex() ?? "unavailable-\(UUID().uuidString)"
        }
    }

    static func stamp(_ url: URL) -> FileStamp? {
        FileIdentity(regularFile: url).map { FileStamp(size: $0.size, modifiedNanoseconds: $0.modifiedNanoseconds) }
    }

    /// Writes the workflow's snapshot file atomically (people read snapshots at any time); returns
    /// its stamp as written.
    private func place(_ bytes: Data, customerSlug: String, zuoraID: Int64) throws -> FileStamp? {
        let file = workflowFile(customerSlug, zuoraID: zuoraID)
        try AtomicFile.write(bytes, to: file, durable: false)
        return Self.stamp(file)
    }

    private func place(_ bytes: Data, customerSlug: String, zuoraID: Int64, stats: inout Stats) throws {
        stats.files[SafeIdentifier.workflowFileName(zuoraID)] = try place(bytes, customerSlug: customerSlug, zuoraID: zuoraID)
    }

    /// A snapshot file written as its export was stored (`placeStored`), before the refresh that
    /// writes the index. Kept for every workflow a first sync stores: its hash in place, not as text.
    public struct PlacedFile: Sendable {
        var sha256: SHA256Hash
        var stamp: FileStamp
    }

    /// Where `placeStored` takes an export's bytes from.
    public enum ExportBytes: Sendable {
        /// A file holding the export (the run's copy): read, and checked against the export's hash.
        case file(URL)
        /// The export's text, checked against its hash by the caller: the store reads and checks
        /// each export it stores, and the snapshot is written from that text instead of reading
        /// and hashing the file once more.
        case checked(String)
    }

    /// Writes the snapshot files of exports just stored, so a sync that streams its exports into
    /// the store writes them while it still downloads, not all at the end. The refresh that
    /// follows takes such a file as current when the store still names that export and the file
    /// is as written. An export read from a file that does not hash to its name is left to the
    /// refresh.
    public func placeStored(_ exports: [(zuoraID: Int64, sha256: String, bytes: ExportBytes)], customerSlug: String) throws -> [Int64: PlacedFile] {
        var placed: [Int64: PlacedFile] = [:]
        for export in exports {
            let bytes: Data
            switch export.bytes {
            case .file(let source):
                guard let read = try? Data(contentsOf: source), Digest.sha256Hex(read) == export.sha256 else { continue }
                bytes = read
            case .checked(let text):
                bytes = Data(text.utf8)
            }
            if let stamp = try place(bytes, customerSlug: customerSlug, zuoraID: export.zuoraID) {
                placed[export.zuoraID] = PlacedFile(sha256: SHA256Hash(hex: export.sha256), stamp: stamp)
            }
        }
        return placed
    }

    /// Brings the customer's snapshot directory in line with the store: a file is rewritten when
    /// its export changed, when it is missing, or when it was changed by anyone but this tool;
    /// files of workflows that left the store are removed. Returns files written and removed.
    ///
    /// `trustingAnUnchangedStore`: when the store has not changed since the last whole check (it
    /// still holds the listing it held then, `Store.listingMatch`, and the index file is as it was
    /// written), the files are taken as current without reading the store or each file's stamp: an
    /// unchanged incremental run does no work per workflow here. A snapshot edited by hand is then
    /// restored by the next run that changes the customer, or by the next full pass, whose refresh
    /// checks every file.
    ///
    /// `placed`: files `placeStored` wrote since the last refresh; those still current are not
    /// written again (nor counted as written).
    ///
    /// `acceptingAnEarlierCheck`: when this writer already checked every file of the customer and
    /// the store's index, the index file and the stats file are all as they were then, the files
    /// are taken as checked. For a later refresh in the same run (the run's closing refresh, after
    /// save-workflows' own and the stages that follow it): a file edited by hand in between is
    /// restored by the next full pass or run that changes the customer, as with
    /// `trustingAnUnchangedStore`.
    @discardableResult
    public func refresh(customerSlug: String, store: Store, trustingAnUnchangedStore: Bool = false,
                        acceptingAnEarlierCheck: Bool = false, placed: [Int64: PlacedFile] = [:]) throws -> (written: Int, removed: Int) {
        let match = try store.listingMatch(customerSlug: customerSlug)
        let verifiedFile = verifiedFile(customerSlug)
        if trustingAnUnchangedStore, let match, let verified = try? CanonicalJSON.readVersioned(Verified.self, from: verifiedFile),
           verified.matchID == match.id, Self.stamp(indexFile(customerSlug)) == verified.indexStamp {
            return (0, 0)
        }
        // Forgotten before the check: if it is interrupted, or the store is changing, the next
        // trusting refresh checks everything.
        if FileManager.default.fileExists(atPath: verifiedFile.path) { try PathSafety.remove(verifiedFile) }
        let counts = try refreshCheckingEveryFile(customerSlug: customerSlug, store: store, acceptingAnEarlierCheck: acceptingAnEarlierCheck,
                                                  placed: placed)
        if let match, let indexStamp = Self.stamp(indexFile(customerSlug)) {
            // Not fsynced: lost in a crash, it only means the next refresh checks every file.
            try AtomicFile.write(CanonicalJSON.encode(Verified(matchID: match.id, indexStamp: indexStamp), formatVersion: Verified.currentFormatVersion),
                                 to: verifiedFile, durable: false)
        }
        return counts
    }

    private func refreshCheckingEveryFile(customerSlug: String, store: Store, acceptingAnEarlierCheck: Bool,
                                          placed: [Int64: PlacedFile]) throws -> (written: Int, removed: Int) {
        var written = 0, removed = 0
        // The store's index read as it comes, for its fingerprint and each workflow's export; it is
        // read again, row by row, only if the index file must be written.
        let indexFingerprint = IndexFingerprint()
        // In place, not as text: held through the whole check.
        var hashes: [Int64: SHA256Hash] = [:]
        try store.forEachIndexEntry(customerSlug: customerSlug) { entry in
            indexFingerprint.add(entry)
            if let sha = entry.exportSHA256, hashes[entry.id] == nil { hashes[entry.id] = SHA256Hash(hex: sha) }
        }
        let fingerprint = indexFingerprint.finish()
        func currentCheck() -> WholeCheck {
            WholeCheck(indexFingerprint: fingerprint, indexStamp: Self.stamp(indexFile(customerSlug)), statsStamp: Self.stamp(statsFile(customerSlug)))
        }
        if acceptingAnEarlierCheck, let earlier = lastChecks.withLock({ $0[customerSlug] }), earlier == currentCheck() {
            return (0, 0)
        }
        // Forgotten while checking: an interrupted check proves nothing.
        lastChecks.withLock { $0[customerSlug] = nil }
        let original = (try? CanonicalJSON.readVersioned(Stats.self, from: statsFile(customerSlug))) ?? Stats()
        var stats = original
        // The index on disk is the one last written, and the store still says the same: the
        // previous hashes are the current ones and the index need not be read nor written.
        let indexIsCurrent = stats.indexFingerprint == fingerprint && stats.indexStamp != nil && Self.stamp(indexFile(customerSlug)) == stats.indexStamp
        let previousHashes: [Int64: SHA256Hash]
        if indexIsCurrent {
            previousHashes = hashes
        } else {
            let previous = (try? CanonicalJSON.read([SnapshotIndexEntry].self, from: indexFile(customerSlug))) ?? []
            previousHashes = Dictionary(previous.compactMap { entry in entry.exportSHA256.map { (entry.id, SHA256Hash(hex: $0)) } },
                                        uniquingKeysWith: { a, _ in a })
        }
        // Changed (or new, or missing) workflows, and files changed by someone else.
        var changed: [Int64] = [], edited: [Int64] = []
        var placedFiles = 0
        for (id, sha) in hashes {
            let name = SafeIdentifier.workflowFileName(id)
            if let file = placed[id], file.sha256 == sha, Self.stamp(workflowFile(customerSlug, zuoraID: id)) == file.stamp {
                stats.files[name] = file.stamp
                placedFiles += 1
            } else if previousHashes[id] != sha || stats.files[name] == nil {
                changed.append(id)
            } else if Self.stamp(workflowFile(customerSlug, zuoraID: id)) != stats.files[name] {
                edited.append(id)
            }
        }
        if !changed.isEmpty || !edited.isEmpty || placedFiles > 0 {
            // From the object when it is there and whole, from the store otherwise.
            var fromStore = Set<Int64>()
            for id in changed.sorted() + edited.sorted() {
                guard let bytes = objects.intactBytes(hashes[id]!.hex) else {
                    fromStore.insert(id)
                    continue
                }
                try place(bytes, customerSlug: customerSlug, zuoraID: id, stats: &stats)
                written += 1
            }
            if !fromStore.isEmpty {
                try store.forEachExport(customerSlug: customerSlug, zuoraIDs: fromStore) { export in
                    try place(Data(export.text.utf8), customerSlug: customerSlug, zuoraID: export.zuoraID, stats: &stats)
                    written += 1
                }
            }
            // Before the index names their hashes, the files themselves must be on disk.
            try AtomicFile.flushFileSystem(containing: root)
        }
        // Kept: `<id>.json` of a workflow with an export (told from the name, not from a set of names).
        func keep(_ name: String) -> Bool {
            guard name.hasSuffix(".json"), let id = Int64(name.dropLast(5)), id > 0 else { return false }
            return hashes[id] != nil && SafeIdentifier.workflowFileName(id) == name
        }
        let workflowsDirectory = customerDirectory(customerSlug).appendingPathComponent("workflows")
        try PathSafety.check(workflowsDirectory)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: workflowsDirectory.path)) ?? [] where !keep(name) {
            try PathSafety.remove(workflowsDirectory.appendingPathComponent(name))
            removed += 1
        }
        // Removed in place: a filtered copy would be one more map of every file at the peak.
        for name in stats.files.keys.filter({ !keep($0) }) { stats.files[name] = nil }
        if !indexIsCurrent {
            // Compared byte for byte, so a hand edit is undone too. Read from the store again: a
            // workflow whose export changed since the first read (another process, another host
            // on a shared store) is forgotten in the stats, so the next refresh writes its file;
            // the index written names the newer export, which alone would hide the older file.
            betweenIndexReads?()
            if try CanonicalList<SnapshotIndexEntry>.write(to: indexFile(customerSlug), { list in
                try store.forEachIndexEntry(customerSlug: customerSlug) { entry in
                    if hashes[entry.id] != entry.exportSHA256.map(SHA256Hash.init(hex:)) { stats.files[SafeIdentifier.workflowFileName(entry.id)] = nil }
                    try list.append(entry)
                }
            }) {
                written += 1
            }
            stats.indexFingerprint = fingerprint
            stats.indexStamp = Self.stamp(indexFile(customerSlug))
        }
        stats.formatVersion = Stats.currentFormatVersion
        if stats.files != original.files || stats.indexFingerprint != original.indexFingerprint
            || stats.indexStamp != original.indexStamp || original.formatVersion != Stats.currentFormatVersion {
            try CanonicalJSON.write(stats, to: statsFile(customerSlug))
        }
        let check = currentCheck()
        lastChecks.withLock { $0[customerSlug] = check }
        return (written, removed)
    }
}
