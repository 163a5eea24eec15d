import Foundation

/// Keeps large run files that repeat from run to run (the raw pages of a listing that did not
/// change, the listing itself) once on disk: each run's file is a hard link to
/// `<data>/run-files/<ab>/<sha256>`, the pool's name for those bytes. An unchanged hourly run then
/// adds a few kilobytes instead of a copy of its tenant's listing.
///
/// A pool file is only ever reused after its bytes were checked against its name, so a damaged
/// or planted one is replaced, never spread. A pool name no run file links any more (a link count
/// of 1: its runs were pruned) is removed by `removeUnlinked`, which `gc` and the retention after
/// each run call. Files below `minimumSize` are written as they are: they take one block either way.
public struct SharedRunFiles: Sendable {
    public let root: URL
    /// Smaller files gain nothing from sharing (a block each either way).
    public static let minimumSize = 8192

    public init(dataDirectory: URL) {
        root = dataDirectory.appendingPathComponent("run-files", isDirectory: true)
    }

    func poolPath(_ sha256: String) -> String { "\(root.path)/\(sha256.prefix(2))/\(sha256)" }

    /// Writes `data` at `url` like `AtomicFile.write`: a link to the pool's copy when there is an
    /// intact one, otherwise a new file that then joins the pool.
    public func write(_ data: Data, to url: URL, durable: Bool) throws {
        guard data.count >= Self.minimumSize else { return try AtomicFile.write(data, to: url, durable: durable) }
        let sha256 = Digest.sha256Hex(data)
        if try placeCopy(sha256: sha256, size: data.count, at: url, durable: durable) { return }
        try AtomicFile.write(data, to: url, durable: durable)
        share(url, sha256: sha256)
    }

    /// Puts a link to the pool's copy of these bytes at `url` (atomically, replacing what is there)
    /// when the pool has an intact copy; false when it has none (or the copy is damaged, and is
    /// then dropped from the pool).
    func placeCopy(sha256: String, size: Int, at url: URL, durable: Bool) throws -> Bool {
        let pooled = poolPath(sha256)
        // Checked for links once per process, like every directory the tool writes into.
        try AtomicFile.prepareDirectory(root.appendingPathComponent(String(sha256.prefix(2)), isDirectory: true))
        var info = stat()
        guard lstat(pooled, &info) == 0 else { return false }
        guard (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) == size, Self.hashOfFile(pooled) == sha256 else {
            unlink(pooled)
            return false
        }
        return try AtomicFile.placeLink(to: pooled, at: url, durable: durable)
    }

    /// Adds a file just written to the pool (best effort: a file that does not join it is only
    /// not shared).
    func share(_ url: URL, sha256: String) {
        let shard = root.appendingPathComponent(String(sha256.prefix(2)), isDirectory: true)
        _ = try? AtomicFile.inCheckedDirectory(shard) { Foundation.link(url.path, poolPath(sha256)) }
    }

    /// SHA-256 of a regular file read without following a link; nil when it cannot be read.
    static func hashOfFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let hasher = IncrementalSHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress!, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return hasher.finishHex()
    }

    /// What `removeUnlinked` removed.
    public struct Removal: Sendable, Equatable {
        public var files = 0
        public var bytes: Int64 = 0
    }

    /// Removes the pool names no run file links any more (and temporary files of killed
    /// processes). `dryRun` only counts them.
    @discardableResult
    public func removeUnlinked(dryRun: Bool = false) throws -> Removal {
        var removal = Removal()
        for shard in ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted() {
            let shardPath = "\(root.path)/\(shard)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: shardPath)) ?? [] {
                let path = "\(shardPath)/\(name)"
                var info = stat()
                guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink <= 1 else { continue }
                if !dryRun { try PathSafety.remove(URL(fileURLWithPath: path, isDirectory: false)) }
                removal.files += 1
                removal.bytes += Int64(info.st_size)
            }
        }
        return removal
    }
}
