import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStore

/// Deletes the customer's workflows that a complete listing no longer returns. Before anything is
/// deleted, each workflow (row, export, tasks, linkages) is archived under
/// `trash/<run>/<customer>/<id>.json`, from where `trash restore` brings it back. An incomplete
/// listing deletes nothing; so does a deletion larger than the configured share or count, unless
/// the run allows it (`--allow-mass-delete`).
public struct CleanupObsolete: StageKind {
    public static let name = "cleanup-obsolete"
    public static var inputs: [any StageKind.Type] { [FetchWorkflowPages.self, SaveWorkflows.self] }

    public struct Settings: StageSettings {
        /// `max_delete_fraction`: refuse to delete more than this share. Default 0.5.
        public var maxDeleteFraction: Double
        /// `max_delete_count`: refuse to delete more than this many. Default 100.
        public var maxDeleteCount: Int

        public init(reading settings: some SettingsReader) throws {
            maxDeleteFraction = try settings.double("max_delete_fraction", default: 0.5, range: 0...1)
            maxDeleteCount = try settings.int("max_delete_count", default: 100, range: 0...1_000_000)
        }
    }

    /// `plan.json` and `result.json`: what was (or would be) deleted, or why nothing was.
    public struct Result: Sendable, Codable {
        public struct Entry: Sendable, Codable {
            public var id: Int64
            public var name: String
        }
        public var obsolete: [Entry]
        public var storedCount: Int
        /// Why the cleanup did not delete (incomplete listing, mass-delete guard, dry run).
        public var skippedReason: String?
        public var isApplied: Bool
    }

    public init() {}

    public func run(_ context: StageContext, settings: Settings) async throws -> StageOutput<Result> {
        let planFile = context.file(StageFiles.plan)
        let store = context.services.store
        var plan: Result
        if FileManager.default.fileExists(atPath: planFile.path) {
            // An interrupted attempt decided already (and may have deleted some): finish that plan.
            plan = try StageResultFile.read(Result.self, formatVersion: Self.resultFormatVersion, in: context.directory, name: StageFiles.plan)
        } else {
            plan = try makePlan(context, settings: settings)
            try CanonicalJSON.write(plan, formatVersion: Self.resultFormatVersion, to: planFile)
        }
        var warnings: [String] = []
        if let reason = plan.skippedReason {
            if reason != Self.dryRunReason { warnings.append("cleanup skipped: \(reason)") }
        } else if !plan.isApplied {
            if !plan.obsolete.isEmpty {
                let trashDirectory = context.services.dataDirectory.trash
                    .appendingPathComponent(context.runID).appendingPathComponent(context.customer.id)
                let ids = plan.obsolete.map(\.id)
                // Archived and recorded in the history before anything is deleted; a resumed attempt
                // keeps the archives and history rows it wrote for rows already gone.
                let archives = try store.archiveWorkflows(customerSlug: context.customer.id, zuoraIDs: ids)
                for archive in archives {
                    guard let id = archive.workflow["zuora_id"]?.intValue else { continue }
                    try CanonicalJSON.write(archive, to: trashDirectory.appendingPathComponent(SafeIdentifier.workflowFileName(id)))
                }
                try store.recordChanges(archives.compactMap { archive in
                    guard let id = archive.workflow["zuora_id"]?.intValue else { return nil }
                    return WorkflowChangeRow(runID: context.runID, customerSlug: context.customer.id, zuoraID: id,
                                             name: archive.workflow["name"]?.stringValue ?? "", action: "deleted", fields: [],
                                             exportSHA256Before: archive.workflow["export_sha256"]?.stringValue, exportSHA256After: nil,
                                             changedAt: context.runStartedAt)
                })
                try store.deleteWorkflows(customerSlug: context.customer.id, zuoraIDs: ids)
                try context.services.snapshots.refresh(customerSlug: context.customer.id, store: store)
            }
            plan.isApplied = true
            try CanonicalJSON.write(plan, formatVersion: Self.resultFormatVersion, to: planFile)
        }
        // The customer now holds exactly the listing: remembered, so that the next run of the same
        // listing compares nothing (`Store.listingMatch`). The store checks what it can first.
        let saved = try context.result(of: SaveWorkflows.self)
        if plan.isApplied, let listingSHA256 = saved.listingSHA256, try store.listingMatch(customerSlug: context.customer.id)?.listingSHA256 != listingSHA256 {
            let listed = try context.result(of: FetchWorkflowPages.self).workflows.count
            try store.recordListingMatch(customerSlug: context.customer.id, listingSHA256: listingSHA256, listedCount: listed)
        }
        return StageOutput(plan, warnings: warnings,
                           status: plan.isApplied ? .committed : (context.options.dryRun ? .dryRun : .skipped))
    }

