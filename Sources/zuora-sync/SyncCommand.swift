import ArgumentParser
import Foundation
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncHTTP
import ZuoraSyncJobs
import ZuoraSyncMock
import ZuoraSyncStages
import ZuoraSyncStore

/// The original tool's command: `sync --all | --customer NAME [--sync]`.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Queue a sync job per customer (the original command); with --sync, run them now instead.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Every customer.") var all = false
    @Option(name: .customLong("customer"), help: "A customer id or its (unique) name; repeatable.") var customers: [String] = []
    @Flag(name: .customLong("sync"), help: "Run now in this process instead of queueing.") var runNow = false
    @OptionGroup var display: DisplayOptions
    @Option(help: "Pipeline file.") var pipeline = "pipelines/sync-workflows.yaml"

    func validate() throws {
        guard all != !customers.isEmpty else { throw ValidationError("Choose --all or one or more --customer NAME.") }
    }

    func run() async throws {
        global.bootstrapLogging()
        do {
            let definition = try PipelineLoader.load(path: pipeline, registry: BuiltInStages.registry)
            let selected = try CustomerSelection.select(all: all, ids: customers, from: global.loadCustomers(), matchNames: true)
            if selected.isEmpty {
                FileHandle.standardError.write(Data("warning: the customers file lists no customer; nothing to sync.\n".utf8))
                return
            }
            if runNow {
                try await RunReport.runNow(global, definition: definition, pipelinePath: pipeline, customers: selected,
                                           options: RunOptions(), json: false, display: display)
                return
            }
            let queue = try global.jobQueue()
            // An absolute path, so a worker started elsewhere (cron) finds the pipeline.
            let pipelinePath = URL(fileURLWithPath: pipeline).standardizedFileURL.path
            for customer in selected {
                if let job = try queue.enqueue(pipelinePath: pipelinePath, customer: customer.id, settings: definition.jobs, now: SystemClock().now()) {
                    print("queued \(job.id) (\(customer.id))")
                } else {
                    print("already queued: \(customer.id)")
                }
            }
            print("Run `zuora-sync work --stop-when-empty` (or a worker/cron) to process the queue.")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}

struct WorkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "work", abstract: "Run queued jobs (retries per the pipeline's jobs: policy). Stops cleanly on SIGINT/SIGTERM.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customLong("stop-when-empty"), help: "Exit when no job is waiting or running.") var stopWhenEmpty = false
    @Option(name: .customLong("max-jobs"), help: "Exit after this many jobs.") var maxJobs: Int?
    @Option(help: "Jobs at once.") var concurrency = 1
    @Option(name: .customLong("lease-seconds"), help: "Override jobs.lease_seconds.") var leaseSeconds: Double?
    @Flag(help: "Print one JSON event per line (same as --events); the job lines are not printed.") var json = false
    @OptionGroup var display: DisplayOptions

    func run() async throws {
        global.bootstrapLogging()
        let isJSON = json || display.events
        let worker = try WorkCommand.makeWorker(global, leaseSeconds: leaseSeconds, events: display.sink(json: isJSON, global: global))
        let (stopWhenEmpty, maxJobs, concurrency) = (stopWhenEmpty, maxJobs, concurrency)
        let summary = try await Signals.cancellingOnSignal {
            try await worker.work(stopWhenEmpty: stopWhenEmpty, maxJobs: maxJobs, concurrency: concurrency, shouldStop: Signals.shouldStop)
        }
        for job in summary.processed where !isJSON {
            print("\(job.id)  \(job.customer)  \(job.state.rawValue)  attempt \(job.attempts)/\(job.maxAttempts)\(job.lastError.map { "  \($0)" } ?? "")")
        }
        if let status = Signals.exitStatus {
            FileHandle.standardError.write(Data("Stopped by a signal; interrupted jobs are back in the queue and resume their runs.\n".utf8))
            throw ExitCode(status)
        }
        if summary.processed.contains(where: { $0.state == .failed }) { throw ExitCode(ExitCodes.customerFailed) }
    }

    static func makeWorker(_ global: GlobalOptions, leaseSeconds: Double?, events: any RunEventSink = NoRunEvents()) throws -> Worker {
        let customersPath = global.customersPath
        let fixtures = global.fixturesDirectory
        var worker = Worker(dataDirectory: global.dataDirectory,
                            makeTransport: { [environment = global.environment] http in GlobalOptions.makeTransport(http: http, fixtures: fixtures, environment: environment) },
                            logger: global.logger, loadCustomers: { try CustomersLoader.load(path: customersPath) })
        worker.leaseSeconds = leaseSeconds
        worker.events = events
        worker.storeLocation = try global.storeLocation()
        worker.queue = try global.jobQueue()
        return worker
    }
}
