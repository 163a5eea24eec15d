import Foundation

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
    public static func summary(_ manifest: RunManifest, dataDirectory: DataDirectory) -> String {
        let total = manifest.finishedAt.map { Int($0.timeIntervalSince(manifest.startedAt) * 1000) } ?? 0
        var text = "Run \(manifest.id) (\(manifest.pipelineName)) \(manifest.status.rawValue) in \(duration(milliseconds: total))"
        if manifest.options.dryRun { text += " — DRY RUN, nothing was changed" }
        text += "\n\n"
        let rows = manifest.results.map { result -> [String] in
            let s = result.summary
            let time = zip(result.startedAt.map { [$0] } ?? [], result.finishedAt.map { [$0] } ?? [])
                .map { duration(milliseconds: Int($1.timeIntervalSince($0) * 1000)) }.first ?? "-"
            return [result.customer, result.status.rawValue, s.map { "\($0.workflows)" } ?? "-", s.map { "\($0.tasks)" } ?? "-",
                    s.map { "\($0.created)" } ?? "-", s.map { "\($0.updated)" } ?? "-", s.map { "\($0.deleted)" } ?? "-",
                    s.map { "\($0.exportsDownloaded)/\($0.exportsSkipped)/\($0.exportsFailed)" } ?? "-",
                    s.map { "\($0.warnings)" } ?? "-", time]
        }
        text += table(["customer", "status", "workflows", "tasks", "created", "updated", "deleted", "exports new/same/failed", "warnings", "time"], rows)
        text += "\n"
        for result in manifest.results where result.status == .failed {
            text += "\n\(result.customer) failed"
            if let stage = result.failedStage { text += " at \(stage)" }
            text += ": \(result.error ?? "unknown error")"
            text += result.isRetryable == false ? " (not retryable)\n" : " (retryable: `zuora-sync resume \(manifest.id)`)\n"
        }
        let changes = manifest.results.flatMap { result in (result.summary?.changes ?? []).map { "  \(result.customer): \($0)" } }
        if !changes.isEmpty {
            text += "\nChanged in this run (\(changes.count)):\n"
            text += changes.prefix(20).joined(separator: "\n") + "\n"
            if changes.count > 20 { text += "  … and \(changes.count - 20) more (zuora-sync inspect \(manifest.id))\n" }
        }
        let root = dataDirectory.root.path
        text += """

            Where to look next:
              zuora-sync inspect \(manifest.id)          stages, counts and warnings per customer
              \(root)/runs/\(manifest.id)/     every stage's JSON output
              \(root)/snapshots/<customer>/            canonical exports (diff -r, git)
              sqlite3 \(root)/store.sqlite 'SELECT action_type, COUNT(*) FROM tasks GROUP BY 1'

            """
        return text
    }

    /// One line per run, newest first.
    public static func runs(_ manifests: [RunManifest]) -> String {
        table(["run", "pipeline", "status", "customers", "passes", "started", "duration"], manifests.map { manifest in
            let elapsed = manifest.finishedAt.map { duration(milliseconds: Int($0.timeIntervalSince(manifest.startedAt) * 1000)) } ?? "-"
            return [manifest.id, manifest.pipelineName, manifest.status.rawValue + (manifest.options.dryRun ? " (dry run)" : ""),
                    manifest.customers.joined(separator: ","), "\(manifest.passes)", Timestamp.format(manifest.startedAt), elapsed]
        })
    }
}

/// What `inspect` shows of one customer's stage.
public struct StageInspection: Sendable, Codable {
    public var customer: String
    public var stage: String
    public var status: String
    public var counts: [String: Int]
    public var warnings: [String]
    public var durationMilliseconds: Int?
    public var directory: String
    public var files: [String]

    /// Reads the stage directories of a run.
    public static func collect(run manifest: RunManifest, dataDirectory: DataDirectory, customer: String?, stage: String?) -> [StageInspection] {
        var result: [StageInspection] = []
        for slug in manifest.customers where customer == nil || customer == slug {
            let customerResult = manifest.result(for: slug)
            for (index, definition) in manifest.pipeline.stages.enumerated() where stage == nil || stage == definition.id {
                let directory = dataDirectory.stage(run: manifest.id, customer: slug, index: index, stageID: definition.id)
                let commit = try? CanonicalJSON.read(StageCommit.self, from: directory.appendingPathComponent("commit.json"))
                let status: String
                if let commit { status = commit.status } else if customerResult?.failedStage == definition.id { status = "failed" } else { status = "not run" }
                var warnings = commit?.warnings ?? []
                if status == "failed", let error = customerResult?.error { warnings.append("error: \(error)") }
                let files = ((try? FileManager.default.subpathsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
                result.append(StageInspection(customer: slug, stage: definition.id, status: status, counts: commit?.counts ?? [:],
                                              warnings: warnings, durationMilliseconds: commit?.durationMilliseconds,
                                              directory: directory.path, files: files))
            }
        }
        return result
    }

    public static func render(_ inspections: [StageInspection]) -> String {
        var text = ""
        var lastCustomer = ""
        for item in inspections {
            if item.customer != lastCustomer {
                text += "\n\(item.customer)\n"
                lastCustomer = item.customer
            }
            let counts = item.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let time = item.durationMilliseconds.map { RunSummaryFormatter.duration(milliseconds: $0) } ?? "-"
            text += "  \(item.stage.padding(toLength: 22, withPad: " ", startingAt: 0)) \(item.status.padding(toLength: 10, withPad: " ", startingAt: 0)) \(time.padding(toLength: 8, withPad: " ", startingAt: 0)) \(counts)\n"
            let fileCount = item.files.count
            if fileCount > 0 { text += "      \(item.directory) (\(fileCount) files)\n" }
            for warning in item.warnings.prefix(10) { text += "      ! \(warning)\n" }
            if item.warnings.count > 10 { text += "      ! … \(item.warnings.count - 10) more (--json)\n" }
        }
        return text
    }
}
