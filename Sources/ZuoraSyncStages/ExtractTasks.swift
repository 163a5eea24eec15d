import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStore

/// Replaces the tasks and linkages of every workflow whose tasks were not extracted from its
/// stored export (stored in this run, or by an interrupted one), from that export, in batches of
/// 200 workflows per transaction. Workflows whose export failed keep their tasks.
public struct ExtractTasks: StageKind {
    public static let name = "extract-tasks"
    public static var inputs: [any StageKind.Type] { [SaveWorkflows.self, DownloadExports.self] }
    /// Running beside save-workflows, it extracts each batch of exports as soon as it is stored.
    public static var streamsFrom: (any StageKind.Type)? { SaveWorkflows.self }


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

    /// How many stored workflows may wait for their tasks (taken in batches of at most 400, and
    /// acknowledged once written): past that, save-workflows waits. Their tasks wait meanwhile
    /// in download-exports' hand-off, which drops the oldest past its limit (those are read back
    /// from the store and parsed again).
    public static let storedHeldAhead = 400

    public func run(_ context: StageContext, settings: NoSettings) async throws -> StageOutput<Result> {
        var warnings: [String] = []
        // The workflows this attempt extracted (the counts come from the store, below).
        var extractedHere = Set<Int64>()
        func note(_ id: Int64, _ extraction: TaskExtraction) {
            warnings += extraction.warnings.map { "workflow \(id): \($0)" }
            extractedHere.insert(id)
        }
        let store = context.services.store
        let slug = context.customer.id
        // The tasks of stored exports, read from the store and parsed.
        @Sendable func extracted(_ slice: Set<Int64>) throws -> [(zuoraID: Int64, extraction: TaskExtraction)] {
            try store.exports(customerSlug: slug, zuoraIDs: slice).map { export in
                try Task.checkCancellation()
                return (export.zuoraID, TaskExtractor.extract(from: try JSONValue.parse(Data(export.text.utf8))))
            }
        }
        // Beside save-workflows: what it stored, as it comes (at least 100 workflows a batch while
        // more are coming, fewer after a 50 ms wait; at most 400). download-exports parsed these
        // exports already and hands over their tasks; those it dropped (or never had) are read
        // from the store.
        // A dry run stored nothing: it starts once save-workflows is committed.
        if let stored = context.partials(of: SaveWorkflows.self, holdingAtMost: Self.storedHeldAhead) {
            let handOff = context.options.dryRun ? nil : context.shared(ExtractionHandOff.self) { ExtractionHandOff() }
            for try await exports in stored.batched(min: 100, max: 400, maxWait: .milliseconds(50)) where !context.options.dryRun {
                try Task.checkCancellation()
                // The latest export of each workflow (one stored twice in a batch counts once).
                let latest = Dictionary(exports.map { ($0.id, $0.sha256) }, uniquingKeysWith: { _, last in last })
                var batch: [(zuoraID: Int64, extraction: TaskExtraction)] = []
                var fromStore = Set<Int64>()
                for (id, sha256) in latest {
                    if let sha256, let extraction = handOff?.take(id: id, sha256: sha256) {
                        batch.append((id, extraction))
                    } else {
                        fromStore.insert(id)
                    }
                }
                if !fromStore.isEmpty { batch += try extracted(fromStore) }
                batch.sort { $0.zuoraID < $1.zuoraID }
                for (id, extraction) in batch { note(id, extraction) }
                try store.replaceTasks(customerSlug: slug, batch: batch)
                context.acknowledge(exports.count, of: SaveWorkflows.self)
            }
            if let handOff {
                let usage = handOff.usage
                context.logger.debug("tasks handed over by download-exports: \(usage.taken) exports; read back from the store: \(extractedHere.count - usage.taken)")
                handOff.removeAll()
            }
        }
        if context.options.dryRun {
            // Nothing was stored: count what the exports of this run would give.
            let downloads = try context.directory(of: DownloadExports.self)
            var tasks = 0, linkages = 0
            var perWorkflow: [String: Int] = [:]
            for id in try context.result(of: DownloadExports.self).downloaded.map(\.id).sorted() {
                try Task.checkCancellation()
                let extraction = TaskExtractor.extract(from: try JSONValue.parse(Data(contentsOf: DownloadExports.exportFile(id, in: downloads))))
                note(id, extraction)
                tasks += extraction.tasks.count
                linkages += extraction.linkages.count
                perWorkflow[String(id)] = extraction.tasks.count
            }
            return StageOutput(Result(workflows: perWorkflow.count, tasks: tasks, linkages: linkages, tasksByWorkflow: perWorkflow),
                               warnings: warnings, status: .dryRun)
        }
        // Every workflow whose tasks do not come from its stored export, whichever run stored it;
        // 200 workflows per transaction (one commit instead of one per workflow, bounded memory).
        // The next batch is read and parsed while this one is written (two batches in memory).
        // A store proven to hold a listing, with nothing written since, has no stale tasks.
        let targets = try store.listingMatch(customerSlug: slug) != nil ? [] : try store.workflowsWithStaleTasks(customerSlug: slug)
        let batches = stride(from: 0, to: targets.count, by: 200).map { Set(targets[$0..<min($0 + 200, targets.count)]) }
        var next: Task<[(zuoraID: Int64, extraction: TaskExtraction)], any Error>? = batches.first.map { first in Task { try extracted(first) } }
        defer { next?.cancel() }
        for index in batches.indices {
            try Task.checkCancellation()
            // The prefetch is not a child task: an interrupt is passed on to it by hand.
            let pending = next!
            let batch = try await withTaskCancellationHandler { try await pending.value } onCancel: { pending.cancel() }
            try Task.checkCancellation()
            next = index + 1 < batches.count ? Task { [slice = batches[index + 1]] in try extracted(slice) } : nil
            for (id, extraction) in batch { note(id, extraction) }
            try store.replaceTasks(customerSlug: slug, batch: batch)
        }
        // The counts are the store's, for every workflow whose tasks this run extracted: those whose
        // export it stored (its change records, an interrupted attempt's included) and those this
        // attempt extracted. A resumed stage reports what an uninterrupted one reports.
        var extractedInRun = extractedHere
        try store.forEachChange(customerSlug: slug, runID: context.runID) { change in
            if change.exportSHA256After != nil, change.exportSHA256After != change.exportSHA256Before { extractedInRun.insert(change.zuoraID) }
        }
        let stored = try store.taskCounts(customerSlug: slug, zuoraIDs: extractedInRun)
        return StageOutput(Result(workflows: stored.count, tasks: stored.values.reduce(0) { $0 + $1.tasks },
                                  linkages: stored.values.reduce(0) { $0 + $1.linkages },
                                  tasksByWorkflow: Dictionary(uniqueKeysWithValues: stored.map { (String($0.key), $0.value.tasks) })),
                           warnings: warnings)
    }

    public static func counts(of result: Result) -> [String: Int] {
        ["workflows": result.workflows, "tasks": result.tasks, "linkages": result.linkages]
    }
}
