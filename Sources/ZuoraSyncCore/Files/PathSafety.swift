import Foundation
import Synchronization

/// Keeps writes and deletions inside the data directory from following symbolic links planted
/// there (a `snapshots/<c>/workflows` that links elsewhere would otherwise get that folder's files
/// deleted). Every existing path component below a protected root is checked with `lstat`.
public enum PathSafety {
    private static let roots = Mutex<Set<String>>([])

    /// Protects everything below `root` (the data directory registers itself).
    public static func protect(_ root: URL) {
        let path = root.standardizedFileURL.path
        _ = roots.withLock { $0.insert(path) }
    }

    /// Throws when a component between a protected root and `url` (itself included) is a symbolic link.
    public static func check(_ url: URL) throws {
        let path = url.standardizedFileURL.path
        let protected = roots.withLock { roots in roots.filter { path.hasPrefix($0 + "/") }.max { $0.count < $1.count } }
        guard let root = protected else { return }
        var current = root
        for component in path.dropFirst(root.count + 1).split(separator: "/") {
            current += "/" + component
            var info = stat()
            guard lstat(current, &info) == 0 else { return } // the rest does not exist yet
            if (info.st_mode & S_IFMT) == S_IFLNK {
                throw FileError(path: current, message: "is a symbolic link inside the data directory; zuora-sync does not write or delete through links there. Replace it with a real directory or file.")
            }
        }
    }

    /// Throws when the file at `path` is itself a symbolic link (its directory was checked already).
    public static func checkFile(path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            throw FileError(path: path, message: "is a symbolic link inside the data directory; zuora-sync does not write or delete through links there. Replace it with a real directory or file.")
        }
    }

    /// Removes a file or directory after checking its path; a missing one is fine.
    public static func remove(_ url: URL) throws {
        try check(url)
        var info = stat()
        guard lstat(url.path, &info) == 0 else { return }
        try FileManager.default.removeItem(at: url)
    }
}
