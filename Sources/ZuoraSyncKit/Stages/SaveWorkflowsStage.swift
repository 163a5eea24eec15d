import Foundation

/// What save-workflows will do (or, in a dry run, would do): `plan.json`, written before the store
/// changes so that a resumed stage reports the same counts.
public struct SavePlan: Sendable, Codable {
    public enum Action: String, Sendable, Codable { case created, updated, unchanged }
    public struct Item: Sendable, Codable {
        public var listed: ListedWorkflow
        public var action: Action
        /// Set when a good export was downloaded in this run; the store's export is replaced only then.
        public var exportSHA256: String?
        /// What differs from the stored row (`name`, `status`, `version`, `updatedAt`, `export`).
        public var changedFields: [String]
    }
    public var items: [Item]
    public var isApplied: Bool
}

/// `result.json` of save-workflows: counts and the workflows that changed.
public struct SaveSummary: Sendable, Codable {
    public struct Changed: Sendable, Codable {
        public var id: Int64
        public var name: String
        public var action: SavePlan.Action
        public var fields: [String]
    }
    public var isApplied: Bool
    public var counts: [String: Int]
    public var changed: [Changed]
}

/// Upserts the listed workflows and the good exports into the store in one transaction, then
/// refreshes the snapshots. Counts are true: `updated` means something actually differs.
public struct SaveWorkflowsStage: PipelineStage {
    public init() {}

    public func run(_ context: StageContext) async throws -> StageReport {
        let planFile = context.directory.appendingPathComponent("plan.json")
        let exportsDirectory = try context.directory(of: .downloadExports).appendingPathComponent("exports")
        var plan: SavePlan
        if let existing = try? CanonicalJSON.read(SavePlan.self, from: planFile) {
            plan = existing
        } else {
            plan = try makePlan(context)
            try CanonicalJSON.write(plan, to: planFile)
        }
        let store = context.services.store
        if !context.options.dryRun {
            try store.apply(plan, customer: context.customer, syncedAt: context.runStartedAt) { id in
                try String(contentsOf: exportsDirectory.appendingPathComponent(SafeIdentifier.workflowFileName(id)), encoding: .utf8)
            }
            plan.isApplied = true
            try CanonicalJSON.write(plan, to: planFile)
            try context.services.snapshots.refresh(customerSlug: context.customer.id, store: store)
        }
        var counts = ["created": 0, "updated": 0, "unchanged": 0]
        for item in plan.items { counts[item.action.rawValue, default: 0] += 1 }
        counts["exports_stored"] = plan.items.filter { $0.exportSHA256 != nil }.count
        // plan.json holds every workflow; result.json only what changed.
        try context.writeResult(SaveSummary(isApplied: plan.isApplied, counts: counts,
                                            changed: plan.items.filter { $0.action != .unchanged }.map {
                                                SaveSummary.Changed(id: $0.listed.id, name: $0.listed.name, action: $0.action, fields: $0.changedFields)
                                            }))
        return StageReport(counts: counts, status: context.options.dryRun ? "dry-run" : "committed")
    }

    private func makePlan(_ context: StageContext) throws -> SavePlan {
        let listing = try context.result(of: .fetchWorkflowPages, as: WorkflowListing.self)
        let downloads = try context.result(of: .downloadExports, as: DownloadExportsResult.self)
        let hashes = Dictionary(uniqueKeysWithValues: downloads.downloaded.map { ($0.id, $0.sha256) })
        let stored = try context.services.store.storedWorkflows(customerSlug: context.customer.id)
        let items = listing.workflows.map { listed -> SavePlan.Item in
            let sha = hashes[listed.id]
            guard let existing = stored[listed.id] else {
                return SavePlan.Item(listed: listed, action: .created, exportSHA256: sha, changedFields: [])
            }
            var changed: [String] = []
            if existing.name != listed.name { changed.append("name") }
            if existing.status != listed.status { changed.append("status") }
            if existing.version != listed.activeVersion { changed.append("version") }
            if existing.updatedOn != listed.updatedAt { changed.append("updatedAt") }
            if let sha, sha != existing.exportSHA256 { changed.append("export") }
            return SavePlan.Item(listed: listed, action: changed.isEmpty ? .unchanged : .updated, exportSHA256: sha, changedFields: changed)
        }
        return SavePlan(items: items, isApplied: false)
    }
}
