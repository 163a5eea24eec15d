import Foundation
import ZuoraSyncCore

extension DataDirectory {
    /// Every run's manifest, newest first, and every `run.json` that could not be read, by path
    /// (listings show those as warnings: a damaged run never silently disappears).
    public func manifestListing() -> StateListing<RunManifest> {
        var listing = StateListing<RunManifest>()
        let names = runNames()
        ManifestMemo.shared.keepOnly(Set(names.map { manifest($0).path }), under: runs)
        for name in names {
            do {
                var item = try ManifestMemo.shared.manifest(at: manifest(name))
                item.directory = run(name)
                listing.items.append(item)
            } catch let error as FileError {
                listing.problems.append(error)
            } catch {
                listing.problems.append(FileError(path: manifest(name).path, message: "\(error)", cause: error))
            }
        }
        listing.items.sort { ($0.sequence, $0.id) > ($1.sequence, $1.id) }
        return listing
    }

    /// Every readable run's manifest, newest first.
    public func manifests() -> [RunManifest] { manifestListing().items }

    /// The sequence number for a new run. Run ids start with their start time, so only the newest
    /// few manifests need reading, however many runs have piled up.
    public func nextSequence() -> Int {
        let newest = runNames().sorted(by: >).prefix(20).compactMap { try? ManifestMemo.shared.manifest(at: manifest($0)) }
        return (newest.map(\.sequence).max() ?? 0) + 1
    }

    /// Reads one run's manifest, with an error that says what to do when it is missing.
    public func loadManifest(_ id: String) throws -> RunManifest {
        guard SafeIdentifier.isValidRunID(id) else { throw FileError(path: id, message: "is not a run id (see `zuora-sync runs`).", isUsageError: true) }
        let url = manifest(id)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if let tombstone = try? CanonicalJSON.readVersioned(RunRetention.Tombstone.self, from: prunedRun(id)) {
                throw FileError(path: run(id).path, message: "run \(id) (\(tombstone.status.rawValue), started \(Timestamp.format(tombstone.startedAt))) was pruned on \(Timestamp.format(tombstone.prunedAt)) by the retention policy; its files are gone. Compare kept runs instead (`zuora-sync runs`).", isUsageError: true)
            }
            throw FileError(path: url.path, message: "no such run in \(root.path); list runs with `zuora-sync runs`.", isUsageError: true)
        }
        var loaded = try CanonicalJSON.readVersioned(RunManifest.self, from: url)
        loaded.directory = run(id)
        return loaded
    }

    private func runNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? [])
            .filter { SafeIdentifier.isValidRunID($0) && !$0.hasSuffix(".tmp") }
    }
}
