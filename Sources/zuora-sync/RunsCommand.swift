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

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List runs, newest first; prune them by the retention policy.",
        subcommands: [List.self, Prune.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List runs, newest first.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let listing = global.dataDirectory.manifestListing()
            let manifests = listing.items
            for problem in listing.problems {
                FileHandle.standardError.write(Data("warning: unreadable run: \(problem)\n".utf8))
            }
            if json {
                FileHandle.standardOutput.write(try CanonicalJSON.encode(manifests))
            } else if manifests.isEmpty {
                print("No runs in \(global.dataDirectory.root.path) yet. Start one with `zuora-sync run --all`.")
            } else {
                print(RunSummaryFormatter.runs(manifests))
            }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the pipeline's retention: policy to runs/ now (it also runs after each run).",
            discussion: "Keeps the newest keep_last runs, every run of the last keep_days, each customer's last successful and last failed run, and unfinished runs. Then removes objects nothing refers to.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Pipeline file whose retention: applies.") var pipeline = "pipelines/sync-workflows.yaml"
        @Flag(name: .customLong("dry-run"), help: "List what would be pruned, change nothing.") var dryRun = false
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let definition = try PipelineLoader.load(path: pipeline, registry: BuiltInStages.registry)
            let retention = RunRetention(dataDirectory: global.dataDirectory, settings: definition.retention, pipelineName: definition.name)
            let decisions = retention.decisions()
            let doomed = decisions.filter { $0.keptBecause == nil }
            if !dryRun { try retention.prune() }
            var collected: ObjectCollector.Report?
            if !dryRun, !doomed.isEmpty, try global.storeExists() {
                collected = try ObjectCollector(dataDirectory: global.dataDirectory).collect(store: try global.openStore())
            }
            if json {
                struct Output: Encodable { var pruned: [String]; var kept: [String: String]; var dryRun: Bool; var objects: ObjectCollector.Report? }
                FileHandle.standardOutput.write(try CanonicalJSON.encode(Output(
                    pruned: doomed.map(\.manifest.id),
                    kept: Dictionary(uniqueKeysWithValues: decisions.compactMap { d in d.keptBecause.map { (d.manifest.id, $0) } }),
                    dryRun: dryRun, objects: collected)))
                return
            }
            print(RunSummaryFormatter.table(["run", "status", "started", dryRun ? "would be" : "now"], decisions.map { decision in
                [decision.manifest.id, decision.manifest.observedStatus().rawValue, Timestamp.format(decision.manifest.startedAt),
                 decision.keptBecause.map { "kept: \($0)" } ?? (dryRun ? "pruned" : "pruned")]
            }))
            print("\n\(doomed.count) run(s) \(dryRun ? "would be pruned (dry run, nothing changed)" : "pruned")"
                  + (collected.map { "; \($0.removed) unreferenced object(s) removed (\($0.bytesRemoved) bytes)" } ?? "") + ".")
        }
    }
}

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Remove objects (objects/) that no kept run's state and no stored export refers to.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .customLong("dry-run"), help: "Count, remove nothing.") var dryRun = false

    func run() throws {
        guard try global.storeExists() else {
            print("No store in \(global.dataDirectory.root.path) yet: nothing to collect.")
            return
        }
        let report = try ObjectCollector(dataDirectory: global.dataDirectory).collect(store: try global.openStore(), dryRun: dryRun)
        print("\(report.kept) object(s) kept, \(report.removed) \(dryRun ? "would be removed" : "removed") (\(report.bytesRemoved) bytes).")
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show per customer and stage: status, counts, warnings, timings and where the files are.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Run id (default: the newest run).") var runID: String?
    @Option(help: "Only this customer.") var customer: String?
    @Option(help: "Only this stage id.") var stage: String?
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        do {
            let directory = global.dataDirectory
            let manifest: RunManifest
            if let runID {
                manifest = try directory.loadManifest(runID)
            } else {
                guard let newest = directory.manifests().first else {
                    throw ValidationError("No runs in \(directory.root.path) yet. Start one with `zuora-sync run --all`.")
                }
                manifest = newest
            }
            if let customer, !manifest.customers.contains(customer) {
                throw ValidationError("Run \(manifest.id) has no customer '\(customer)'; it has: \(manifest.customers.joined(separator: ", ")).")
            }
            if let stage, !manifest.pipeline.stages.contains(where: { $0.id == stage }) {
                throw ValidationError("Run \(manifest.id) has no stage '\(stage)'; it has: \(manifest.pipeline.stages.map(\.id).joined(separator: ", ")).")
            }
            let inspections = StageInspection.collect(run: manifest, dataDirectory: directory, customer: customer, stage: stage)
            if json {
                FileHandle.standardOutput.write(try CanonicalJSON.encode(InspectOutput(manifest, stages: inspections)))
            } else {
                print("Run \(manifest.id) (\(manifest.pipelineName)): \(manifest.status.rawValue), pass \(manifest.passes)", terminator: "")
                print(StageInspection.render(inspections))
            }
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}

/// `inspect --json`: the run (id, status, per customer result with a failed stage's error) and its stages.
struct InspectOutput: Encodable {
    struct Customer: Encodable {
        var customer: String
        var status: String
        var failedStage: String?
        var error: String?
        var isRetryable: Bool?
    }
    var run: String
    var pipeline: String
    var status: String
    var passes: Int
    var isDryRun: Bool
    var startedAt: Date
    var finishedAt: Date?
    var customers: [Customer]
    var stages: [StageInspection]

    init(_ manifest: RunManifest, stages: [StageInspection]) {
        run = manifest.id
        pipeline = manifest.pipelineName
        status = manifest.observedStatus().rawValue
        passes = manifest.passes
        isDryRun = manifest.options.dryRun
        startedAt = manifest.startedAt
        finishedAt = manifest.finishedAt
        customers = manifest.results.map {
            Customer(customer: $0.customer, status: $0.status.rawValue, failedStage: $0.failedStage, error: $0.error, isRetryable: $0.isRetryable)
        }
        self.stages = stages
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pipeline file and the customers file without running anything.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Pipeline file.") var pipeline = "pipelines/sync-workflows.yaml"

    func run() throws {
        do {
            let definition = try PipelineLoader.load(path: pipeline, registry: BuiltInStages.registry)
            let customers = try global.loadCustomers()
            print("\(pipeline): ok — \(definition.stages.count) stages: \(definition.stages.map(\.id).joined(separator: " → "))")
            print("\(global.customersPath): ok — \(customers.count) customer(s): \(customers.map(\.id).joined(separator: ", "))")
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}

struct FixturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixtures", abstract: "Fixture tenants for the mock Zuora.", subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the demo tenants (reproducible byte for byte).")
        @Option(help: "Output directory.") var out = "fixtures/demo"
        @Option(help: "Instead of the demo tenants, write one large tenant 'bulk' with this many workflows (benchmarks).")
        var bulk: Int?

        func run() throws {
            let directory = URL(fileURLWithPath: out, isDirectory: true)
            let count = try bulk.map { try FixtureGenerator.writeBulk(to: directory, name: "bulk", workflows: $0) }
                ?? FixtureGenerator.writeDemo(to: directory)
            print("Wrote \(count) files under \(out)")
        }
    }
}
