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
        for id in targets.sorted() {
            let data = try Data(contentsOf: exportsDirectory.appendingPathComponent(SafeIdentifier.workflowFileName(id)))
            let extraction = TaskExtractor.extract(from: try JSONValue.parse(data))
            warnings += extraction.warnings.map { "workflow \(id): \($0)" }
            if !context.options.dryRun {
                try context.services.store.replaceTasks(customerSlug: context.customer.id, zuoraID: id, extraction: extraction)
            }
            tasks += extraction.tasks.count
            linkages += extraction.linkages.count
            perWorkflow[String(id)] = extraction.tasks.count
        }
        try context.writeResult(perWorkflow)
        return StageReport(counts: ["workflows": targets.count, "tasks": tasks, "linkages": linkages], warnings: warnings,
                           status: context.options.dryRun ? "dry-run" : "committed")
    }
}
