import Foundation
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStore

/// Upserts the listed workflows and the good exports into the store in one transaction, then
/// refreshes the snapshots. Counts are true: `updated` means something actually differs.
public struct SaveWorkflows: StageKind {
    public static let name = "save-workflows"
    public static var inputs: [any StageKind.Type] { [FetchWorkflowPages.self, DownloadExports.self] }

    /// `plan.json`: what the stage will do (or, in a dry run, would do), written before the store
    /// changes so that a resumed stage reports the same counts.
    public struct Plan: Sendable, Codable, VersionedFile {
        public static let currentFormatVersion = 1
        public enum Action: String, Sendable, Codable { case created, updated, unchanged }
        public struct Item: Sendable, Codable {
            public var listed: ListedWorkflow
            public var action: Action
            /// Set when a good export was downloaded in this run; the store's export is replaced only then.
            public var exportSHA256: String?
            /// What differs from the stored row (`name`, `status`, `version`, `updatedAt`, `export`).
            public var changedFields: [String]
            /// The stored export's hash before this run (nil: none yet). Absent in plans of older runs.
            public var previousExportSHA256: String?
        }
        public var formatVersion = Plan.currentFormatVersion
        public var items: [Item]
        public var isApplied: Bool
    }

    /// `result.json`: counts and the workflows that changed.
    public struct Result: Sendable, Codable {
        public struct Changed: Sendable, Codable {
            public var id: Int64
            public var name: String
            public var action: Plan.Action
            public var fields: [String]
        }
        public var isApplied: Bool
        public var created: Int
        public var updated: Int
        public var unchanged: Int
        public var exportsStored: Int
        public var changed: [Changed]

        /// Reads format 1 too, whose counts were a dictionary.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            isApplied = try c.decode(Bool.self, forKey: .isApplied)
            changed = try c.decode([Changed].self, forKey: .changed)
            let legacy = try c.decodeIfPresent([String: Int].self, forKey: .counts) ?? [:]
            created = try c.decodeIfPresent(Int.self, forKey: .created) ?? legacy["created"] ?? 0
            updated = try c.decodeIfPresent(Int.self, forKey: .updated) ?? legacy["updated"] ?? 0
            unchanged = try c.decodeIfPresent(Int.self, forKey: .unchanged) ?? legacy["unchanged"] ?? 0
            exportsStored = try c.decodeIfPresent(Int.self, forKey: .exportsStored) ?? legacy["exports_stored"] ?? 0
        }

        init(plan: Plan) {
            isApplied = plan.isApplied
            created = plan.items.filter { $0.action == .created }.count
            updated = plan.items.filter { $0.action == .updated }.count
            unchanged = plan.items.filter { $0.action == .unchanged }.count
            exportsStored = plan.items.filter { $0.exportSHA256 != nil }.count
            changed = plan.items.filter { $0.action != .unchanged }.map {
                Changed(id: $0.listed.id, name: $0.listed.name, action: $0.action, fields: $0.changedFields)
            }
        }

        private enum CodingKeys: String, CodingKey { case isApplied, created, updated, unchanged, exportsStored, changed, counts }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(isApplied, forKey: .isApplied)
            try c.encode(created, forKey: .created)
            try c.encode(updated, forKey: .updated)
            try c.encode(unchanged, forKey: .unchanged)
            try c.encode(exportsStored, forKey: .exportsStored)
            try c.encode(changed, forKey: .changed)
        }
    }

    public static let resultFormatVersion = 2

    public init() {}

    public func run(_ context: StageContext, settings: NoSettings) async throws -> StageOutput<Result> {
        let planFile = context.file(StageFiles.plan)
        let downloads = try context.directory(of: DownloadExports.self)
        var plan: Plan
        if FileManager.default.fileExists(atPath: planFile.path) {
            plan = try CanonicalJSON.readVersioned(Plan.self, from: planFile)
        } else {
            plan = try makePlan(context)
            try CanonicalJSON.write(plan, to: planFile)
        }
        let store = context.services.store
        if !context.options.dryRun {
            try store.apply(plan.items.map { WorkflowUpsert(listed: $0.listed, exportSHA256: $0.exportSHA256) },
                            customer: context.customer, syncedAt: context.runStartedAt) { id in
                try String(contentsOf: DownloadExports.exportFile(id, in: downloads), encoding: .utf8)
            }
            plan.isApplied = true
            try CanonicalJSON.write(plan, to: planFile)
            try context.services.snapshots.refresh(customerSlug: context.customer.id, store: store)
            try store.recordChanges(plan.items.filter { $0.action != .unchanged }.map { item in
                WorkflowChangeRow(runID: context.runID, customerSlug: context.customer.id, zuoraID: item.listed.id, name: item.listed.name,
                                  action: item.action.rawValue, fields: item.changedFields, exportSHA256Before: item.previousExportSHA256,
                                  exportSHA256After: item.exportSHA256 ?? item.previousExportSHA256, changedAt: context.runStartedAt)
            })
        }
        // plan.json holds every workflow; result.json only what changed.
        return StageOutput(Result(plan: plan), status: context.options.dryRun ? .dryRun : .committed)
    }

    public static func counts(of result: Result) -> [String: Int] {
        ["created": result.created, "updated": result.updated, "unchanged": result.unchanged, "exports_stored": result.exportsStored]
    }

    public static func summarize(_ result: Result, into summary: inout CustomerSummary) {
        summary.set("created", "\(result.created)", order: 10)
        summary.set("updated", "\(result.updated)", order: 20)
        summary.changes += result.changed.map { ($0.action == .created ? "+ " : "~ ") + "\($0.id) \($0.name)" }
    }

    private func makePlan(_ context: StageContext) throws -> Plan {
        let listing = try context.result(of: FetchWorkflowPages.self)
        let downloads = try context.result(of: DownloadExports.self)
        let hashes = Dictionary(uniqueKeysWithValues: downloads.downloaded.map { ($0.id, $0.sha256) })
        let stored = try context.services.store.storedWorkflows(customerSlug: context.customer.id)
        let items = listing.workflows.map { listed -> Plan.Item in
            let sha = hashes[listed.id]
            guard let existing = stored[listed.id] else {
                return Plan.Item(listed: listed, action: .created, exportSHA256: sha, changedFields: [], previousExportSHA256: nil)
            }
            var changed: [String] = []
            if existing.name != listed.name { changed.append("name") }
            if existing.status != listed.status { changed.append("status") }
            if existing.version != listed.activeVersion { changed.append("version") }
            if existing.updatedOn != listed.updatedAt { changed.append("updatedAt") }
            if let sha, sha != existing.exportSHA256 { changed.append("export") }
            return Plan.Item(listed: listed, action: changed.isEmpty ? .unchanged : .updated, exportSHA256: sha, changedFields: changed,
                             previousExportSHA256: existing.exportSHA256)
        }
        return Plan(items: items, isApplied: false)
    }
}
