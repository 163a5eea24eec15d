import Foundation
import ZuoraSyncCore

/// Text for people: the run summary table, run listings and stage inspection.
public enum RunSummaryFormatter {
    /// A plain text table with left-aligned columns.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    public static func duration(milliseconds: Int) -> String {
        milliseconds < 1000 ? "\(milliseconds) ms" : String(format: "%.1f s", Double(milliseconds) / 1000)
    }

    /// The summary printed at the end of `run` and `resume`.
    public static func summary(_ manifest: RunManifest, dataDirectory: DataDirectory, store: StoreLocation = .sqlite(path: nil)) -> String {
        let total = manifest.finishedAt.map { Int($0.timeIntervalSince(manifest.startedAt) * 1000) } ?? 0
        var text = "Run \(manifest.id) (\(manifest.pipelineName)) \(manifest.status.rawValue) in \(duration(milliseconds: total))"
        if manifest.options.dryRun { text += " — DRY RUN, nothing was changed" }
        text += "\n\n"
        // Stage columns in their declared order, as the stages of these customers contributed them.
        var stageColumns: [(header: String, order: Int)] = []
        for column in manifest.results.flatMap({ $0.summary?.columns ?? [] }) where !stageColumns.contains(where: { $0.header == column.header }) {
            stageColumns.append((column.header, column.order))
        }
        stageColumns.sort { ($0.order, $0.header) < ($1.order, $1.header) }
        let rows = manifest.results.map { result -> [String] in
            let s = result.summary
            let time = zip(result.startedAt.map { [$0] } ?? [], result.finishedAt.map { [$0] } ?? [])
                .map { duration(milliseconds: Int($1.timeIntervalSince($0) * 1000)) }.first ?? "-"
            return [result.customer, result.status.rawValue, s.map { "\($0.workflows)" } ?? "-", s.map { "\($0.tasks)" } ?? "-"]
                + stageColumns.map { column in s?.column(column.header) ?? "-" }
                + [s.map { "\($0.warnings)" } ?? "-", time]
        }
        text += table(["customer", "status", "workflows", "tasks"] + stageColumns.map(\.header) + ["warnings", "time"], rows)
        text += "\n"
        for result in manifest.results where result.status == .interrupted {
            text += "\n\(result.customer) was interrupted\(result.failedStage.map { " at \($0)" } ?? ""): `zuora-sync resume \(manifest.id)` finishes it\n"
        }
        for result in manifest.results where result.status == .failed {
            text += "\n\(result.customer) failed"
            if let stage = result.failedStage { text += " at \(stage)" }
            text += ": \(result.error ?? "unknown error")"
            text += result.isRetryable == false ? " (not retryable)\n" : " (retryable: `zuora-sync resume \(manifest.id)`)\n"
        }
        let changes = manifest.results.flatMap { result in (result.summary?.changes ?? []).map { "  \(result.customer): \($0)" } }
        if !changes.isEmpty {
            text += manifest.options.dryRun ? "\nWould change (dry run, \(changes.count)):\n" : "\nChanged in this run (\(changes.count)):\n"
            text += changes.prefix(20).joined(separator: "\n") + "\n"
            if changes.count > 20 { text += "  … and \(changes.count - 20) more (zuora-sync changes \(manifest.id))\n" }
        }
        let root = dataDirectory.root.path
        let query: String
        switch store {
        case .sqlite(let path): query = "sqlite3 \(path ?? root + "/store.sqlite")"
        case .postgresql(let location): query = "psql '\(location.displayURL)' -c"
        }
        text += """

            Where to look next:
              zuora-sync inspect \(manifest.id)          stages, counts and warnings per customer
              \(root)/runs/\(manifest.id)/     every stage's JSON output
              \(root)/snapshots/<customer>/            canonical exports (diff -r, git)
              \(query) 'SELECT action_type, COUNT(*) FROM tasks GROUP BY 1'

            """
        return text
    }

    /// One line per run, newest first.
    public static func runs(_ manifests: [RunManifest]) -> String {
        table(["run", "pipeline", "status", "customers", "passes", "started", "duration"], manifests.map { manifest in
            let elapsed = manifest.finishedAt.map { duration(milliseconds: Int($0.timeIntervalSince(manifest.startedAt) * 1000)) } ?? "-"
            return [manifest.id, manifest.pipelineName, manifest.observedStatus().rawValue + (manifest.options.dryRun ? " (dry run)" : ""),
                    manifest.customers.joined(separator: ","), "\(manifest.passes)", Timestamp.format(manifest.startedAt), elapsed]
        })
    }
}

