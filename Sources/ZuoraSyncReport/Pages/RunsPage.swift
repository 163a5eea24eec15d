import Foundation
import Plot
import ZuoraSyncCore
import ZuoraSyncEngine

/// `runs.html`: each run with its customers, and per customer its stages' status, counts,
/// warnings and timings.
struct RunsPage {
    var manifests: [RunManifest]
    var dataDirectory: DataDirectory

    func render(generatedAt: String) -> String {
        var body: [PageNode] = [Markup.element("h1", Markup.text("Runs"))]
        if manifests.isEmpty { body.append(Markup.element("p", Markup.cls("muted"), Markup.text("No runs yet."))) }
        for manifest in manifests {
            let elapsed = manifest.finishedAt.map { RunSummaryFormatter.duration(milliseconds: Int($0.timeIntervalSince(manifest.startedAt) * 1000)) } ?? "-"
            body.append(Markup.element("h2", Markup.attribute("id", manifest.id), Markup.text("\(manifest.id) "),
                                       Markup.badge(manifest.observedStatus().rawValue)))
            body.append(Markup.element("p", Markup.cls("muted"),
                                       Markup.text("\(manifest.pipelineName) · started \(Timestamp.format(manifest.startedAt)) · \(elapsed) · pass \(manifest.passes)"
                                                   + (manifest.options.dryRun ? " · dry run" : "") + (manifest.options.full ? " · full" : ""))))
            body.append(Markup.table(headers: ["customer", "status", "workflows", "tasks", "changes", "warnings", "requests", "retries", "error"],
                                     rows: manifest.results.map { result in
                let summary = result.summary
                return Markup.element("tr", Markup.cell(result.customer), Markup.element("td", Markup.badge(result.status.rawValue)),
                                      Markup.cell(summary.map { "\($0.workflows)" } ?? "-", Markup.cls("num")),
                                      Markup.cell(summary.map { "\($0.tasks)" } ?? "-", Markup.cls("num")),
                                      Markup.cell(summary.map { "\($0.changes.count)" } ?? "-", Markup.cls("num")),
                                      Markup.cell(summary.map { "\($0.warnings)" } ?? "-", Markup.cls("num")),
                                      Markup.cell(summary.map { "\($0.requests.requests)" } ?? "-", Markup.cls("num")),
                                      Markup.cell(summary.map { "\($0.requests.retries)" } ?? "-", Markup.cls("num")),
                                      Markup.cell(result.error.map { (result.failedStage.map { "\($0): " } ?? "") + $0 } ?? ""))
            }))
            let stages = StageInspection.collect(run: manifest, dataDirectory: dataDirectory, customer: nil, stage: nil)
            body.append(Markup.element("details",
                Markup.element("summary", Markup.text("stages (\(stages.count))")),
                Markup.table(headers: ["customer", "stage", "status", "time", "counts", "warnings"], rows: stages.map { stage in
                    Markup.element("tr", Markup.cell(stage.customer), Markup.cell(stage.stage), Markup.element("td", Markup.badge(stage.status)),
                                   Markup.cell(stage.durationMilliseconds.map { RunSummaryFormatter.duration(milliseconds: $0) } ?? "-"),
                                   Markup.cell(stage.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")),
                                   Markup.element("td", stage.warnings.isEmpty ? .empty
                                                  : Markup.element("ul", stage.warnings.prefix(20).map { Markup.element("li", Markup.text($0)) })))
                })))
        }
        return Markup.page(title: "Runs — zuora-sync report", root: "", generatedAt: generatedAt, body: body)
    }
}
