import Foundation

/// `plan.json` of cleanup-obsolete: what was (or would be) deleted, or why nothing was.
public struct CleanupPlan: Sendable, Codable {
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

/// Deletes the customer's workflows that a complete listing no longer returns. Before anything is
/// deleted, each workflow (row, export, tasks, linkages) is archived under
/// `trash/<run>/<customer>/<id>.json`, from where `trash restore` brings it back. An incomplete
/// listing deletes nothing; so does a deletion larger than the configured share or count, unless
/// the run allows it (`--allow-mass-delete`).
public struct CleanupObsoleteStage: PipelineStage {
    public init() {}

    public func run(_ context: StageContext) async throws -> StageReport {
        let listing = try context.result(of: .fetchWorkflowPages, as: WorkflowListing.self)
        let store = context.services.store
        let stored = try store.storedWorkflows(customerSlug: context.customer.id)
        let listed = Set(listing.workflows.map(\.id))
        let obsolete = stored.values.filter { !listed.contains($0.zuoraID) }.sorted { $0.zuoraID < $1.zuoraID }
            .map { CleanupPlan.Entry(id: $0.zuoraID, name: $0.name) }
        var plan = CleanupPlan(obsolete: obsolete, storedCount: stored.count, skippedReason: nil, isApplied: false)
        plan.skippedReason = refusal(listing: listing, plan: plan, context: context)
        var warnings: [String] = []
        if let reason = plan.skippedReason {
            warnings.append("cleanup skipped: \(reason)")
        } else if context.options.dryRun {
            plan.skippedReason = "dry run"
        } else if !obsolete.isEmpty {
            let trashDirectory = context.services.dataDirectory.trash
                .appendingPathComponent(context.runID).appendingPathComponent(context.customer.id)
            let ids = obsolete.map(\.id)
            let archives = try store.archiveWorkflows(customerSlug: context.customer.id, zuoraIDs: ids)
            for archive in archives {
                guard let id = archive.workflow["zuora_id"]?.intValue else { continue }
                try CanonicalJSON.write(archive, to: trashDirectory.appendingPathComponent(SafeIdentifier.workflowFileName(id)))
            }
            try store.deleteWorkflows(customerSlug: context.customer.id, zuoraIDs: ids)
            plan.isApplied = true
            try context.services.snapshots.refresh(customerSlug: context.customer.id, store: store)
        } else {
            plan.isApplied = true
        }
        try CanonicalJSON.write(plan, to: context.directory.appendingPathComponent("plan.json"))
        try context.writeResult(plan)
        let deleted = plan.isApplied ? obsolete.count : 0
        return StageReport(counts: ["obsolete": obsolete.count, "deleted": deleted], warnings: warnings,
                           status: plan.isApplied ? "committed" : (context.options.dryRun ? "dry-run" : "skipped"))
    }

    private func refusal(listing: WorkflowListing, plan: CleanupPlan, context: StageContext) -> String? {
        if !listing.isComplete {
            return "the listing is not proven complete (\(listing.incompleteReason ?? "unknown reason")); nothing is deleted"
        }
        guard !plan.obsolete.isEmpty, !context.options.allowMassDelete else { return nil }
        if listing.workflows.isEmpty {
            return "Zuora listed no workflows but \(plan.storedCount) are stored; that looks like a broken listing, not \(plan.storedCount) deletions. Rerun with --allow-mass-delete if they really are gone"
        }
        let share = Double(plan.obsolete.count) / Double(max(1, plan.storedCount))
        if share > context.definition.maxDeleteFraction {
            return "would delete \(plan.obsolete.count) of \(plan.storedCount) workflows (\(Int(share * 100)) %, above max_delete_fraction \(context.definition.maxDeleteFraction)); rerun with --allow-mass-delete if that is right"
        }
        if plan.obsolete.count > context.definition.maxDeleteCount {
            return "would delete \(plan.obsolete.count) workflows, above max_delete_count \(context.definition.maxDeleteCount); rerun with --allow-mass-delete if that is right"
        }
        return nil
    }
}
