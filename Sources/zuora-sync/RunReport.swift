import ArgumentParser
import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncJobs
import ZuoraSyncStages
import ZuoraSyncStore

/// Runs a pipeline in this process and prints the result: shared by `run`, `resume` and `sync --sync`.
enum RunReport {
    /// Starts a run, prints it, and exits 1 when a customer failed (130/143 when a signal stopped it).
    static func runNow(_ global: GlobalOptions, definition: PipelineDefinition, pipelinePath: String,
                       customers: [CustomerConfig], options: RunOptions, json: Bool, display: DisplayOptions) async throws {
        let runner = try makeRunner(global, http: definition.http, events: display.sink(json: json, global: global))
        let manifest = try await Signals.cancellingOnSignal {
            try await runner.start(pipeline: definition, pipelinePath: pipelinePath, customers: customers, options: options)
        }
        try finish(manifest, global: global, json: json || display.events, store: runner.openedStore.store)
    }

    /// Resumes a run and reports it like `runNow`.
    static func resume(_ global: GlobalOptions, runID: String?, json: Bool, display: DisplayOptions) async throws {
        let customers = try global.loadCustomers()
        let probe = try makeRunner(global, http: HTTPSettings())
        let target = try probe.runToResume(runID)
        let runner = try makeRunner(global, http: target?.pipeline.http ?? HTTPSettings(), events: display.sink(json: json, global: global))
        let manifest = try await Signals.cancellingOnSignal { try await runner.resume(runID: runID, customers: customers) }
        try finish(manifest, global: global, json: json || display.events, store: runner.openedStore.store)
    }

    static func makeRunner(_ global: GlobalOptions, http: HTTPSettings, events: any RunEventSink = NoRunEvents()) throws -> PipelineRunner {
        var runner = PipelineRunner(dataDirectory: global.dataDirectory, registry: BuiltInStages.registry, transport: global.makeTransport(http: http),
                                    logger: global.logger, environment: global.environment, events: events)
        runner.storeLocation = try global.storeLocation()
        return runner
    }

    /// `store`: the one the run used, whose connections the metrics file's job queue reuses.
    private static func finish(_ manifest: RunManifest, global: GlobalOptions, json: Bool, store: Store?) throws {
        // A dry run changes nothing outside its run directory, the metrics file included.
        if !manifest.options.dryRun {
            let isPostgreSQL = (try? global.storeLocation().isPostgreSQL) == true
            let queue: (any JobQueueing)? = !isPostgreSQL ? nil : store.map { PostgresJobQueue(store: $0) } ?? (try? global.jobQueue())
            do { try MetricsFile.write(dataDirectory: global.dataDirectory, customers: (try? global.loadCustomers().map(\.id)) ?? [],
                                       queue: queue) } catch {
                global.logger.warning("metrics.write_failed", metadata: ["file": "\(global.dataDirectory.metricsFile.path)", "error": "\(error)"])
            }
        }
        try print(manifest, dataDirectory: global.dataDirectory, store: (try? global.storeLocation()) ?? .sqlite(path: nil), json: json)
        if manifest.status == .interrupted {
            FileHandle.standardError.write(Data("Interrupted. Finish the run with: zuora-sync resume \(manifest.id)\n".utf8))
            throw ExitCode(Signals.exitStatus ?? ExitCodes.customerFailed)
        }
        if manifest.status != .succeeded { throw ExitCode(ExitCodes.customerFailed) }
    }

    /// Prints a finished run: the table (stdout); with `--json`/`--events` the event lines
    /// already said everything, ending with `run.finished`.
    static func print(_ manifest: RunManifest, dataDirectory: DataDirectory, store: StoreLocation, json: Bool) throws {
        if !json {
            Swift.print(RunSummaryFormatter.summary(manifest, dataDirectory: dataDirectory, store: store), terminator: "")
        }
    }
}
