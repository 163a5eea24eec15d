import Foundation
import ZuoraSyncCore
import ZuoraSyncStore

/// Applies a pipeline's `retention:` policy to `runs/`: which runs are kept and why, and pruning
/// the others. A pruned run leaves a tombstone (`runs/.pruned/<id>.json`), so commands name it as
/// pruned rather than missing.
public struct RunRetention: Sendable {
    public let dataDirectory: DataDirectory
    public let settings: RetentionSettings
    public let clock: any WallClock
    /// Only this pipeline's runs are considered (each pipeline has its own policy).
    public let pipelineName: String

    public init(dataDirectory: DataDirectory, settings: RetentionSettings, pipelineName: String, clock: any WallClock = SystemClock()) {
        self.dataDirectory = dataDirectory
        self.settings = settings
        self.pipelineName = pipelineName
        self.clock = clock
    }

    /// A run and why it is kept (nil: pruned).
    public struct Decision: Sendable {
        public var manifest: RunManifest
        public var keptBecause: String?
    }

    /// `runs/.pruned/<id>.json`: what a pruned run was.
    public struct Tombstone: Sendable, Codable, VersionedFile {
        public static let currentFormatVersion = 1
        public var formatVersion = 1
        public var id: String
        public var status: RunStatus
        public var startedAt: Date
        public var prunedAt: Date
    }

    /// Every readable run, newest first, with the reason it is kept or nil when the policy prunes it.
    public func decisions() -> [Decision] {
        let manifests = dataDirectory.manifests().filter { $0.pipelineName == pipelineName }
        let cutoff = clock.now().addingTimeInterval(-Double(settings.keepDays) * 86_400)
        var lastSucceeded: [String: String] = [:], lastFailed: [String: String] = [:]
        // A dry run changes nothing and records no state: it never stands for a customer's last sync.
        for manifest in manifests where !manifest.options.dryRun {
            for result in manifest.results {
                if result.status == .succeeded, lastSucceeded[result.customer] == nil { lastSucceeded[result.customer] = manifest.id }
                if result.status == .failed, lastFailed[result.customer] == nil { lastFailed[result.customer] = manifest.id }
            }
        }
        let lastSucceededRuns = Set(lastSucceeded.values), lastFailedRuns = Set(lastFailed.values)
        return manifests.enumerated().map { index, manifest in
            let reason: String?
            if index < settings.keepLast {
                reason = "among the newest \(settings.keepLast)"
            } else if manifest.startedAt >= cutoff {
                reason = "started within \(settings.keepDays) days"
            } else if ![.succeeded, .failed].contains(manifest.observedStatus()) {
                reason = "unfinished (\(manifest.observedStatus().rawValue)): it can be resumed"
            } else if lastSucceededRuns.contains(manifest.id) {
                reason = "a customer's last successful run"
            } else if lastFailedRuns.contains(manifest.id) {
                reason = "a customer's last failed run"
            } else {
                reason = nil
            }
            return Decision(manifest: manifest, keptBecause: reason)
        }
    }

    /// Prunes the runs the policy does not keep; returns them.
    @discardableResult
    public func prune() throws -> [RunManifest] {
        let doomed = decisions().filter { $0.keptBecause == nil }.map(\.manifest)
        for manifest in doomed {
            let tombstone = Tombstone(id: manifest.id, status: manifest.status, startedAt: manifest.startedAt, prunedAt: clock.now())
            try CanonicalJSON.write(tombstone, to: dataDirectory.prunedRun(manifest.id))
            // Renamed away first (atomic), so an interruption never leaves a half-deleted run that
            // still looks like a run; leftovers are removed on the next prune.
            let doomedDirectory = dataDirectory.prunedRun(manifest.id).deletingPathExtension().appendingPathExtension("deleting")
            try PathSafety.check(dataDirectory.run(manifest.id))
            guard rename(dataDirectory.run(manifest.id).path, doomedDirectory.path) == 0 else {
                throw FileError(path: dataDirectory.run(manifest.id).path, message: "cannot move the pruned run aside: \(String(cString: strerror(errno)))")
            }
            try PathSafety.remove(doomedDirectory)
        }
        let graveyard = dataDirectory.runs.appendingPathComponent(".pruned")
        for leftover in ((try? FileManager.default.contentsOfDirectory(atPath: graveyard.path)) ?? []) where leftover.hasSuffix(".deleting") {
            try PathSafety.remove(graveyard.appendingPathComponent(leftover))
        }
        return doomed
    }
}

extension DataDirectory {
    /// The tombstone of a pruned run.
    public func prunedRun(_ id: String) -> URL { runs.appendingPathComponent(".pruned", isDirectory: true).appendingPathComponent("\(id).json") }
}

/// Removes objects (`objects/ab/<sha>.json`) that no kept run's state and no stored export names.
public struct ObjectCollector: Sendable {
    public let dataDirectory: DataDirectory
    /// When the collection starts: objects written after it belong to a concurrent run and stay.
    public let clock: any WallClock

    public init(dataDirectory: DataDirectory, clock: any WallClock = SystemClock()) {
        self.dataDirectory = dataDirectory
        self.clock = clock
    }

    /// What a collection found and removed.
    public struct Report: Sendable, Codable, Equatable {
        public var kept = 0
        public var removed = 0
        public var bytesRemoved: Int64 = 0
    }

    /// Fails, removing nothing, when a run manifest cannot be read (its state could name objects).
    /// Objects written after the collection started (a concurrent run) are kept.
    public func collect(store: Store, dryRun: Bool = false) throws -> Report {
        let started = clock.now()
        let listing = dataDirectory.manifestListing()
        if let problem = listing.problems.first {
            throw FileError(path: problem.path, message: "cannot be read, and its run may name objects; nothing was collected. Fix or move it aside first (\(problem.message)).")
        }
        var referenced = Set(try store.allExportHashes())
        let objects = ObjectStore(dataDirectory: dataDirectory.root)
        for manifest in listing.items {
            for customer in manifest.customers {
                let url = dataDirectory.customerState(run: manifest.id, customer: customer)
                guard FileManager.default.fileExists(atPath: url.path) else { continue }
                let named = try CustomerState.listObject(at: url)
                referenced.formUnion(named.inlineExports)
                // A list shared by many runs is read once.
                if let list = named.workflowsObject, referenced.insert(list).inserted {
                    referenced.formUnion(try CustomerState.exports(inList: list, namedBy: url, objects: objects))
                }
            }
        }
        var report = Report()
        let root = ObjectStore(dataDirectory: dataDirectory.root).root
        for shard in ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted() {
            let shardURL = root.appendingPathComponent(shard)
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: shardURL.path)) ?? []) where name.hasSuffix(".json") && !name.hasPrefix(".") {
                let sha = String(name.dropLast(5))
                if referenced.contains(sha) {
                    report.kept += 1
                    continue
                }
                let file = shardURL.appendingPathComponent(name)
                let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
                if let modified = attributes?[.modificationDate] as? Date, modified > started {
                    report.kept += 1
                    continue
                }
                let size = (attributes?[.size] as? Int64) ?? 0
                if !dryRun { try PathSafety.remove(file) }
                report.removed += 1
                report.bytesRemoved += size
            }
        }
        // Shared run files (`SharedRunFiles`) that no run links any more.
        let unlinked = try SharedRunFiles(dataDirectory: dataDirectory.root).removeUnlinked(dryRun: dryRun)
        report.removed += unlinked.files
        report.bytesRemoved += unlinked.bytes
        return report
    }
}
