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

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed in a customer's workflows between two runs (default: its last two) or two snapshot directories.",
        discussion: """
            zuora-sync diff --customer acme                 last two finished runs of acme
            zuora-sync diff --customer acme RUN-A RUN-B     two given runs
            zuora-sync diff old/snapshots/acme data/snapshots/acme   two snapshot directories
            Canvas positions, version ids and run state are ignored.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Customer id (default: every customer of the newest run).") var customer: String?
    @Argument(help: "Older run id or snapshot directory.") var a: String?
    @Argument(help: "Newer run id or snapshot directory.") var b: String?
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        do {
            let directory = global.dataDirectory
            var blocks: [(title: String, changes: [WorkflowChange])] = []
            var isDirectoryPair = false
            if let a, b != nil {
                var isDirectory: ObjCBool = false
                isDirectoryPair = FileManager.default.fileExists(atPath: a, isDirectory: &isDirectory) && isDirectory.boolValue
            }
            if isDirectoryPair, let a, let b {
                let changes = WorkflowDiff.compare(before: try StateComparison.side(snapshotDirectory: URL(fileURLWithPath: a)),
                                                   after: try StateComparison.side(snapshotDirectory: URL(fileURLWithPath: b)))
                blocks.append(("\(a) → \(b)", changes))
            } else {
                let customers: [String]
                if let customer {
                    customers = [customer]
                } else if let newest = directory.manifests().first {
                    customers = newest.customers
                } else {
                    throw ValidationError("No runs in \(directory.root.path) yet.")
                }
                let objects = ObjectStore(dataDirectory: directory.root)
                for slug in customers {
                    let (older, newer) = try StateComparison.states(customer: slug, runA: a, runB: b, in: directory)
                    let changes = WorkflowDiff.compare(before: try StateComparison.side(older, objects: objects),
                                                       after: try StateComparison.side(newer, objects: objects))
                    blocks.append(("\(slug): \(older.runID) → \(newer.runID)", changes))
                }
            }
            if json {
                struct Block: Encodable { var title: String; var changes: [WorkflowChange] }
                FileHandle.standardOutput.write(try CanonicalJSON.encode(blocks.map { Block(title: $0.title, changes: $0.changes) }))
            } else {
                print(blocks.map { WorkflowDiff.render($0.changes, title: $0.title) }.joined(separator: "\n"), terminator: "")
            }
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}
