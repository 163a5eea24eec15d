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

struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "The job queue: list, show, retry, forget, prune.",
        subcommands: [List.self, Show.self, Retry.self, Forget.self, Prune.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "waiting, running, failed or done.") var state: Job.State?
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let listing = try global.jobQueue().listing(in: state)
            for problem in listing.problems {
                FileHandle.standardError.write(Data("warning: unreadable job: \(problem)\n".utf8))
            }
            let jobs = listing.items
            if json { FileHandle.standardOutput.write(try CanonicalJSON.encode(jobs)); return }
            guard !jobs.isEmpty else { print("No jobs\(state.map { " in state \($0.rawValue)" } ?? "").") ; return }
            print(RunSummaryFormatter.table(["job", "customer", "state", "attempts", "next", "run", "last error"], jobs.map { job in
                [job.id, job.customer, job.state.rawValue, "\(job.attempts)/\(job.maxAttempts)",
                 job.state == .waiting ? Timestamp.format(job.notBefore) : "-", job.runID ?? "-",
                 String((job.lastError ?? "").prefix(60))]
            }))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One job in full.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: String

        func run() throws {
            guard let job = try global.jobQueue().find(id) else {
                throw ExitCodes.fail(ValidationError("No job '\(id)'; see `zuora-sync jobs`."))
            }
            FileHandle.standardOutput.write(try CanonicalJSON.encode(job))
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put failed jobs back in the queue.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: String?
        @Flag(name: .customLong("all-failed")) var allFailed = false

        func validate() throws {
            guard (id != nil) != allFailed else { throw ValidationError("Give a job id or --all-failed.") }
        }

        func run() throws {
            let queue = try global.jobQueue()
            let ids = allFailed ? queue.jobs(in: .failed).map(\.id) : [id!]
            do {
                for id in ids { print("queued again: \(try queue.retry(id, now: SystemClock().now()).id)") }
            } catch { throw ExitCodes.fail(error) }
        }
    }

    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a job that is not running.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: String

        func run() throws {
            do { try global.jobQueue().forget(id) } catch { throw ExitCodes.fail(error) }
            print("forgot \(id)")
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove done and failed jobs older than a duration (7d).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("older-than")) var olderThan = "7d"

        func run() throws {
            guard let seconds = DurationText.seconds(olderThan) else { throw ValidationError("--older-than takes 7d, 12h, 30m or 90s.") }
            print("Pruned \(try global.jobQueue().prune(olderThan: SystemClock().now().addingTimeInterval(-seconds))) job(s).")
        }
    }
}

extension Job.State: ExpressibleByArgument {}

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Enqueue syncs on each pipeline's cron schedule.",
        subcommands: [RunDue.self, List.self, Work.self])

    static func pipelines(_ paths: [String]) throws -> [(path: String, definition: PipelineDefinition)] {
        let files = paths.isEmpty
            ? ((try? FileManager.default.contentsOfDirectory(atPath: "pipelines")) ?? []).filter { $0.hasSuffix(".yaml") }.sorted().map { "pipelines/\($0)" }
            : paths
        // Absolute paths: the same key as `sync` uses, and found by a worker started elsewhere.
        return try files.map { (URL(fileURLWithPath: $0).standardizedFileURL.path, try PipelineLoader.load(path: $0, registry: BuiltInStages.registry)) }
    }

    struct RunDue: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Enqueue what is due (call from cron every minute).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("pipeline"), help: "Pipeline files (default: pipelines/*.yaml).") var pipelines: [String] = []

        func run() throws {
            do {
                let jobs = try Scheduler(dataDirectory: global.dataDirectory, queue: try global.jobQueue())
                    .runDue(pipelines: try ScheduleCommand.pipelines(pipelines), customers: try global.loadCustomers())
                for job in jobs { print("queued \(job.id) (\(job.customer))") }
                if jobs.isEmpty { print("Nothing due.") }
            } catch { throw ExitCodes.fail(error) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each pipeline's schedule and next due time.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("pipeline")) var pipelines: [String] = []
        @Flag(help: "JSON output.") var json = false

        /// `--json`: one entry per pipeline.
        struct Entry: Encodable {
            var pipeline: String
            var schedule: String
            var nextRun: Date?
            var lastEnqueuedSlot: Date?
        }

        func run() throws {
            do {
                let plans = try Scheduler(dataDirectory: global.dataDirectory, queue: try global.jobQueue()).plans(pipelines: try ScheduleCommand.pipelines(pipelines))
                if json {
                    let entries = plans.map { Entry(pipeline: $0.pipelinePath, schedule: $0.schedule, nextRun: $0.nextRun, lastEnqueuedSlot: $0.lastEnqueuedSlot) }
                    FileHandle.standardOutput.write(try CanonicalJSON.encode(entries))
                    return
                }
                print(RunSummaryFormatter.table(["pipeline", "schedule", "next due (UTC)", "last enqueued"], plans.map {
                    [$0.pipelinePath, $0.schedule, $0.nextRun.map(Timestamp.format) ?? "-", $0.lastEnqueuedSlot.map(Timestamp.format) ?? "never"]
                }))
            } catch { throw ExitCodes.fail(error) }
        }
    }

    struct Work: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Scheduler and worker in the foreground (no cron needed); SIGINT/SIGTERM stop it.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("pipeline")) var pipelines: [String] = []
        @Option(help: "Jobs at once.") var concurrency = 1

        func run() async throws {
            global.bootstrapLogging()
            Signals.installStopHandlers()
            let scheduler = Scheduler(dataDirectory: global.dataDirectory, queue: try global.jobQueue())
            let worker = try WorkCommand.makeWorker(global, leaseSeconds: nil)
            print("Scheduler and worker running; Ctrl-C to stop.")
            while !Signals.shouldStop() {
                do {
                    for job in try scheduler.runDue(pipelines: try ScheduleCommand.pipelines(pipelines), customers: try global.loadCustomers()) {
                        print("queued \(job.id) (\(job.customer))")
                    }
                } catch {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                }
                // Work until nothing is waiting, then check the schedule again.
                // A signal cancels the job in progress too (its run is marked interrupted and the
                // job goes back to the queue), as with `work`.
                let concurrency = concurrency
                let summary = try await Signals.cancellingOnSignal {
                    try await worker.work(stopWhenEmpty: true, concurrency: concurrency, shouldStop: Signals.shouldStop)
                }
                for job in summary.processed { print("\(job.id)  \(job.customer)  \(job.state.rawValue)") }
                for _ in 0..<20 where !Signals.shouldStop() { try await SystemClock().sleep(seconds: 1) }
            }
            print("Stopped.")
            if let status = Signals.exitStatus { throw ExitCode(status) }
        }
    }
}

