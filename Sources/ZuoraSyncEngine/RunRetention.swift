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

    public init(dataDirectory: DataDirectory, settings: RetentionSettings, clock: any WallClock = SystemClock()) {
        self.dataDirectory = dataDirectory
        self.settings = settings
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
        let manifests = dataDirectory.manifests()
        let cutoff = clock.now().addingTimeInterval(-Double(settings.keepDays) * 86_400)
        var lastSucceeded: [String: String] = [:], lastFailed: [String: String] = [:]
        for manifest in manifests {
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
            try PathSafety.remove(dataDirectory.run(manifest.id))
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

    public init(dataDirectory: DataDirectory) { self.dataDirectory = dataDirectory }

    /// What a collection found and removed.
    public struct Report: Sendable, Codable, Equatable {
        public var kept = 0
        public var removed = 0
        public var bytesRemoved: Int64 = 0
    }

    public func collect(store: Store, dryRun: Bool = false) throws -> Report {
        var referenced = Set(try store.allExportHashes())
        for manifest in dataDirectory.manifests() {
            for customer in manifest.customers {
                let url = dataDirectory.customerState(run: manifest.id, customer: customer)
                guard FileManager.default.fileExists(atPath: url.path) else { continue }
                let state = try CanonicalJSON.readVersioned(CustomerState.self, from: url)
                referenced.formUnion(state.workflows.compactMap(\.exportSHA256))
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
                let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64) ?? 0
                if !dryRun { try PathSafety.remove(file) }
                report.removed += 1
                report.bytesRemoved += size
            }
        }
        return report
    }
}
