import CCrypto
import Foundation
import Synchronization

/// Writes files so that a crash never leaves a complete-looking partial file: temp file in the
/// same directory, fsync, rename over the target, fsync of the directory.
public enum AtomicFile {
    /// Writes `data` to `url` atomically, creating parent directories. `mode` sets permissions
    /// (e.g. 0o600) before the file becomes visible. With `durable: false` the file and directory
    /// are not fsynced: for many files at once whose writer calls `flushFileSystem` once before
    /// anything vouches for them, and whose readers can check them.
    public static func write(_ data: Data, to url: URL, mode: mode_t = 0o644, durable: Bool = true) throws {
        let temporary = try createTemporary(for: url, mode: mode)
        var ok = false
        defer {
            if !ok { unlink(temporary.path) }
        }
        do {
            defer { close(temporary.fd) }
            try data.withUnsafeBytes { try writeAll($0, to: temporary.fd, file: temporary.url) }
            if durable { guard fsync(temporary.fd) == 0 else { throw posixError("fsync", temporary.url) } }
        }
        try commit(temporary, to: url, durable: durable)
        ok = true
    }

    /// A temporary file beside `url` (`.<name>.tmp-<pid>-<random>`, which `sweepTemporaryFiles`
    /// removes once its process is gone), open for writing, its directory checked and created.
    private struct Temporary {
        var fd: Int32
        var path: String
        var directory: URL
        var url: URL { URL(fileURLWithPath: path, isDirectory: false) }
    }

    private static func createTemporary(for url: URL, mode: mode_t) throws -> Temporary {
        let (tempPath, directoryPath, directory) = try temporaryName(for: url)
        let fd = try inCheckedDirectory(directoryPath, directory) { open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw posixError("create", URL(fileURLWithPath: tempPath, isDirectory: false)) }
        _ = fchmod(fd, mode)
        return Temporary(fd: fd, path: tempPath, directory: directory)
    }

    /// `.<name>.tmp-<pid>-<random>` beside `url`, whose name is checked not to be a link.
    private static func temporaryName(for url: URL) throws -> (path: String, directoryPath: String, directory: URL) {
        let (path, slash, directoryPath, directory) = split(url)
        try PathSafety.checkFile(path: path)
        return ("\(directoryPath)/.\(path[path.index(after: slash)...]).tmp-\(processID)-\(RandomSource.system.hex(digits: 8))", directoryPath, directory)
    }

    /// Runs `create` (an `open` or a `link` that makes a name in `directory`; -1 and errno on
    /// failure) with the directory checked for links and created once per process. When it fails
    /// with ENOENT, the directory was removed since it was checked (a stage redone from scratch, a
    /// shard collected): it is checked and created again, and `create` runs once more. Returns
    /// `create`'s last result, errno its error.
    public static func inCheckedDirectory(_ directory: URL, _ create: () -> Int32) throws -> Int32 {
        try inCheckedDirectory(directory.path, directory, create)
    }

    private static func inCheckedDirectory(_ directoryPath: String, _ directory: URL, _ create: () -> Int32) throws -> Int32 {
        try prepare(directoryPath, directory)
        let result = create()
        guard result < 0, errno == ENOENT else { return result }
        forget(directoryPath)
        try prepare(directoryPath, directory)
        return create()
    }

    /// Puts a hard link to `existing` at `url`, atomically (a temporary name, then a rename over
    /// whatever is there). False when `existing` is gone.
    public static func placeLink(to existing: String, at url: URL, durable: Bool) throws -> Bool {
        let (tempPath, directoryPath, directory) = try temporaryName(for: url)
        guard try inCheckedDirectory(directoryPath, directory, { Foundation.link(existing, tempPath) }) == 0 else {
            if errno == ENOENT { return false }
            throw posixError("link", url)
        }
        do {
            try commit(Temporary(fd: -1, path: tempPath, directory: directory), to: url, durable: durable)
        } catch {
            unlink(tempPath)
            throw error
        }
        return true
    }

    /// Renames a written (and closed) temporary file over `url`.
    private static func commit(_ temporary: Temporary, to url: URL, durable: Bool) throws {
        CrashPoints.hit()
        guard rename(temporary.path, url.path) == 0 else { throw posixError("rename", url) }
        CrashPoints.hit()
        if durable { syncDirectory(temporary.directory) }
    }

    private static let processID = getpid()

