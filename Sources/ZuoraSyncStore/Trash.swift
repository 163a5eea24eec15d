import Foundation
import ZuoraSyncCore

/// Workflows that cleanup deleted, kept under `trash/<run>/<customer>/<id>.json` with their
/// export, tasks and linkages until restored or purged.
public struct Trash: Sendable {
    public struct Item: Sendable, Codable, Equatable {
        public var run: String
        public var customer: String
        public var id: Int64
        public var name: String
        public var tasks: Int
        public var file: String
    }

    public let directory: DataDirectory

    public init(directory: DataDirectory) { self.directory = directory }

    /// Readable archives, and every archive that could not be read, by path.
    public func listing() -> StateListing<Item> {
        var listing = StateListing<Item>()
        let fileManager = FileManager.default
        for run in ((try? fileManager.contentsOfDirectory(atPath: directory.trash.path)) ?? []).sorted() where SafeIdentifier.isValidRunID(run) {
            let runURL = directory.trash.appendingPathComponent(run)
            for customer in ((try? fileManager.contentsOfDirectory(atPath: runURL.path)) ?? []).sorted() where SafeIdentifier.isValidCustomerID(customer) {
                let customerURL = runURL.appendingPathComponent(customer)
                for file in ((try? fileManager.contentsOfDirectory(atPath: customerURL.path)) ?? []).sorted() where file.hasSuffix(".json") {
                    let url = customerURL.appendingPathComponent(file)
                    let archive: WorkflowArchive
                    do { archive = try CanonicalJSON.readVersioned(WorkflowArchive.self, from: url) } catch {
                        listing.problems.append(error as? FileError ?? FileError(path: url.path, message: "\(error)", cause: error))
                        continue
                    }
                    guard let id = archive.workflow["zuora_id"]?.intValue else {
                        listing.problems.append(FileError(path: url.path, message: "names no zuora_id; it cannot be restored."))
                        continue
                    }
                    listing.items.append(Item(run: run, customer: customer, id: id, name: archive.workflow["name"]?.stringValue ?? "",
                                      tasks: archive.tasks.count, file: url.path))
                }
            }
        }
        listing.items.sort { ($0.run, $0.customer, $0.id) < ($1.run, $1.customer, $1.id) }
        return listing
    }

    /// Readable archives, by run, customer and id.
    public func list() -> [Item] { listing().items }

    /// Puts matching workflows back into the store (and snapshots) and removes them from the trash.
    public func restore(run: String, customer: String?, workflow: Int64?, customers: [CustomerConfig], store: Store) throws -> [Item] {
        guard SafeIdentifier.isValidRunID(run) else { throw FileError(path: run, message: "is not a run id.", isUsageError: true) }
        let matches = list().filter { $0.run == run && (customer == nil || $0.customer == customer) && (workflow == nil || $0.id == workflow) }
        guard !matches.isEmpty else {
            throw FileError(path: directory.trash.appendingPathComponent(run).path, message: "nothing in the trash matches; see `zuora-sync trash list`.")
        }
        for slug in Set(matches.map(\.customer)).sorted() {
            let items = matches.filter { $0.customer == slug }
            let archives = try items.map { try CanonicalJSON.readVersioned(WorkflowArchive.self, from: URL(fileURLWithPath: $0.file)) }
            if let config = customers.first(where: { $0.id == slug }) {
                try store.restore(archives, customer: config)
            } else if try store.customerRowID(slug: slug) != nil {
                try store.restore(archives, customerSlug: slug)
            } else {
                throw FileError(path: slug, message: "customer '\(slug)' is neither in the customers file nor in the store; add it first.")
            }
            try SnapshotWriter(dataDirectory: directory.root).refresh(customerSlug: slug, store: store)
            for item in items { try PathSafety.remove(URL(fileURLWithPath: item.file)) }
        }
        return matches
    }

    /// Removes trash of runs that started before `cutoff`; returns the workflows removed.
    public func purge(olderThan cutoff: Date) throws -> Int {
        var removed = 0
        for run in ((try? FileManager.default.contentsOfDirectory(atPath: directory.trash.path)) ?? []) where SafeIdentifier.isValidRunID(run) {
            let started = Self.date(fromRunID: run)
            guard let started, started < cutoff else { continue }
            removed += list().filter { $0.run == run }.count
            try PathSafety.remove(directory.trash.appendingPathComponent(run))
        }
        return removed
    }

    static func date(fromRunID id: String) -> Date? {
        let stamp = id.prefix(16) // 20261129T052000Z
        guard stamp.count == 16 else { return nil }
        let s = Array(stamp)
        return Timestamp.parse("\(String(s[0..<4]))-\(String(s[4..<6]))-\(String(s[6..<8]))T\(String(s[9..<11])):\(String(s[11..<13])):\(String(s[13..<15]))Z")
    }
}

/// Parses durations such as `30d`, `12h`, `45m`, `90s`.
public enum DurationText {
    public static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let value = Double(text.dropLast()), value >= 0 else { return nil }
        switch unit {
        case "d": return value * 86_400
        case "h": return value * 3600
        case "m": return value * 60
        case "s": return value
        default: return nil
        }
    }
}
