import Foundation
import ZuoraSyncCore

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
                let commitURL = directory.appendingPathComponent(StageFiles.commit)
                var warnings: [String] = []
                var commit: StageCommit?
                do { commit = try PipelineRunner.readCommit(at: commitURL) } catch { warnings.append("unreadable: \(error)") }
                let status: String
                if let commit { status = commit.status.rawValue } else if customerResult?.failedStage == definition.id {
                    status = customerResult?.status == .interrupted ? "interrupted" : "failed"
                } else { status = "not run" }
                warnings += commit?.warnings ?? []
                if status == "failed" || status == "interrupted", let error = customerResult?.error { warnings.append("error: \(error)") }
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
