import Foundation
import Synchronization
import ZuoraSyncCore

/// Run manifests this process has read, each kept with the identity of the file it came from:
/// a run reads every kept manifest several times (its sequence number, the retention pass, the
/// metrics file), and under the default retention that is 168 manifests, four times each, one of
/// which may be a first sync's with a line for each of 20,000 changes. A manifest is read again
/// when its file is another one (manifests are replaced whole, by rename: a new inode) or has
/// another size or time.
final class ManifestMemo: Sendable {
    static let shared = ManifestMemo()

    private struct State {
        var entries: [String: (identity: FileIdentity, manifest: RunManifest)] = [:]
        /// Manifests read from disk, by the directory of runs they are in (tests).
        var reads: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// How many manifests this memo read from disk in the directory of runs `runs` (tests).
    func reads(in runs: URL) -> Int { state.withLock { $0.reads[runs.standardizedFileURL.path] ?? 0 } }

    /// The manifest in `url`, read only if this process has not read this very file before.
    func manifest(at url: URL) throws -> RunManifest {
        guard let identity = FileIdentity(regularFile: url) else {
            return try CanonicalJSON.readVersioned(RunManifest.self, from: url)   // fails clearly
        }
        if let known = state.withLock({ $0.entries[url.path] }), known.identity == identity { return known.manifest }
        let runs = url.deletingLastPathComponent().deletingLastPathComponent().standardizedFileURL.path
        state.withLock { $0.reads[runs, default: 0] += 1 }
        let manifest = try CanonicalJSON.readVersioned(RunManifest.self, from: url)
        // Kept only if the file did not change while it was read.
        if FileIdentity(regularFile: url) == identity { state.withLock { $0.entries[url.path] = (identity, manifest) } }
        return manifest
    }

    /// Forgets the manifests of `directory` that are not among `paths` (pruned or removed runs).
    func keepOnly(_ paths: Set<String>, under directory: URL) {
        let prefix = directory.path + "/"
        state.withLock { state in
            for path in state.entries.keys where path.hasPrefix(prefix) && !paths.contains(path) { state.entries[path] = nil }
        }
    }
}
