import Foundation

/// Replaces the tasks and linkages of every workflow whose export was stored in this run, from
/// that export, one transaction per workflow. Workflows whose export failed keep their tasks.
public struct ExtractTasksStage: PipelineStage {
    public init() {}

    public func run(_ context: StageContext) async throws -> StageReport {
        let plan = try CanonicalJSON.read(SavePlan.self, from: try context.directory(of: .saveWorkflows).appendingPathComponent("plan.json"))
        let targets = Set(plan.items.filter { $0.exportSHA256 != nil }.map(\.listed.id))
        let exportsDirectory = try context.directory(of: .downloadExports).appendingPathComponent("exports")
        var tasks = 0, linkages = 0
        var warnings: [String] = []
        var perWorkflow: [String: Int] = [:]
        var batch: [(zuoraID: Int64, extraction: TaskExtraction)] = []
        // Batches of 200 workflows per transaction: one commit instead of one per workflow, bounded memory.
        func flush() throws {
            if !context.options.dryRun, !batch.isEmpty {
                try context.services.store.replaceTasks(customerSlug: context.customer.id, batch: batch)
            }
            batch.removeAll(keepingCapacity: true)
        }
        for id in targets.sorted() {
            let data = try Data(contentsOf: exportsDirectory.appendingPathComponent(SafeIdentifier.workflowFileName(id)))
            let extraction = TaskExtractor.extract(from: try JSONValue.parse(data))
            warnings += extraction.warnings.map { "workflow \(id): \($0)" }
            batch.append((id, extraction))
            if batch.count >= 200 { try flush() }
            tasks += extraction.tasks.count
            linkages += extraction.linkages.count
            perWorkflow[String(id)] = extraction.tasks.count
        }
        try flush()
        try context.writeResult(perWorkflow)
        return StageReport(counts: ["workflows": targets.count, "tasks": tasks, "linkages": linkages], warnings: warnings,
                           status: context.options.dryRun ? "dry-run" : "committed")
    }
}
