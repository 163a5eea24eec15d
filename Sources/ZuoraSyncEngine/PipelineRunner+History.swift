import Foundation
import ZuoraSyncStore

extension PipelineRunner {
    /// The `runs` table row of a customer's result.
    static func historyRow(_ result: CustomerResult, manifest: RunManifest, at now: Date) -> RunHistoryRow {
        let changes = RunChange.all(in: [result])
        let summary = result.summary
        return RunHistoryRow(
            runID: manifest.id, customerSlug: result.customer, pipeline: manifest.pipelineName, status: result.status.rawValue,
            isDryRun: manifest.options.dryRun, startedAt: result.startedAt ?? manifest.startedAt, finishedAt: result.finishedAt ?? now,
            workflows: summary?.workflows, tasks: summary?.tasks, created: changes.count { $0.action == .created },
            updated: changes.count { $0.action == .updated }, deleted: changes.count { $0.action == .deleted },
            warnings: summary?.warnings ?? 0, requests: summary?.requests.requests ?? 0, retries: summary?.requests.retries ?? 0,
            failedStage: result.failedStage, error: result.error)
    }
}