    /// The file's path, the index of its last slash and its directory: paths as strings, as URL
    /// path building was 5 % of a full sync's CPU.
    private static func split(_ url: URL) -> (path: String, slash: String.Index, directoryPath: String, directory: URL) {
        let path = url.path
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let directoryPath = slash == path.startIndex ? "/" : String(path[..<slash])
        return (path, slash, directoryPath, URL(fileURLWithPath: directoryPath, isDirectory: true))
    }

    private static func writeAll(_ buffer: UnsafeRawBufferPointer, to fd: Int32, file: URL) throws {
        var offset = 0
        while offset < buffer.count {
            let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw posixError("write", file)
            }
            offset += written
        }
    }

    /// Checks `directory` for links and creates it, once per process (until
    /// `forgetCheckedDirectories`), as `write` does for the directories it writes into: thousands
    /// of files go into the same few directories, and a known one costs no lstat per component
    /// and no mkdir. A name made in it with `inCheckedDirectory` survives the directory's removal
    /// since it was checked.
    public static func prepareDirectory(_ directory: URL) throws {
        try prepare(directory.path, directory)
    }

    private static func prepare(_ directoryPath: String, _ directory: URL) throws {
        guard !knownDirectories.withLock({ $0.contains(directoryPath) }) else { return }
        try PathSafety.check(directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        knownDirectories.withLock { known in
            if known.count > 4096 { known.removeAll() }
            known.insert(directoryPath)
        }
    }

    private static func forget(_ directoryPath: String) {
        _ = knownDirectories.withLock { $0.remove(directoryPath) }
    }

    /// Writes a file that does not exist yet straight under its name (no temporary file and
    /// rename), for files whose readers check them whole: a canonical JSON object cut short is
    /// never valid JSON. A name that exists is replaced with `write` instead. Not durable.
    public static func writeNew(_ data: Data, to url: URL, mode: mode_t = 0o644) throws {
        let (path, _, directoryPath, directory) = split(url)
        try prepare(directoryPath, directory)
        try PathSafety.checkFile(path: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            // There already (replaced by rename), or the directory went away since it was
            // checked (`write` checks and creates it again).
            if errno == EEXIST || errno == ENOENT { return try write(data, to: url, mode: mode, durable: false) }
            throw posixError("create", url)
        }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(path) }
        }
        _ = fchmod(fd, mode)
        try data.withUnsafeBytes { try writeAll($0, to: fd, file: url) }
        CrashPoints.hit()
        ok = true
    }

    /// Directories this process has checked for links and created (since the last `forgetCheckedDirectories`).
    private static let knownDirectories = Mutex<Set<String>>([])

    /// Checks every directory again on its next write, component by component: each run starts so,
    /// so a link planted between two runs is always refused.
    public static func forgetCheckedDirectories() {
        knownDirectories.withLock { $0.removeAll() }
    }

    /// Removes temporary files that a killed process left in `directory` (and below, when
    /// `recursive`): `.<name>.tmp-<pid>-<random>` whose process is gone. Returns how many.
    @discardableResult
    public static func sweepTemporaryFiles(in directory: URL, recursive: Bool) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return 0 }
        var removed = 0
        for name in names {
            let url = directory.appendingPathComponent(name)
            if let range = name.range(of: ".tmp-"), name.hasPrefix(".") {
                let pid = Int32(name[range.upperBound...].prefix { $0.isNumber }) ?? 0
                let isAlive = pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
                if !isAlive, (try? PathSafety.remove(url)) != nil { removed += 1 }
                continue
            }
            var info = stat()
            if recursive, lstat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                removed += sweepTemporaryFiles(in: url, recursive: true)
            }
        }
        return removed
    }

    /// Makes everything written so far on the file system that holds `directory` durable.
    public static func flushFileSystem(containing directory: URL) throws {
        let fd = open(directory.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError("open", directory) }
        defer { close(fd) }
        guard zs_syncfs(fd) == 0 else { throw posixError("syncfs", directory) }
    }

    /// Writes only when the file is missing or its bytes differ; returns whether it wrote.
    /// With `sharing`, a large file is kept once for all the runs that write the same bytes (with
    /// the pool's mode, 0o644: they are one file).
    @discardableResult
    public static func writeIfChanged(_ data: Data, to url: URL, mode: mode_t = 0o644, sharing: SharedRunFiles? = nil) throws -> Bool {
        if let existing = try? Data(contentsOf: url), existing == data { return false }
        if let sharing { try sharing.write(data, to: url, durable: true) } else { try write(data, to: url, mode: mode) }
        return true
    }

    /// `writeIfChanged` for a file produced in pieces: `produce` hands each piece, in order, to
    /// the function it is given. Up to `memoryLimit` bytes are kept in memory; past that, the pieces
    /// go to a temporary file as they come and are compared with the file there as they go, so a
    /// large file never exists whole in memory. Durable, like `write`. Returns whether it wrote.
    /// With `sharing`, a large file is kept once for all the runs that write the same bytes
    /// (`SharedRunFiles`).
    @discardableResult
    public static func writeIfChanged(to url: URL, mode: mode_t = 0o644, memoryLimit: Int = 1 << 20, sharing: SharedRunFiles? = nil,
                                      produce: (_ emit: @escaping ([UInt8]) throws -> Void) throws -> Void) throws -> Bool {
        let output = PiecewiseOutput(url: url, mode: mode, memoryLimit: memoryLimit, sharing: sharing)
        defer { output.abandon() }
        try produce(output.append)
        return try output.finish()
    }

    /// The state of a `writeIfChanged(to:produce:)`: pieces in memory, then a temporary file and
    /// the comparison with the file being replaced.
    private final class PiecewiseOutput {
        let url: URL
        let mode: mode_t
        let memoryLimit: Int
        let sharing: SharedRunFiles?
        var pending: [UInt8] = []
        var temporary: Temporary?
        /// The file being replaced, read alongside while the pieces are the same as its bytes.
        var existing: Int32 = -1
        var differs = false
        /// Once spilled, with `sharing`: the hash and size of what was written.
        var hasher: IncrementalSHA256?
        var written = 0

        init(url: URL, mode: mode_t, memoryLimit: Int, sharing: SharedRunFiles?) {
            self.url = url
            self.mode = mode
            self.memoryLimit = memoryLimit
            self.sharing = sharing
        }

        func append(_ piece: [UInt8]) throws {
            guard let temporary else {
                pending += piece
                if pending.count > memoryLimit { try spill() }
                return
            }
            try piece.withUnsafeBytes { buffer in
                try AtomicFile.writeAll(buffer, to: temporary.fd, file: temporary.url)
                hasher?.update(buffer)
                written += buffer.count
                compare(buffer)
            }
        }

        private func spill() throws {
            temporary = try AtomicFile.createTemporary(for: url, mode: mode)
            if sharing != nil { hasher = IncrementalSHA256() }
            existing = open(url.path, O_RDONLY | O_CLOEXEC)
            differs = existing < 0
            let bytes = pending
            pending = []
            try append(bytes)
        }

        /// Reads as many bytes of the existing file as `buffer` holds and compares them.
        private func compare(_ buffer: UnsafeRawBufferPointer) {
            guard !differs, buffer.count > 0 else { return }
            let read = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count, alignment: 1)
            defer { read.deallocate() }
            var filled = 0
            while filled < buffer.count {
                let count = Foundation.read(existing, read.baseAddress! + filled, buffer.count - filled)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                filled += count
            }
            if filled < buffer.count || memcmp(read.baseAddress!, buffer.baseAddress!, buffer.count) != 0 { differs = true }
        }

        func finish() throws -> Bool {
            guard let temporary else { return try AtomicFile.writeIfChanged(Data(pending), to: url, mode: mode, sharing: sharing) }
            if !differs {
                // Same so far: unchanged only if the existing file ends here too.
                var byte: UInt8 = 0
                differs = Foundation.read(existing, &byte, 1) != 0
            }
            guard differs else { return false }   // `abandon` removes the temporary file
            let sha256 = hasher?.finishHex()
            if let sharing, let sha256, try sharing.placeCopy(sha256: sha256, size: written, at: url, durable: true) {
                return true   // the pool had these bytes; `abandon` removes the temporary file
            }
            guard fsync(temporary.fd) == 0 else { throw AtomicFile.posixError("fsync", temporary.url) }
            close(temporary.fd)
            self.temporary = nil
            do { try AtomicFile.commit(temporary, to: url, durable: true) } catch {
                unlink(temporary.path)
                throw error
            }
            if let sharing, let sha256 { sharing.share(url, sha256: sha256) }
            return true
        }

        /// Closes what is open and removes a temporary file that was not renamed.
        func abandon() {
            if existing >= 0 { close(existing) }
            existing = -1
            if let temporary {
                close(temporary.fd)
                unlink(temporary.path)
                self.temporary = nil
            }
        }
    }

    /// Makes a rename inside `directory` durable.
    public static func syncDirectory(_ directory: URL) {
        let fd = open(directory.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    private static func posixError(_ operation: String, _ url: URL) -> FileError {
        FileError(path: url.path, message: "\(operation) failed: \(String(cString: strerror(errno)))")
    }
}
