import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStore

/// Replaces the tasks and linkages of every workflow whose export was stored in this run, from
/// that export, in batches of 200 workflows per transaction. Workflows whose export failed keep
/// their tasks.
public struct ExtractTasks: StageKind {
    public static let name = "extract-tasks"
    public static var inputs: [any StageKind.Type] { [SaveWorkflows.self, DownloadExports.self] }

    /// `result.json`.
    public struct Result: Sendable, Codable {
        public var workflows: Int
        public var tasks: Int
        public var linkages: Int
        /// Tasks per workflow id.
        public var tasksByWorkflow: [String: Int]

        init(workflows: Int, tasks: Int, linkages: Int, tasksByWorkflow: [String: Int]) {
            self.workflows = workflows
            self.tasks = tasks
            self.linkages = linkages
            self.tasksByWorkflow = tasksByWorkflow
        }

        /// Format 1 was the per-workflow dictionary alone.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let tasksByWorkflow = try c.decodeIfPresent([String: Int].self, forKey: .tasksByWorkflow) {
                self.tasksByWorkflow = tasksByWorkflow
                workflows = try c.decode(Int.self, forKey: .workflows)
                tasks = try c.decode(Int.self, forKey: .tasks)
                linkages = try c.decode(Int.self, forKey: .linkages)
            } else {
                let legacy = try [String: Int](from: decoder).filter { Int64($0.key) != nil }
                tasksByWorkflow = legacy
                workflows = legacy.count
                tasks = legacy.values.reduce(0, +)
                linkages = 0
            }
        }
    }

    public static let resultFormatVersion = 2

    public init() {}

    public func run(_ context: StageContext, settings: NoSettings) async throws -> StageOutput<Result> {
        let plan = try CanonicalJSON.readVersioned(SaveWorkflows.Plan.self, from: context.directory(of: SaveWorkflows.self).appendingPathComponent(StageFiles.plan))
        let targets = Set(plan.items.filter { $0.exportSHA256 != nil }.map(\.listed.id))
        let downloads = try context.directory(of: DownloadExports.self)
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
            try Task.checkCancellation()
            let data = try Data(contentsOf: DownloadExports.exportFile(id, in: downloads))
            let extraction = TaskExtractor.extract(from: try JSONValue.parse(data))
            warnings += extraction.warnings.map { "workflow \(id): \($0)" }
            batch.append((id, extraction))
            if batch.count >= 200 { try flush() }
            tasks += extraction.tasks.count
            linkages += extraction.linkages.count
            perWorkflow[String(id)] = extraction.tasks.count
        }
        try flush()
        return StageOutput(Result(workflows: targets.count, tasks: tasks, linkages: linkages, tasksByWorkflow: perWorkflow),
                           warnings: warnings, status: context.options.dryRun ? .dryRun : .committed)
    }

    public static func counts(of result: Result) -> [String: Int] {
        ["workflows": result.workflows, "tasks": result.tasks, "linkages": result.linkages]
    }
}
