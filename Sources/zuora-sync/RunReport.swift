import ArgumentParser
import Foundation
import ZuoraSyncKit

/// Runs a pipeline in this process and prints the result: shared by `run` and `sync --sync`.
enum RunReport {
    /// Starts a run, prints it, and exits 1 when a customer failed.
    static func runNow(_ global: GlobalOptions, definition: PipelineDefinition, pipelinePath: String,
                       customers: [CustomerConfig], options: RunOptions, json: Bool) async throws {
        let runner = PipelineRunner(dataDirectory: global.dataDirectory, transport: global.makeTransport(http: definition.http),
                                    logger: global.logger)
        let manifest = try await runner.start(pipeline: definition, pipelinePath: pipelinePath, customers: customers, options: options)
        try print(manifest, dataDirectory: global.dataDirectory, json: json)
        if manifest.status != .succeeded { throw ExitCode(ExitCodes.customerFailed) }
    }

    /// Prints a finished run: the table (stdout) or the manifest as JSON.
    static func print(_ manifest: RunManifest, dataDirectory: DataDirectory, json: Bool) throws {
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(manifest))
        } else {
            Swift.print(RunSummaryFormatter.summary(manifest, dataDirectory: dataDirectory), terminator: "")
        }
    }
}