struct CustomersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers", abstract: "The configured customers: list, validate.", subcommands: [List.self, Validate.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Id, name, base URL, last sync and result.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "JSON output.") var json = false

        /// `--json`: one entry per customer (no secret, only where it comes from).
        struct Entry: Encodable {
            var id: String
            var name: String
            var baseURL: String
            var lastSyncedAt: String?
            var lastResult: String?
        }

        func run() throws {
            do {
                let customers = try global.loadCustomers()
                let store: Store? = try global.storeLocation().isPostgreSQL ? try global.openStore()
                    : FileManager.default.fileExists(atPath: global.dataDirectory.storeFile.path) ? try Store(readingOnly: global.dataDirectory.storeFile) : nil
                let status = try store?.customerStatuses() ?? [:]
                if json {
                    let entries = customers.map {
                        Entry(id: $0.id, name: $0.name, baseURL: $0.baseURL.absoluteString, lastSyncedAt: status[$0.id]?.lastSyncedAt,
                              lastResult: status[$0.id]?.lastResult)
                    }
                    FileHandle.standardOutput.write(try CanonicalJSON.encode(entries))
                    return
                }
                print(RunSummaryFormatter.table(["id", "name", "base url", "last sync", "last result"], customers.map { customer in
                    [customer.id, customer.name, customer.baseURL.absoluteString, status[customer.id]?.lastSyncedAt ?? "never", status[customer.id]?.lastResult ?? "-"]
                }))
            } catch { throw ExitCodes.fail(error) }
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Request a real token for each customer (the connection test).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id (default: all).") var id: String?
        @Flag(help: "JSON output.") var json = false

        /// `--json`: one entry per customer.
        struct Entry: Encodable {
            var id: String
            var isOK: Bool
            var message: String
        }

        func run() async throws {
            global.bootstrapLogging()
            var failed = false
            do {
                let customers = try CustomerSelection.select(all: id == nil, ids: id.map { [$0] } ?? [], from: global.loadCustomers())
                let transport = global.makeTransport(http: HTTPSettings())
                var entries: [Entry] = []
                for customer in customers {
                    let verdict = await ConnectionCheck.check(customer, transport: transport, environment: global.environment, logger: global.logger)
                    failed = failed || !verdict.isOK
                    entries.append(Entry(id: customer.id, isOK: verdict.isOK, message: verdict.message))
                    if !json { print("\(customer.id): \(verdict.isOK ? "ok" : "FAILED") — \(verdict.message)") }
                }
                if json { FileHandle.standardOutput.write(try CanonicalJSON.encode(entries)) }
            } catch { throw ExitCodes.fail(error) }
            if failed { throw ExitCode(ExitCodes.customerFailed) }
        }
    }
}
