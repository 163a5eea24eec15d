import ArgumentParser
import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine

/// `changes [RUN] [--customer ID] [--json]`: every workflow a run created, updated or deleted (or,
/// for a dry run, would have); the run summary lists the first 20 and points here.
struct ChangesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes",
        abstract: "List every workflow a run created, updated or deleted (a dry run: would have).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Run id (default: the newest run).") var runID: String?
    @Option(help: "Only this customer.") var customer: String?
    @Flag(help: "JSON output.") var json = false

    /// `--json`: the run and its changes.
    struct Output: Encodable {
        var run: String
        var status: String
        var isDryRun: Bool
        var changes: [RunChange]
    }

    func run() throws {
        let directory = global.dataDirectory
        let manifest = try Self.loadRun(runID, in: directory)
        if let customer, !manifest.customers.contains(customer) {
            throw ValidationError("Run \(manifest.id) has no customer '\(customer)'; it has: \(manifest.customers.joined(separator: ", ")).")
        }
        let changes = RunChange.all(in: manifest, customer: customer)
        if json {
            let output = Output(run: manifest.id, status: manifest.observedStatus().rawValue, isDryRun: manifest.options.dryRun, changes: changes)
            FileHandle.standardOutput.write(try CanonicalJSON.encode(output))
            return
        }
        let verb = manifest.options.dryRun ? "would change" : "changed"
        print("Run \(manifest.id) \(verb) \(changes.count) workflow(s)" + (customer.map { " of \($0)" } ?? "") + (changes.isEmpty ? "." : ":"))
        guard !changes.isEmpty else { return }
        print(RunSummaryFormatter.table(["customer", "action", "workflow", "name"],
                                        changes.map { [$0.customer, $0.action.rawValue, "\($0.workflowID)", $0.name] }))
    }

    /// The given run, or the newest; a usage error when there is none.
    static func loadRun(_ runID: String?, in directory: DataDirectory) throws -> RunManifest {
        if let runID { return try directory.loadManifest(runID) }
        guard let newest = directory.manifests().first else {
            throw ValidationError("No runs in \(directory.root.path) yet. Start one with `zuora-sync run --all`.")
        }
        return newest
    }
}
