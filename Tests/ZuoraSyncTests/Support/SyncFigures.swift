import Foundation
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncStages

/// One customer's figures from a run, read from each stage's typed result (what a test checks).
struct SyncFigures {
    var listed = 0
    var created = 0
    var updated = 0
    var unchanged = 0
    var deleted = 0
    var exportsDownloaded = 0
    var exportsSkipped = 0
    var exportsFailed = 0
    var workflows = 0
    var tasks = 0
    var changes: [String] = []
    /// save-workflows found the store proven to hold this listing and compared nothing.
    var storeMatchedListing = false
    /// Workflows whose tasks extract-tasks (re)wrote.
    var tasksExtractedFrom = 0
}

/// Where each run a test started lives, so a manifest can find its stage results.
enum RunLocations {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var directories: [String: DataDirectory] = [:]

    static func record(_ runID: String, _ directory: DataDirectory) { lock.withLock { directories[runID] = directory } }
    static func directory(of runID: String) -> DataDirectory? { lock.withLock { directories[runID] } }
}

extension RunManifest {
    /// The figures of one customer of this run; nil when the customer did not finish.
    func figures(_ customer: String) -> SyncFigures? {
        guard let summary = result(for: customer)?.summary, let data = RunLocations.directory(of: id) else { return nil }
        var figures = SyncFigures(workflows: summary.workflows, tasks: summary.tasks, changes: summary.changes)
        func directory<K: StageKind>(_ kind: K.Type) -> URL? {
            guard let index = pipeline.stages.firstIndex(where: { $0.kind == K.name }) else { return nil }
            return data.stage(run: id, customer: customer, index: index, stageID: pipeline.stages[index].id)
        }
        func read<K: StageKind>(_ kind: K.Type) -> K.Result? {
            directory(kind).flatMap { try? StageResultFile.read(K.Result.self, formatVersion: K.resultFormatVersion, in: $0) }
        }
        if let listing = read(FetchWorkflowPages.self) { figures.listed = listing.workflows.count }
        if let downloads = read(DownloadExports.self) {
            figures.exportsDownloaded = downloads.downloaded.count
            figures.exportsSkipped = downloads.unchanged.count
            figures.exportsFailed = downloads.failed.count
        }
        if let save = read(SaveWorkflows.self) {
            figures.created = save.created
            figures.updated = save.updated
            figures.unchanged = save.unchanged
            figures.storeMatchedListing = save.storeMatchedListing
        }
        if let extraction = read(ExtractTasks.self) { figures.tasksExtractedFrom = extraction.workflows }
        if let cleanup = read(CleanupObsolete.self), cleanup.isApplied { figures.deleted = cleanup.obsolete.count }
        return figures
    }
}
