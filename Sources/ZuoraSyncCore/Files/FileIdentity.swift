import Foundation

/// A regular file as `lstat` tells it, without reading it: which file (device, inode) and how it
/// last looked (size, modification time). Files written by rename get a new inode, so an equal
/// identity means the same bytes unless someone rewrote the file in place within the same
/// nanosecond at the same size.
public struct FileIdentity: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedNanoseconds: Int64

    /// Nil when nothing is there, or something other than a regular file (a link, a directory).
    public init?(regularFile url: URL) {
        var info = stat()
        guard lstat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}