    private func makePlan(_ context: StageContext, settings: Settings) throws -> Result {
        let listing = try context.result(of: FetchWorkflowPages.self)
        let saved = try context.result(of: SaveWorkflows.self)
        let store = context.services.store
        if saved.storeMatchedListing, let listingSHA256 = saved.listingSHA256,
           try store.listingMatch(customerSlug: context.customer.id)?.listingSHA256 == listingSHA256 {
            // The store holds exactly this listing (save-workflows found it so and nothing was
            // written since): nothing is obsolete, and the stored rows need not be read.
            var plan = Result(obsolete: [], storedCount: listing.workflows.count, skippedReason: nil, isApplied: false)
            plan.skippedReason = refusal(listing: listing, plan: plan, context: context, settings: settings)
            if plan.skippedReason == nil, context.options.dryRun { plan.skippedReason = Self.dryRunReason }
            return plan
        }
        let stored = try store.storedWorkflows(customerSlug: context.customer.id)
        let listed = Set(listing.workflows.map(\.id))
        let obsolete = stored.values.filter { !listed.contains($0.zuoraID) }.sorted { $0.zuoraID < $1.zuoraID }
            .map { Result.Entry(id: $0.zuoraID, name: $0.name) }
        // What the customer had before this run: save-workflows has already inserted the new ids.
        let before = saved.isApplied ? max(0, stored.count - saved.created) : stored.count
        var plan = Result(obsolete: obsolete, storedCount: before, skippedReason: nil, isApplied: false)
        plan.skippedReason = refusal(listing: listing, plan: plan, context: context, settings: settings)
        if plan.skippedReason == nil, context.options.dryRun { plan.skippedReason = Self.dryRunReason }
        return plan
    }

    public static func counts(of result: Result) -> [String: Int] {
        ["obsolete": result.obsolete.count, "deleted": result.isApplied ? result.obsolete.count : 0]
    }

    /// The reason a dry run records instead of deleting.
    static let dryRunReason = "dry run"

    public static func summarize(_ result: Result, into summary: inout CustomerSummary) {
        // A dry run shows what it would delete; a refused cleanup shows 0 (its warning says why).
        let isDryRun = !result.isApplied && result.skippedReason == dryRunReason
        let shown = result.isApplied || isDryRun ? result.obsolete.count : 0
        summary.set("deleted", "\(shown)", order: 30)
        if result.isApplied || isDryRun { summary.changes += result.obsolete.map { "- \($0.id) \($0.name)" } }
    }

    private func refusal(listing: FetchWorkflowPages.Result, plan: Result, context: StageContext, settings: Settings) -> String? {
        if !listing.isComplete {
            return "the listing is not proven complete (\(listing.incompleteReason ?? "unknown reason")); nothing is deleted"
        }
        guard !plan.obsolete.isEmpty, !context.options.allowMassDelete else { return nil }
        let kept = plan.storedCount - plan.obsolete.count
        if listing.workflows.isEmpty {
            return "Zuora listed no workflows but \(plan.storedCount) are stored; that looks like a broken listing, not \(plan.storedCount) deletions. Rerun with --allow-mass-delete if they really are gone"
        }
        if plan.storedCount >= 4, kept * 10 < plan.storedCount {
            return "the listing shares \(kept) of the \(plan.storedCount) stored workflows (almost nothing): that looks like another tenant or a broken listing, not \(plan.obsolete.count) deletions. Rerun with --allow-mass-delete if they really are gone"
        }
        let share = Double(plan.obsolete.count) / Double(max(1, plan.storedCount))
        if share > settings.maxDeleteFraction {
            return "would delete \(plan.obsolete.count) of \(plan.storedCount) workflows (\(Int(share * 100)) %, above max_delete_fraction \(settings.maxDeleteFraction)); rerun with --allow-mass-delete if that is right"
        }
        if plan.obsolete.count > settings.maxDeleteCount {
            return "would delete \(plan.obsolete.count) workflows, above max_delete_count \(settings.maxDeleteCount); rerun with --allow-mass-delete if that is right"
        }
        return nil
    }
}
