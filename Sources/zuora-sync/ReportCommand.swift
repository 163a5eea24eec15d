import ArgumentParser
import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncReport
import ZuoraSyncStore

/// `report [RUN] [--out DIR]`: writes the static HTML report (overview, jobs, runs, a page per
/// customer and per workflow with its task graph) from the store and the run files.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the static HTML report (default: report/index.html in the data directory); open it in any browser, offline.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The run whose changes the overview shows (default: the newest).") var runID: String?
    @Option(help: "Output folder (default: <data-dir>/report).") var out: String?

    func run() throws {
        let data = global.dataDirectory
        guard try global.storeExists() else {
            throw FileError(path: data.storeFile.path, message: "no store here yet: sync first (zuora-sync run --all), then write the report.",
                            isUsageError: true)
        }
        if let runID { _ = try data.loadManifest(runID) }
        let output = out.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? data.report
        let writer = ReportWriter(dataDirectory: data, output: output, environment: global.environment)
        let summary = try writer.write(store: try global.openStore(), runID: runID)
        print("Report written: \(summary.index) (\(summary.pages) pages, \(summary.workflows) workflows; graphs by \(writer.graphRenderers.first?.name ?? "-"))")
    }
}
