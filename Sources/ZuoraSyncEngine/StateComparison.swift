import Foundation
import ZuoraSyncCore
import ZuoraSyncStore

/// Finds and loads the two sides of a `diff`: two runs of a customer, or two snapshot directories.
public enum StateComparison {
    public typealias Side = [Int64: WorkflowDiff.Version]

    /// Runs of a customer that recorded a state, newest first (their ids: a state is read when needed).
    public static func runsWithState(customer: String, in directory: DataDirectory) throws -> [String] {
        directory.manifests().compactMap { manifest in
            FileManager.default.fileExists(atPath: directory.customerState(run: manifest.id, customer: customer).path) ? manifest.id : nil
        }
    }

    /// The states of two runs (default: the customer's last two), oldest first.
    public static func states(customer: String, runA: String?, runB: String?, in directory: DataDirectory) throws -> (CustomerState, CustomerState) {
        let objects = ObjectStore(dataDirectory: directory.root)
        func load(_ run: String) throws -> CustomerState {
            _ = try directory.loadManifest(run)
            let url = directory.customerState(run: run, customer: customer)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw FileError(path: url.path, message: "run \(run) has no finished state for customer '\(customer)' (it failed, was a dry run, or did not include the customer).")
            }
            return try CustomerState.read(from: url, objects: objects)
        }
        switch (runA, runB) {
        case let (a?, b?): return (try load(a), try load(b))
        case let (a?, nil):
            guard let newest = try runsWithState(customer: customer, in: directory).first else {
                throw FileError(path: directory.runs.path, message: "no finished run of customer '\(customer)'.")
            }
            return (try load(a), try load(newest))
        default:
            let runs = try runsWithState(customer: customer, in: directory)
            guard runs.count >= 2 else {
                throw FileError(path: directory.runs.path, message: "customer '\(customer)' has \(runs.count) finished run(s); a diff needs two (or name the runs).")
            }
            return (try load(runs[1]), try load(runs[0]))
        }
    }

    public static func side(_ state: CustomerState, objects: ObjectStore) throws -> Side {
        var result: Side = [:]
        for entry in state.workflows {
            result[entry.id] = WorkflowDiff.Version(name: entry.name, status: entry.status, version: entry.version,
                                                    export: try entry.exportSHA256.map { try objects.get($0) })
        }
        return result
    }

    /// A snapshot directory (`snapshots/<customer>` or a copy of it): `workflows/<id>.json` and,
    /// when present, `index.json` for names.
    public static func side(snapshotDirectory: URL) throws -> Side {
        let workflows = snapshotDirectory.appendingPathComponent("workflows")
        guard FileManager.default.fileExists(atPath: workflows.path) else {
            throw FileError(path: snapshotDirectory.path, message: "is not a snapshot directory (no workflows/ inside).")
        }
        let index = (try? CanonicalJSON.read([SnapshotIndexEntry].self, from: snapshotDirectory.appendingPathComponent("index.json"))) ?? []
        var entries = Dictionary(index.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var result: Side = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: workflows.path) where file.hasSuffix(".json") {
            guard let id = Int64(file.dropLast(5)) else { continue }
            let export = try JSONValue.parse(Data(contentsOf: workflows.appendingPathComponent(file)))
            let entry = entries.removeValue(forKey: id)
            result[id] = WorkflowDiff.Version(name: entry?.name ?? export["workflow"]?["name"]?.stringValue ?? "", status: entry?.status,
                                              version: entry?.version, export: export)
        }
        for (id, entry) in entries { result[id] = WorkflowDiff.Version(name: entry.name, status: entry.status, version: entry.version, export: nil) }
        return result
    }
}
