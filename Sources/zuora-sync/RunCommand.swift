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

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start a sync run of a pipeline for some or all customers and print its summary.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Pipeline file.") var pipeline = "pipelines/sync-workflows.yaml"
    @Flag(help: "Every customer in the customers file.") var all = false
    @Option(name: .customLong("customer"), help: "A customer id (repeatable).") var customers: [String] = []
    @OptionGroup var runOptions: RunOptionFlags
    @Flag(help: "Print one JSON event per line instead of the table (same as --events).") var json = false
    @OptionGroup var display: DisplayOptions

    func validate() throws {
        guard all != !customers.isEmpty else { throw ValidationError("Choose --all or one or more --customer ID.") }
    }

    func run() async throws {
        global.bootstrapLogging()
        do {
            let definition = try PipelineLoader.load(path: pipeline, registry: BuiltInStages.registry)
            let selected = try CustomerSelection.select(all: all, ids: customers, from: global.loadCustomers())
            try await RunReport.runNow(global, definition: definition, pipelinePath: pipeline, customers: selected,
                                       options: runOptions.options, json: json, display: display)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}

struct RunOptionFlags: ParsableArguments {
    @Flag(help: "Download every export, changed or not.") var full = false
    @Flag(name: .customLong("dry-run"), help: "Fetch and compare, report what would change, change nothing outside the run directory.")
    var dryRun = false
    @Flag(name: .customLong("allow-mass-delete"), help: "Let cleanup delete more than max_delete_fraction / max_delete_count.")
    var allowMassDelete = false

    var options: RunOptions { RunOptions(full: full, dryRun: dryRun, allowMassDelete: allowMassDelete) }
}

/// Picks customers by id (or, for `sync --customer`, by id or unique name).
enum CustomerSelection {
    static func select(all: Bool, ids: [String], from customers: [CustomerConfig], matchNames: Bool = false) throws -> [CustomerConfig] {
        if all { return customers }
        var seen = Set<String>()
        return try ids.map { wanted -> CustomerConfig in
            if let match = customers.first(where: { $0.id == wanted }) { return match }
            if matchNames {
                let byName = customers.filter { $0.name.caseInsensitiveCompare(wanted) == .orderedSame }
                if byName.count == 1 { return byName[0] }
                if byName.count > 1 {
                    throw ValidationError("The name '\(wanted)' matches several customers: "
                        + byName.map { "\($0.id) (\($0.name))" }.joined(separator: ", ") + ". Use the id.")
                }
            }
            let known = customers.map(\.id).joined(separator: ", ")
            throw ValidationError("No customer '\(wanted)' in the customers file. Known ids: \(known.isEmpty ? "none" : known).")
        }.filter { seen.insert($0.id).inserted }
    }
}
