import ArgumentParser
import Foundation
import ZuoraSyncKit

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a run (default: the newest unfinished one), skipping what already committed.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Run id (see `zuora-sync runs`).") var runID: String?
    @Flag(help: "Print the run manifest as JSON.") var json = false

    func run() async throws {
        global.bootstrapLogging()
        do {
            if runID == nil, !global.dataDirectory.manifests().contains(where: { $0.status != .succeeded }) {
                print("Nothing to resume: every run in \(global.dataDirectory.root.path) finished.")
                return
            }
            let customers = try global.loadCustomers()
            let target = try runID.map { try global.dataDirectory.loadManifest($0) }
                ?? global.dataDirectory.manifests().first { $0.status != .succeeded }
            let http = target?.pipeline.http ?? HTTPSettings()
            let runner = PipelineRunner(dataDirectory: global.dataDirectory, transport: global.makeTransport(http: http), logger: global.logger)
            let manifest = try await runner.resume(runID: runID, customers: customers)
            try RunReport.print(manifest, dataDirectory: global.dataDirectory, json: json)
            if manifest.status != .succeeded { throw ExitCode(ExitCodes.customerFailed) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}
