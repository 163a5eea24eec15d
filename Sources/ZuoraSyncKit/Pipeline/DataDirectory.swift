import Foundation

/// The layout of the data directory. Nothing is written outside it.
public struct DataDirectory: Sendable {
    public let root: URL

    public init(_ root: URL) { self.root = root.standardizedFileURL }
    public init(path: String) { self.init(URL(fileURLWithPath: path, isDirectory: true)) }

    public var runs: URL { root.appendingPathComponent("runs", isDirectory: true) }
    public var storeFile: URL { root.appendingPathComponent("store.sqlite") }
    public var trash: URL { root.appendingPathComponent("trash", isDirectory: true) }
    public var jobs: URL { root.appendingPathComponent("jobs", isDirectory: true) }
    public var locks: URL { root.appendingPathComponent("locks", isDirectory: true) }

    public func run(_ id: String) -> URL { runs.appendingPathComponent(id, isDirectory: true) }
    public func manifest(_ id: String) -> URL { run(id).appendingPathComponent("run.json") }

    /// `runs/<run>/<customer>/state.json`: the customer's workflows when the run finished.
    public func customerState(run: String, customer: String) -> URL {
        self.run(run).appendingPathComponent(customer, isDirectory: true).appendingPathComponent("state.json")
    }

    /// Stage directory `runs/<run>/<customer>/<NN>-<stage-id>`.
    public func stage(run: String, customer: String, index: Int, stageID: String) -> URL {
        self.run(run).appendingPathComponent(customer, isDirectory: true)
            .appendingPathComponent(String(format: "%02d-%@", index + 1, stageID), isDirectory: true)
    }

    /// Every run's manifest, newest first.
    public func manifests() -> [RunManifest] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []
        return names.filter(SafeIdentifier.isValidRunID).compactMap { try? CanonicalJSON.read(RunManifest.self, from: manifest($0)) }
            .sorted { ($0.sequence, $0.id) > ($1.sequence, $1.id) }
    }

    /// The sequence number for a new run. Run ids start with their start time, so only the newest
    /// few manifests need reading, however many runs have piled up.
    public func nextSequence() -> Int {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []).filter(SafeIdentifier.isValidRunID)
        let newest = names.sorted(by: >).prefix(20).compactMap { try? CanonicalJSON.read(RunManifest.self, from: manifest($0)) }
        return (newest.map(\.sequence).max() ?? 0) + 1
    }

    /// Reads one run's manifest, with an error that says what to do when it is missing.
    public func loadManifest(_ id: String) throws -> RunManifest {
        guard SafeIdentifier.isValidRunID(id) else { throw FileError(path: id, message: "is not a run id (see `zuora-sync runs`).", isUsageError: true) }
        let url = manifest(id)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FileError(path: url.path, message: "no such run in \(root.path); list runs with `zuora-sync runs`.", isUsageError: true)
        }
        return try CanonicalJSON.read(RunManifest.self, from: url)
    }

    /// A new, sortable run id: `20261129T052000Z-1a2b3c`.
    public static func newRunID(at date: Date) -> String {
        let stamp = Timestamp.format(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let compact = String(stamp.prefix(15)) + "Z"
        return compact + "-" + String(format: "%06x", UInt32.random(in: 0..<0xFFFFFF))
    }
}
